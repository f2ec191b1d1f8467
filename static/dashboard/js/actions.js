// The voucher actions of the 券记录 tab (owner): 作废, 冻结 / 解冻, 补发. Each is confirmed in a sheet
// that says what it does, then the row shows the new state and the voucher's history shows the action.
import { gettext, interpolate } from "../../staff/js/i18n.js";
import { copy, groupCode } from "./issuing.js";
import { esc } from "./render.js";

export const ACTIONS = {
  void: {
    label: () => gettext("Void"), reason: true, hint: () => gettext("e.g. refunded on the platform"),
    warning: () => gettext("Once voided the voucher stops working at once; this cannot be undone."),
  },
  freeze: {
    label: () => gettext("Freeze"),
    warning: () => gettext("While frozen the voucher cannot be redeemed; unfreeze it to make it work again."),
  },
  unfreeze: { label: () => gettext("Unfreeze"), warning: () => gettext("The voucher can be redeemed again.") },
  reissue: {
    label: () => gettext("Reissue"), reason: true, optional: true, hint: () => gettext("Optional, e.g. the buyer lost the message"),
    warning: () => gettext("This code stops working at once and a new code is issued for the same order with the uses left."),
  },
};

// What can still be done to a voucher in this state: a voided one is done with; a used-up or
// expired one has nothing left to freeze or reissue, but a refund may still void it.
export function actionsFor(status) {
  if (status === "active") return ["void", "freeze", "reissue"];
  if (status === "frozen") return ["void", "unfreeze", "reissue"];
  if (status === "redeemed" || status === "expired") return ["void"];
  return [];
}

export function actionButtons(voucher) {
  return actionsFor(voucher.status).map((name) =>
    '<button type="button" class="act act-' + name + '" data-act="' + name + '" data-id="' + voucher.id + '">' +
    esc(ACTIONS[name].label()) + "</button>").join("");
}

// One line of the history: when, what, and the facts that came with it.
export function historyLine(event, titles) {
  const facts = [];
  if (event.staff) facts.push(event.staff.display_name);
  if (event.store) facts.push(event.store.name);
  if (event.new_code_masked) facts.push(interpolate(gettext("new code %(code)s"), { code: event.new_code_masked }, true));
  if (event.reason && event.type !== "refused") facts.push(interpolate(gettext("reason: %(reason)s"), event, true));
  return { at: (event.at || "").slice(0, 16).replace("T", " "), title: titles[event.type] || event.type, facts: facts.join(" · ") };
}

export function createVoucherActions({ config, get, post, onChanged }) {
  const $ = (id) => document.getElementById(id);
  let pending = null;

  function open(name, id, code) {
    pending = { name, id };
    const action = ACTIONS[name];
    $("sheet-title").textContent = interpolate(gettext("%(action)s voucher %(code)s?"), { action: action.label(), code }, true);
    $("sheet-warning").textContent = action.warning();
    $("sheet-reason-row").hidden = !action.reason;
    $("sheet-reason").value = "";
    $("sheet-reason").placeholder = action.hint ? action.hint() : "";
    $("sheet-error").hidden = true;
    $("sheet-confirm").textContent = action.label();
    $("sheet-confirm").className = "sheet-confirm" + (name === "void" || name === "reissue" ? " danger" : "");
    $("sheet").hidden = false;
    (action.reason ? $("sheet-reason") : $("sheet-confirm")).focus();
  }

  function close() {
    pending = null;
    $("sheet").hidden = true;
  }

  function confirm(event) {
    event.preventDefault();
    if (!pending) return;
    const { name, id } = pending;
    const reason = $("sheet-reason").value.trim();
    if (ACTIONS[name].reason && !ACTIONS[name].optional && !reason) {
      $("sheet-error").textContent = gettext("Give a reason: it goes into the voucher's history.");
      $("sheet-error").hidden = false;
      return;
    }
    $("sheet-confirm").disabled = true;
    // A reissue voids the old code; its history says why in the owner's words, 补发 unless told more.
    post(config.urls.voucherActions[name].replace("/0/", "/" + id + "/"), { reason: reason || (name === "reissue" ? ACTIONS.reissue.label() : "") })
      .then((answer) => {
        close();
        $("action-message").textContent = answer.message;
        $("action-message").hidden = false;
        showNewCode(answer.new_voucher);
        onChanged(answer.voucher);
        showHistory(answer.voucher);
      }, (e) => {
        $("sheet-error").textContent = e.message;
        $("sheet-error").hidden = false;
      })
      .then(() => { $("sheet-confirm").disabled = false; });
  }

  // 补发's new code is whole only in this answer: shown once, with a copy button.
  function showNewCode(voucher) {
    $("reissued").hidden = !voucher;
    if (!voucher) return;
    $("reissued-code").textContent = groupCode(voucher.code);
    $("reissued-copy").setAttribute("data-copy", voucher.code);
    $("reissued-copy").textContent = gettext("Copy");
  }

  function showHistory(voucher) {
    get(config.urls.voucherHistory.replace("/0/", "/" + voucher.id + "/")).then((data) => {
      const lines = data.events.map((e) => historyLine(e, config.eventTitles));
      $("voucher-history-title").textContent = interpolate(gettext("History of voucher %(code)s"), { code: voucher.code_masked }, true);
      $("voucher-history-list").innerHTML = lines.map((l) =>
        "<li><time>" + esc(l.at) + "</time> <b>" + esc(l.title) + "</b> <span>" + esc(l.facts) + "</span></li>").join("");
      $("voucher-history").hidden = false;
    }, (e) => {
      $("history-error").textContent = e.message;
      $("history-error").hidden = false;
    });
  }

  function wire() {
    if (!$("sheet")) return;
    $("history-table").addEventListener("click", (e) => {
      const button = e.target.closest("[data-act]");
      if (button) open(button.getAttribute("data-act"), button.getAttribute("data-id"), button.closest("tr").querySelector(".code").textContent);
    });
    $("sheet-form").addEventListener("submit", confirm);
    $("sheet-cancel").addEventListener("click", close);
    $("sheet").addEventListener("click", (e) => { if (e.target === $("sheet")) close(); });
    document.addEventListener("keydown", (e) => { if (e.key === "Escape" && pending) close(); });
    $("reissued-copy").addEventListener("click", (e) => copy(e.currentTarget));
  }

  return { wire };
}
