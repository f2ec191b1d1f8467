// The back-office tabs: orders (核销回传), the daily statement (对账单), vouchers (券记录), 发券 and 员工.
// The pure parts (queries, sums) are exported for Node; wire() needs the page.
import { gettext, interpolate, pgettext } from "../../staff/js/i18n.js";
import { actionButtons } from "./actions.js";
import { cents, money } from "./figures.js";
import { esc, table } from "./render.js";

export const TABS = ["overview", "orders", "statement", "history", "issue", "people", "offline"];
const OWNER_TABS = ["history", "issue", "people"];

// The tab an address names (#orders), else the overview; a manager has no history, 发券 or 员工 tab.
export function tabFrom(hash, isOwner) {
  const name = String(hash || "").replace(/^#/, "");
  if (!TABS.includes(name) || (OWNER_TABS.includes(name) && !isOwner)) return "overview";
  return name;
}

// A query string of the filters that are set, in a fixed order.
export function query(params) {
  const parts = [];
  Object.keys(params).forEach((k) => {
    const v = params[k];
    if (v !== undefined && v !== null && v !== "") parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v));
  });
  return parts.join("&");
}

export function orderParams(filters, extra) {
  return { from: filters.from, to: filters.to, channel: extra.channel, status: extra.status, q: extra.q };
}

export function statementParams(filters, extra) {
  return { from: filters.from, to: filters.to, store: filters.store, channel: extra.channel };
}

// The statement's total row: sums in cents, so 0.1 + 0.2 stays 0.30.
export function statementTotals(rows) {
  const sum = { redemptions: 0, uses: 0, value: 0, reversed: 0, reversed_value: 0, net_value: 0 };
  rows.forEach((r) => {
    sum.redemptions += r.redemptions;
    sum.uses += r.uses;
    sum.reversed += r.reversed;
    ["value", "reversed_value", "net_value"].forEach((k) => { sum[k] += cents(r[k]); });
  });
  return sum;
}

function when(iso) {
  return iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) : "—";
}

export function createBackOffice({ config, get, filters, offline, issuing, people }) {
  const $ = (id) => document.getElementById(id);
  const channels = {};
  config.channels.forEach((c) => { channels[c.value] = c.label; });
  const statuses = config.orderStatuses;
  let shown = null;
  let ordersPage = config.urls.orders;

  const ORDER_COLUMNS = [
    { label: pgettext("orders column", "Order number"), get: (r) => "<b>" + esc(r.order_no) + "</b>" },
    { label: pgettext("orders column", "Channel"), get: (r) => esc(channels[r.channel] || r.channel) },
    { label: pgettext("orders column", "Status"), get: (r) => '<span class="pill pill-' + esc(r.status) + '">' + esc(statuses[r.status]) + "</span>" },
    { label: pgettext("orders column", "Vouchers"), num: true, get: (r) => r.vouchers },
    { label: pgettext("orders column", "Uses"), num: true, get: (r) => r.uses_used + " / " + r.uses_total },
    { label: pgettext("orders column", "Redeemed value"), num: true, get: (r) => money(cents(r.redeemed_value)) },
    { label: pgettext("orders column", "Last redeemed"), num: true, get: (r) => esc(when(r.last_redeemed_at)) },
  ];

  const STATEMENT_COLUMNS = [
    { label: pgettext("statement column", "Date"), get: (r) => esc(r.day) },
    { label: pgettext("statement column", "Channel"), get: (r) => esc(r.channel ? channels[r.channel] || r.channel : gettext("Total")) },
    { label: pgettext("statement column", "Redemptions"), num: true, get: (r) => r.redemptions },
    { label: pgettext("statement column", "Uses"), num: true, get: (r) => r.uses },
    { label: pgettext("statement column", "Value"), num: true, get: (r) => money(cents(r.value)) },
    { label: pgettext("statement column", "Reversed"), num: true, get: (r) => r.reversed },
    { label: pgettext("statement column", "Reversed value"), num: true, get: (r) => money(cents(r.reversed_value)) },
    { label: pgettext("statement column", "Net"), num: true, get: (r) => "<b>" + money(cents(r.net_value)) + "</b>" },
  ];

  const VOUCHER_COLUMNS = [
    {
      label: "", get: (r) => '<a class="link-btn" href="' + esc(config.urls.historyPage.replace("/0/", "/" + r.id + "/")) +
        '">' + esc(gettext("History · print")) + "</a>",
    },
    { label: pgettext("vouchers column", "Code"), get: (r) => '<span class="code">' + esc(r.code_masked) + "</span>" },
    { label: pgettext("vouchers column", "Product"), get: (r) => esc(r.product.name) },
    { label: pgettext("vouchers column", "Order"), get: (r) => esc(r.order_no_masked) },
    { label: pgettext("vouchers column", "Uses left"), num: true, get: (r) => r.uses_left + " / " + r.uses_total },
    {
      label: pgettext("vouchers column", "Status"),
      get: (r) => '<span class="pill pill-' + esc(r.status) + '">' + esc(config.voucherStatuses[r.status] || r.status) + "</span>",
    },
    { label: "", get: (r) => '<span class="acts">' + actionButtons(r) + "</span>" },
  ];
  let vouchersFound = [];

  function failed(where, error) {
    $(where).textContent = error.message;
    $(where).hidden = false;
  }

  function extra(prefix) {
    return { channel: $(prefix + "-channel").value, status: $(prefix + "-status") && $(prefix + "-status").value,
      q: $(prefix + "-q") && $(prefix + "-q").value.trim() };
  }

  function loadOrders(url) {
    const q = query(orderParams(filters(), extra("orders")));
    $("orders-export").href = config.urls.ordersExport + "?" + q;
    get(url || config.urls.orders + "?" + q).then((page) => {
      $("orders-error").hidden = true;
      $("orders-table").innerHTML = table(ORDER_COLUMNS, page.results, gettext("No orders match"));
      $("orders-count").textContent = interpolate(gettext("%(n)s orders"), { n: page.count }, true);
      $("orders-prev").hidden = !page.previous;
      $("orders-next").hidden = !page.next;
      ordersPage = page;
    }, (e) => failed("orders-error", e));
  }

  function loadStatement() {
    const q = query(statementParams(filters(), extra("statement")));
    $("statement-csv").href = config.urls.dailyCsv + "?" + q;
    get(config.urls.daily + "?" + q).then((rows) => {
      $("statement-error").hidden = true;
      const t = statementTotals(rows);
      const body = rows.length ? rows.concat([{
        day: "", channel: "", redemptions: t.redemptions, uses: t.uses, value: String(t.value / 100),
        reversed: t.reversed, reversed_value: String(t.reversed_value / 100), net_value: String(t.net_value / 100),
      }]) : rows;
      $("statement-table").innerHTML = table(STATEMENT_COLUMNS, body, gettext("Nothing redeemed in this range"));
    }, (e) => failed("statement-error", e));
  }

  function searchVouchers(event) {
    if (event) event.preventDefault();
    const q = $("history-q").value.trim();
    if (!q) return;
    // A reissued code is shown whole once, until the owner moves on.
    ["reissued", "action-message", "voucher-history"].forEach((id) => { if ($(id)) $(id).hidden = true; });
    get(config.urls.vouchers + "?" + query({ q })).then((page) => {
      $("history-error").hidden = true;
      vouchersFound = page.results;
      drawVouchers();
    }, (e) => failed("history-error", e));
  }

  function drawVouchers() {
    $("history-table").innerHTML = table(VOUCHER_COLUMNS, vouchersFound, gettext("No voucher with this order number or code ending"));
  }

  // After an action the row shows the voucher as the server now has it.
  function voucherChanged(voucher) {
    vouchersFound = vouchersFound.map((v) => (v.id === voucher.id ? voucher : v));
    drawVouchers();
  }

  function show(name) {
    shown = name;
    TABS.forEach((t) => {
      const panel = $("tab-" + t);
      if (panel) panel.hidden = t !== name;
      const button = document.querySelector('.tabs [data-tab="' + t + '"]');
      if (button) button.setAttribute("aria-selected", String(t === name));
    });
    document.body.setAttribute("data-shown", name);
    refresh();
  }

  function refresh() {
    if (shown === "orders") loadOrders();
    if (shown === "statement") loadStatement();
    if (shown === "offline" && offline) offline.load();
    if (shown === "issue" && issuing) issuing.load();
    if (shown === "people" && people) people.load();
  }

  function wire() {
    document.querySelectorAll(".tabs [data-tab]").forEach((b) => {
      b.addEventListener("click", () => {
        history.replaceState(null, "", location.search + "#" + b.getAttribute("data-tab"));
        show(b.getAttribute("data-tab"));
      });
    });
    ["orders-channel", "orders-status"].forEach((id) => $(id).addEventListener("change", () => loadOrders()));
    $("orders-search").addEventListener("submit", (e) => { e.preventDefault(); loadOrders(); });
    $("orders-prev").addEventListener("click", () => loadOrders(ordersPage.previous));
    $("orders-next").addEventListener("click", () => loadOrders(ordersPage.next));
    $("statement-channel").addEventListener("change", loadStatement);
    const search = $("history-search");
    if (search) search.addEventListener("submit", searchVouchers);
    show(tabFrom(location.hash, config.me.role === "owner"));
  }

  return { wire, refresh, voucherChanged, current: () => shown };
}
