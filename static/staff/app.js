/* 核销助手: the clerk's scanner. This module wires the page; what decides lives in js/. */
import { feedback, setSpeech, speak, speechOn, unlockAudio } from "./js/feedback.js";
import { closeCamera, openCamera } from "./js/camera.js";
import { flatten, grouped, looksMistyped, normalise } from "./js/codes.js";
import { $, blurInput, show } from "./js/dom.js";
import { minute, nextUse, uses, usesOf, validity, waitSeconds } from "./js/format.js";
import { gettext, interpolate, ngettext } from "./js/i18n.js";
import { closeLookup, openLookup, setUpLookup } from "./js/lookup.js";
import { backOnline, goOffline, isOffline, judge, readyToLeave, refreshSnapshot, setUpOffline, take } from "./js/away.js";
import { voucherOf } from "./js/offline.js";
import { Redemption, request, sleep, withRetry } from "./js/net.js";
import {
  keepsInput, lockSeconds, orderChoices, refusalMessage, screenFor, spokenText, voiceLanguage,
} from "./js/screens.js";
import { closeToday, loadToday, openToday, setUpToday } from "./js/today.js";

const config = JSON.parse($("hx-config").textContent);
const CHECK_RETRIES = [800, 2000];
const REDEEM_RETRIES = [1000, 2000, 3000, 5000, 8000];

// ---- network ----

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

// One request to the API. A session that has ended goes to the login page and never resolves.
function call(url, body, timeoutMs, extraHeaders) {
  const headers = { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest", ...extraHeaders };
  return request((u, init) => fetch(u, init), url, { body, headers, timeoutMs })
    .then((answer) => (answer.status === 401 ? toLogin() : answer));
}

function toLogin() {
  location.href = config.urls.login + "?next=" + encodeURIComponent(config.urls.scope);
  return new Promise(() => {});
}

function hint(message, bad) {
  const el = $("code-hint");
  el.textContent = message || "";
  el.classList.toggle("bad", !!bad);
}

// ---- store ----

function storeKey() {
  return "hx-store-" + (config.staff ? config.staff.id : "");
}

function initStore() {
  const el = $("store");
  if (!el || el.tagName !== "SELECT") return;
  const saved = localStorage.getItem(storeKey());
  if (saved && el.querySelector('option[value="' + saved + '"]')) el.value = saved;
  el.addEventListener("change", () => localStorage.setItem(storeKey(), el.value));
}

function storeId() {
  const el = $("store");
  if (!el) return null;
  const value = el.tagName === "SELECT" ? el.value : el.getAttribute("data-id");
  return value ? +value : null;
}

// ---- check ----

let busy = false;
let typoShown = "";
let lockedUntil = 0;

function submitCode(raw, typed) {
  const text = normalise(raw);
  const code = flatten(raw);
  if (busy) return;
  if (!code) return hint(gettext("Enter a code"), true);
  if (Date.now() < lockedUntil) return hint(waitSeconds(Math.ceil((lockedUntil - Date.now()) / 1000)), true);
  // A typo caught here costs no request; a 16-digit code imported from elsewhere may still be
  // genuine, so a second press sends it anyway.
  if (typed && looksMistyped(code) && typoShown !== code) {
    typoShown = code;
    $("check-btn").textContent = gettext("Check anyway");
    feedback("refused");
    return hint(gettext("This code fails its check digit: probably a typo. Check it."), true);
  }
  const store = storeId();
  if (!store) return showRefusal({ result: "store_required", message: gettext("Pick the store you work at, top left") });
  busy = true;
  setChecking(true);
  const body = { code: text, store };
  const retrying = () => hint(gettext("Unstable network, retrying…"));
  // Offline, the scan is judged on the phone (the snapshot) without waiting for the network.
  const asked = isOffline() ? judgeOffline(body, typed)
    : withRetry(() => call(config.urls.check, body), CHECK_RETRIES, { onRetry: retrying });
  asked
    .then((answer) => {
      if (!answer) return;
      backOnline();
      hint("");
      if (answer.data.ok) openConfirm(body, answer.data.voucher, answer.data.order);
      else showRefusal(answer.data, typed, body);
    }, (error) => {
      if (error && error.network) {
        goOffline();
        return judgeOffline(body, typed);
      }
      hint(gettext("Unstable network, try again"), true);
      feedback("refused");
    })
    .then(() => {
      busy = false;
      setChecking(false);
    });
}

// No network: what the snapshot on this phone says. Resolves nothing for the online path to show.
function judgeOffline(body, typed) {
  return judge(body.code, body.store).then((decision) => {
    hint("");
    if (decision.ok) {
      openConfirm(body, voucherOf(decision.entry), null, true);
    } else {
      const reason = config.reasons[decision.result];
      showRefusal({ ok: false, result: decision.result, message: reason ? reason.title : "",
        voucher: decision.entry ? voucherOf(decision.entry) : undefined }, typed);
    }
    return null;
  });
}

function setChecking(on) {
  const button = $("check-btn");
  button.disabled = on;
  button.textContent = on ? gettext("Checking…") : gettext("Check code");
  if (!on) typoShown = "";
}

// ---- confirm ----

let pending = null;

// The confirm step: one voucher (with a count of uses), or, for a voucher of an order of several,
// every voucher of the order with those that can be redeemed ticked, redeemed in one tap.
// body.voucherId: a voucher an owner or manager found by lookup.
function openConfirm(body, voucher, order, offline = false) {
  const choices = orderChoices(order, config.reasons);
  pending = new Redemption({ code: body.code, store: body.store, voucher, voucherId: body.voucherId || null });
  pending.offline = offline;
  $("c-badge").textContent = offline ? gettext("Offline: confirmed when back online") : gettext("Can be redeemed");
  $("c-badge").classList.toggle("badge-pending", offline);
  if (choices.some((c) => c.usable)) {
    pending.items = choices.filter((c) => c.usable).map((c) => c.id);
  }
  renderOrder(choices);
  $("c-product").textContent = voucher.product.name;
  $("c-uses").textContent = usesOf(voucher.uses_left, voucher.uses_total);
  $("c-valid").textContent = validity(voucher);
  $("c-order").textContent = voucher.order_no_masked || "—";
  $("c-code").textContent = voucher.code_masked || "****" + flatten(body.code || "").slice(-4);
  $("c-phone").textContent = voucher.buyer_phone_masked;
  show($("c-phone-row"), !!voucher.buyer_phone_masked);
  show($("c-stepper"), !pending.isOrder && !offline && voucher.uses_left > 1);
  setUses(1);
  setSending(false, "");
  blurInput();
  show($("confirm"), true);
  $("c-go").focus();
}

function renderOrder(choices) {
  const list = $("c-order-list");
  list.textContent = "";
  show($("c-order-box"), pending.isOrder);
  if (!pending.isOrder) return;
  $("c-order-title").textContent = interpolate(
    ngettext("This order has %(n)s voucher", "This order has %(n)s vouchers", choices.length), { n: choices.length }, true);
  choices.forEach((choice) => {
    const li = document.createElement("li");
    li.className = "oc" + (choice.usable ? "" : " oc-off");
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = choice.id;
    box.checked = choice.usable;
    box.disabled = !choice.usable;
    box.addEventListener("change", () => choose(choice.id, box.checked));
    const name = document.createElement("span");
    name.className = "oc-name";
    name.textContent = choice.product;
    const meta = document.createElement("small");
    meta.textContent = choice.code + " · " + (choice.usable ? interpolate(gettext("%(n)s left"), { n: choice.usesLeft }, true) : choice.why);
    name.appendChild(document.createElement("br"));
    name.appendChild(meta);
    label.appendChild(box);
    label.appendChild(name);
    li.appendChild(label);
    list.appendChild(li);
  });
}

function choose(id, on) {
  const items = pending.items.filter((x) => x !== id);
  if (on) items.push(id);
  pending.items = items.sort((a, b) => a - b);
  setSending(false, "");
}

function setUses(n) {
  pending.uses = Math.max(1, Math.min(n, pending.voucher.uses_left));
  $("c-n").textContent = pending.uses;
  $("c-minus").disabled = pending.uses <= 1;
  $("c-plus").disabled = pending.uses >= pending.voucher.uses_left;
}

function setSending(on, status) {
  $("c-go").disabled = on;
  $("c-cancel").disabled = on;
  $("c-minus").disabled = on || (pending && pending.uses <= 1);
  $("c-plus").disabled = on || (pending && pending.uses >= pending.voucher.uses_left);
  $("c-status").textContent = status;
  const n = pending && pending.isOrder ? pending.items.length : 0;
  $("c-go").textContent = on ? gettext("Redeeming…")
    : n ? interpolate(ngettext("Redeem %(n)s voucher", "Redeem all %(n)s vouchers", n), { n }, true)
      : gettext("Confirm redemption");
  if (pending && pending.isOrder && !n) $("c-go").disabled = true;
}

function closeConfirm() {
  show($("confirm"), false);
  pending = null;
}

function redeem() {
  if (!pending || pending.sending) return;
  const job = pending;
  job.sending = true;
  setSending(true, "");
  if (job.offline) return redeemOffline(job);
  // No answer yet: the redeem may have gone through. It is asked again with the same key until the
  // server says what it did; the clerk sees "confirming", never a guess.
  const retrying = () => { $("c-status").textContent = gettext("Confirming… the network is unstable"); };
  const url = job.isOrder ? config.urls.redeem_order : config.urls.redeem;
  job.send((u, body) => call(u, body, 10000), url, { delays: REDEEM_RETRIES, onRetry: retrying })
    .then((answer) => {
      closeConfirm();
      if (answer.data.ok) showRedeemed(answer.data);
      else showRefusal(answer.data);
      loadToday(false);
    }, () => {
      job.sending = false;
      show($("confirm"), false);
      showNetworkFailure(job);
    });
}

// Taken on the phone while offline: queued with its key and the moment it was scanned, and shown
// amber as waiting for the server, never as the green success.
function redeemOffline(job) {
  take({ code: job.code, store: job.store, key: job.key }).then((taken) => {
    closeConfirm();
    if (!taken.ok) return showRefusal({ ok: false, result: taken.result, message: "" });
    clearInput();
    showResult({ kind: "pending", tone: "pending" }, gettext("Pending"), gettext("Uploads automatically when the network is back"), [
      [gettext("Product"), taken.entry.product.name],
      [gettext("Code"), "****" + flatten(job.code).slice(-4)],
      [gettext("Waiting to upload"), interpolate(gettext("%(n)s on this phone"), { n: taken.pending }, true)],
    ], null);
  });
}

// ---- result screens ----

const SPOKEN = {
  redeemed: (left) => interpolate(gettext("Redeemed, %(n)s left"), { n: left }, true),
  order: (n) => interpolate(ngettext("Redeemed %(n)s voucher", "Redeemed %(n)s vouchers", n), { n }, true),
};

function showResult(screen, title, message, facts, data) {
  const box = $("result");
  const ok = screen.tone === "ok";
  const waiting = screen.tone === "pending";
  box.classList.toggle("ok", ok);
  box.classList.toggle("pending", waiting);
  box.classList.toggle("bad", !ok && !waiting);
  $("r-title").textContent = title;
  $("r-msg").textContent = message || "";
  const list = $("r-facts");
  list.textContent = "";
  facts.forEach(([label, value]) => {
    if (value === null || value === undefined || value === "") return;
    const row = document.createElement("div");
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = label;
    dd.textContent = value;
    row.appendChild(dt);
    row.appendChild(dd);
    list.appendChild(row);
  });
  $("r-wait").textContent = "";
  show($("r-retry"), false);
  show($("r-order"), false);
  blurInput();
  show(box, true);
  $("r-next").focus();
  feedback(screen.tone);
  speak(spokenText(screen, data, title, SPOKEN), voiceLanguage(document.documentElement.lang));
}

function showRedeemed(data) {
  if (data.redemptions) return showOrderRedeemed(data);
  const r = data.redemption;
  const v = data.voucher;
  clearInput();
  showResult(screenFor(data, config.reasons), gettext("Redeemed"), v.product.name, [
    [gettext("Redeemed now"), uses(r.uses)],
    [gettext("Uses left"), usesOf(v.uses_left, v.uses_total)],
    [gettext("Code"), r.code_masked],
    [gettext("Time"), minute(r.at)],
    [gettext("Store"), r.store.name],
  ], data);
}

function showOrderRedeemed(data) {
  const first = data.redemptions[0];
  const n = data.redemptions.length;
  clearInput();
  const names = {};
  data.vouchers.forEach((v) => { names[v.product.name] = (names[v.product.name] || 0) + 1; });
  showResult(screenFor(data, config.reasons), gettext("Redeemed"),
    Object.keys(names).map((name) => name + " × " + names[name]).join("、"), [
      [gettext("Vouchers"), interpolate(ngettext("%(n)s voucher", "%(n)s vouchers", n), { n }, true)],
      [gettext("Codes ending"), data.redemptions.map((r) => r.code_masked.slice(-4)).join("、")],
      [gettext("Time"), minute(first.at)],
      [gettext("Store"), first.store.name],
    ], data);
}

// The title is the server's, from its table of reasons; the sentence under it comes with the answer.
// body: the check that was refused, kept so the rest of the voucher's order can be offered.
function showRefusal(data, typed, body) {
  const screen = screenFor(data, config.reasons);
  const v = data.voucher;
  const last = data.last_redemption;
  if (!keepsInput(data, typed)) clearInput();
  const title = screen.kind === "error" ? gettext("Something went wrong") : screen.title;
  let message = screen.kind === "error" ? data.message || gettext("Try again in a moment") : refusalMessage(data, title);
  if (data.next_at) message = nextUse(data.next_at, Date.now());
  showResult(screen, title, message, [
    [gettext("Product"), v && v.product.name],
    [gettext("Code"), v && v.code_masked],
    [gettext("Time"), last && minute(last.at)],
    [gettext("Store"), last && last.store.name],
    [gettext("Staff"), last && last.staff.display_name],
    [gettext("Valid from"), minute(data.valid_from)],
    [gettext("Valid until"), minute(data.valid_until)],
    [gettext("Uses left"), data.uses_left === undefined ? null : uses(data.uses_left)],
  ], data);
  const wait = lockSeconds(data, config.rules);
  if (wait) countdown(wait);
  offerRestOfOrder(data, body);
}

// The voucher shown is used up or refused, but others of its order are not: offer those.
function offerRestOfOrder(data, body) {
  const usable = orderChoices(data.order, config.reasons).filter((c) => c.usable).length;
  if (!body || !data.voucher || !usable) return;
  const button = $("r-order");
  button.textContent = interpolate(
    ngettext("Redeem the order's other voucher", "Redeem the order's other %(n)s vouchers", usable), { n: usable }, true);
  show(button, true);
  button.onclick = () => {
    show($("result"), false);
    openConfirm(body, data.voucher, data.order);
  };
}

function countdown(seconds) {
  lockedUntil = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((lockedUntil - Date.now()) / 1000);
    $("r-wait").textContent = left > 0 ? waitSeconds(left) : gettext("You can check codes again now");
    if (left > 0) setTimeout(tick, 500);
  };
  tick();
}

// No answer came: whether it was redeemed is unknown. "Try again" sends the same redemption with
// the same key, so the server answers what it did the first time.
function showNetworkFailure(job) {
  showResult(screenFor(null, config.reasons), gettext("Network problem"),
    gettext("Could not confirm the redemption. Tap “Try again”: it will not redeem twice."),
    [[gettext("Product"), job.voucher.product.name], [gettext("Code"), job.voucher.code_masked]], null);
  show($("r-retry"), true);
  $("r-retry").onclick = () => {
    show($("result"), false);
    pending = job;
    show($("confirm"), true);
    redeem();
  };
}

function closeResult() {
  show($("result"), false);
  focusInputIfTyping();
}

// ---- the code input ----

function groupInput() {
  const input = $("code");
  show($("clear"), input.value !== "");
  const next = grouped(input.value, input.selectionStart);
  if (!next || next.value === input.value) return;
  input.value = next.value;
  input.setSelectionRange(next.caret, next.caret);
}

function clearInput() {
  $("code").value = "";
  show($("clear"), false);
}

// Phones would pop the on-screen keyboard over the result; a desk with a hardware scanner wants focus.
function focusInputIfTyping() {
  if ($("code").value || window.matchMedia("(pointer: fine)").matches) $("code").focus();
}

function toggleKeyboard() {
  const input = $("code");
  const numeric = input.inputMode !== "text";
  input.inputMode = numeric ? "text" : "numeric";
  $("kbd-toggle").textContent = numeric ? gettext("Number pad") : gettext("Code has letters? Full keyboard");
  input.focus();
}

// A hardware scanner types wherever the focus is. Keys typed outside a field close whatever is
// open and go to the code input, replacing its old content; the scanner's Enter then submits.
function redirectKeys(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) return;
  const el = document.activeElement;
  if (el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA")) return;
  if (pending && pending.sending) return;
  closeAll();
  const input = $("code");
  input.focus();
  input.select();
}

function closeAll() {
  closeConfirm();
  closeCamera();
  show($("result"), false);
  closeToday();
  closeLookup();
}

// ---- start ----

function logout(event) {
  // The kept scanner page belongs to this clerk: drop it before the next one logs in.
  event.preventDefault();
  const form = event.target;
  readyToLeave().then((ready) => {
    if (!ready) return;
    const cleared = window.caches ? caches.delete("hx-pages") : Promise.resolve();
    Promise.race([cleared, sleep(500)]).then(() => form.submit(), () => form.submit());
  }, () => form.submit());
}

function bind() {
  const input = $("code");
  $("code-form").addEventListener("submit", (e) => {
    e.preventDefault();
    submitCode(input.value, true);
  });
  input.addEventListener("input", (e) => {
    if (!e.isComposing) groupInput();
    hint("");
    if (typoShown) setChecking(false);
  });
  $("clear").onclick = () => {
    clearInput();
    hint("");
    input.focus();
  };
  $("kbd-toggle").onclick = toggleKeyboard;
  $("camera-btn").onclick = () => openCamera((text) => submitCode(text, false), config.urls.jsqr);
  $("camera-close").onclick = closeCamera;
  $("c-go").onclick = redeem;
  $("c-cancel").onclick = () => {
    closeConfirm();
    focusInputIfTyping();
  };
  $("c-minus").onclick = () => setUses(pending.uses - 1);
  $("c-plus").onclick = () => setUses(pending.uses + 1);
  $("r-next").onclick = closeResult;
  $("today-btn").onclick = openToday;
  $("today-close").onclick = closeToday;
  $("today-refresh").onclick = () => loadToday(true);
  $("lookup-btn").onclick = openLookup;
  $("logout").addEventListener("submit", logout);
  // 语音播报: this device's own choice, kept across visits.
  $("speech").checked = speechOn();
  $("speech").addEventListener("change", () => setSpeech($("speech").checked));
  document.addEventListener("keydown", redirectKeys);
  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", unlockAudio);
  if ($("store").tagName === "SELECT") $("store").addEventListener("change", () => refreshSnapshot());
}

function start() {
  setUpToday(call, config);
  // Found by its order or phone number: confirmed and redeemed as a scanned one is, by its id.
  setUpLookup(call, config, storeId, (voucher) => openConfirm({ voucherId: voucher.id, store: storeId() }, voucher));
  show($("lookup-btn"), !!(config.staff && config.staff.may_lookup));
  initStore();
  bind();

  const usable = !!(config.staff && config.stores.length);
  $("check-btn").disabled = !usable;
  $("camera-btn").disabled = !usable;
  document.body.classList.remove("booting");
  if (!usable) return;
  focusInputIfTyping();
  loadToday(false);
  setUpOffline(call, config, storeId, () => loadToday(false));
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.urls.sw, { scope: config.urls.scope }).catch(() => {});
  }
}

start();
