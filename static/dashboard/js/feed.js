// The live feed: newest first, a row per event, filtered by the store on show.
import { gettext, interpolate, pgettext } from "../../staff/js/i18n.js";
import { esc } from "./render.js";

const FEED_MAX = 100;

// A refusal's title from the server's table of reasons, else its code as it came.
export function reasonTitle(reasons, code) {
  const known = reasons && Object.prototype.hasOwnProperty.call(reasons, code);
  return known ? reasons[code].title : code;
}

function time(iso) {
  return iso.slice(11, 19);
}

function feedRow(cls, at, store, main, sub, side) {
  const li = document.createElement("li");
  li.className = "ev " + cls;
  li.setAttribute("data-store", store ? store.id : "");
  li.innerHTML = "<time>" + esc(time(at)) + '</time><span class="ev-main">' + esc(main) + "</span>" +
    '<span class="ev-side">' + esc(side) + '</span><span class="ev-sub">' + sub.map(esc).join(" · ") + "</span>";
  return li;
}

function redemptionRow(event, cls) {
  const r = event.redemption;
  const li = feedRow(cls, r.at, r.store, event.voucher.product.name, [r.store.name, r.staff.display_name, r.code_masked], "×" + r.uses);
  li.setAttribute("data-redemption", r.id);
  return li;
}

function markReversed(li) {
  li.className = "ev reversed";
  li.querySelector(".ev-side").textContent = pgettext("feed", "Reversed");
}

function eventRow(event, reasons) {
  if (event.type === "redemption.created") return redemptionRow(event, "ok");
  if (event.type === "redemption.reversed") {
    const shown = document.querySelector('[data-redemption="' + event.redemption.id + '"]');
    if (shown) {
      markReversed(shown);
      return null;
    }
    const li = redemptionRow(event, "reversed");
    markReversed(li);
    return li;
  }
  if (event.type === "attempt.refused") {
    const staff = event.staff ? event.staff.display_name : "";
    return feedRow("bad", event.at, event.store, reasonTitle(reasons, event.reason),
      [event.store ? event.store.name : gettext("No store"), staff, event.code_masked], "");
  }
  if (event.type === "attempt.lookup") {
    // An owner or manager found vouchers by an order or phone number (no code in hand).
    const staff = event.staff ? event.staff.display_name : "";
    const by = event.by === "phone" ? gettext("Phone lookup") : gettext("Order lookup");
    const found = interpolate(gettext("%(n)s found"), { n: event.found }, true);
    return feedRow("look", event.at, null, by, [staff, event.query_masked], found);
  }
  if (event.type === "offline.conflict") {
    // Taken offline on a phone, refused when it came back online: for the owner to settle.
    const staff = event.staff ? event.staff.display_name : "";
    const product = event.voucher ? event.voucher.product.name : gettext("Offline conflict");
    return feedRow("bad", event.at, event.store, product,
      [event.store ? event.store.name : "", staff, event.code_masked, reasonTitle(reasons, event.result)],
      gettext("Offline conflict"));
  }
  if (event.type === "voucher.voided") {
    return feedRow("void", event.at, null, event.voucher.product.name, [event.voucher.code_masked], pgettext("feed", "Voided"));
  }
  return null;
}

// Rows without a store (a voided voucher) show under every store.
function rowMatches(li, store) {
  const own = li.getAttribute("data-store");
  return !store || !own || own === store;
}

export function addToFeed(event, reasons, store) {
  const li = eventRow(event, reasons);
  const feed = document.getElementById("feed");
  if (!li) return;
  li.hidden = !rowMatches(li, store);
  li.setAttribute("data-event", event.id);
  // Newest first by id: an event that committed late takes its place, not the top.
  const after = Array.from(feed.children).find((row) => +row.getAttribute("data-event") < event.id);
  feed.insertBefore(li, after || null);
  while (feed.children.length > FEED_MAX) feed.removeChild(feed.lastChild);
  document.getElementById("feed-empty").hidden = true;
}

export function filterFeed(store) {
  Array.from(document.getElementById("feed").children).forEach((li) => { li.hidden = !rowMatches(li, store); });
}
