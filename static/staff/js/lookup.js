// 查找订单: an owner or manager finds a buyer's vouchers without the code (the buyer's phone is dead),
// by the exact order number or the whole phone number, and picks one to confirm.
import { $, blurInput, show } from "./dom.js";
import { day } from "./format.js";
import { gettext, interpolate } from "./i18n.js";

let call = null;
let config = null;
let picked = null;

// call(url) is the page's one request; onPick(voucher) opens the confirm step for a found voucher.
export function setUpLookup(pageCall, pageConfig, _storeId, onPick) {
  call = pageCall;
  config = pageConfig;
  picked = onPick;
  $("lookup-close").onclick = closeLookup;
  $("lookup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  document.querySelectorAll('input[name="lookup-by"]').forEach((radio) => {
    radio.addEventListener("change", () => {
      const phone = byPhone();
      $("lookup-q").inputMode = phone ? "tel" : "text";
      $("lookup-q").placeholder = phone ? gettext("The buyer's whole phone number") : gettext("The whole order number");
      $("lookup-q").focus();
    });
  });
}

function byPhone() {
  return $("lookup-phone").checked;
}

export function openLookup() {
  blurInput();
  show($("lookup"), true);
  $("lookup-msg").textContent = "";
  $("lookup-q").focus();
}

export function closeLookup() {
  show($("lookup"), false);
}

function search() {
  const q = $("lookup-q").value.trim();
  if (!q) {
    $("lookup-msg").textContent = byPhone() ? gettext("Enter the buyer's whole phone number") : gettext("Enter the whole order number");
    return;
  }
  // Sent in the body, never the URL: a buyer's phone number stays out of access logs.
  const body = byPhone() ? { phone: q } : { order_no: q };
  $("lookup-go").disabled = true;
  $("lookup-msg").textContent = gettext("Searching…");
  call(config.urls.lookup, body).then((answer) => {
    const data = answer.data;
    if (!data.results) {
      $("lookup-msg").textContent = data.message || gettext("Something went wrong");
      return;
    }
    render(data.results);
  }, () => {
    $("lookup-msg").textContent = gettext("Unstable network, try again");
  }).then(() => { $("lookup-go").disabled = false; });
}

function render(results) {
  const list = $("lookup-list");
  list.textContent = "";
  $("lookup-msg").textContent = results.length
    ? interpolate(gettext("%(n)s found: tap one to redeem"), { n: results.length }, true)
    : gettext("Nothing found. Check the number: it must be the whole number, exactly.");
  results.forEach((voucher) => {
    const li = document.createElement("li");
    const usable = voucher.status === "active";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "found" + (usable ? "" : " found-off");
    button.disabled = !usable;
    const name = document.createElement("b");
    name.textContent = voucher.product.name;
    const meta = document.createElement("small");
    meta.textContent = [
      voucher.code_masked,
      interpolate(gettext("%(left)s of %(total)s"), { left: voucher.uses_left, total: voucher.uses_total }, true),
      voucher.valid_until ? interpolate(gettext("until %(until)s"), { until: day(voucher.valid_until) }, true) : "",
    ].filter(Boolean).join(" · ");
    const state = document.createElement("span");
    state.className = "found-state";
    state.textContent = STATUS[voucher.status] ? STATUS[voucher.status]() : voucher.status;
    button.appendChild(name);
    button.appendChild(state);
    button.appendChild(meta);
    button.onclick = () => {
      closeLookup();
      picked(voucher);
    };
    li.appendChild(button);
    list.appendChild(li);
  });
}

const STATUS = {
  active: () => gettext("Can be redeemed"),
  redeemed: () => gettext("Used up"),
  expired: () => gettext("Expired"),
  voided: () => gettext("Voided"),
  frozen: () => gettext("Frozen"),
};
