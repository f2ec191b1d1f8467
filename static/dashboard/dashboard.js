/* 数据看板: the owner's live dashboard. This module wires the page; what decides lives in js/. */
import { gettext, interpolate, pgettext } from "../staff/js/i18n.js";
import { createOfflineTab } from "./js/away.js";
import { createVoucherActions } from "./js/actions.js";
import { createBackOffice } from "./js/backoffice.js";
import { burstWatch } from "./js/bursts.js";
import { PRESETS, changed, presetOf, rangeFrom, rolledOver, today } from "./js/days.js";
import { addToFeed, filterFeed } from "./js/feed.js";
import { cents, money, tileChange, totals } from "./js/figures.js";
import { createIssuing } from "./js/issuing.js";
import { createLedger } from "./js/ledger.js";
import { connectLive } from "./js/live.js";
import { createPeople } from "./js/people.js";
import { bars, esc, table } from "./js/render.js";

const REFRESH_MS = 5000; // numbers are re-read at most this often while events arrive

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("dash-config").textContent);

// ---- filters, kept in the address so a reload or a shared link shows the same ----

let shownDay = today(config.tz);
let filters = (() => {
  const q = new URLSearchParams(location.search);
  const known = Array.from($("store").options).some((o) => o.value === q.get("store"));
  return Object.assign(rangeFrom(q, shownDay), { store: known ? q.get("store") : $("store").value });
})();

function rangeQuery(withStore) {
  const q = "from=" + filters.from + "&to=" + filters.to;
  return withStore && filters.store ? q + "&store=" + encodeURIComponent(filters.store) : q;
}

function showFilters() {
  $("from").value = filters.from;
  $("to").value = filters.to;
  $("store").value = filters.store;
  const preset = presetOf(filters, shownDay);
  document.querySelectorAll("[data-range]").forEach((b) => {
    b.setAttribute("aria-pressed", String(b.getAttribute("data-range") === preset));
  });
  $("export").href = config.urls.export + "?" + rangeQuery(true);
  history.replaceState(null, "", "?" + rangeQuery(true) + location.hash);
  filterFeed(filters.store);
}

let backOffice = null;

function setFilters(changes) {
  filters = changed(filters, changes);
  showFilters();
  load();
  if (backOffice) backOffice.refresh();
}

// A dashboard left open past midnight moves "today" (or "last 7 days"...) on to the new day.
function rollOver() {
  const day = today(config.tz);
  if (day === shownDay) return;
  const range = rolledOver(filters, shownDay, day);
  shownDay = day;
  if (range) setFilters(range);
  else showFilters();
}

// ---- numbers from the stats API ----

let loading = 0;
let counted = config.lastEventId; // events up to this id are in the numbers on show
const ledger = createLedger({ after: config.feedAfter, repeatMs: config.feedRepeatSeconds * 1000 });
let lastStats = null;
let tiles = {};

function get(url) {
  const failed = () => new Error(gettext("Could not load the numbers; try again shortly"));
  return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then((r) => {
    if (r.status === 401) location.href = config.urls.login;
    return r.json().then((body) => {
      if (!r.ok) throw firstError(body) ? new Error(firstError(body)) : failed();
      return body;
    }, () => { throw failed(); });
  }, () => { throw failed(); });
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

// Resolves {status, answer}: a repeated order answers 200 where a new one answers 201.
function send(url, body, method = "POST") {
  const failed = () => new Error(gettext("Could not save; try again shortly"));
  return fetch(url, {
    method, credentials: "same-origin", body: JSON.stringify(body),
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
  }).then((r) => r.json().then((answer) => {
    if (!r.ok) throw new Error(firstError(answer) || failed().message);
    return { status: r.status, answer };
  }, () => { throw failed(); }), () => { throw failed(); });
}

function post(url, body) {
  return send(url, body).then((r) => r.answer);
}

function patch(url, body) {
  return send(url, body, "PATCH").then((r) => r.answer);
}

function firstError(body) {
  for (const k in body.errors || {}) return [].concat(body.errors[k])[0];
  return body.message;
}

function load() {
  const seq = ++loading;
  const u = config.urls;
  // Events up to here are in what comes back; later ones are added to the tiles as they arrive.
  counted = Math.max(counted, ledger.newest());
  Promise.all([get(u.staff + "?" + rangeQuery(true)), get(u.stores + "?" + rangeQuery(true)), get(u.products + "?" + rangeQuery(false))])
    .then(([staff, stores, products]) => {
      if (seq !== loading) return;
      $("error").hidden = true;
      lastStats = { staff, stores, products };
      drawStats();
    }, (error) => {
      if (seq !== loading) return;
      $("error").textContent = error.message;
      $("error").hidden = false;
    });
}

let refreshTimer = null;
function refreshSoon() {
  if (!refreshTimer) {
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      load();
    }, REFRESH_MS);
  }
}

function drawTiles() {
  $("t-redemptions").textContent = tiles.redemptions;
  $("t-uses").textContent = tiles.uses;
  $("t-amount").textContent = money(tiles.cents);
  $("t-refused").textContent = tiles.refused;
  $("t-reversed").textContent = tiles.reversed;
}

function clock(iso) {
  if (!iso) return "—";
  return filters.from === filters.to ? iso.slice(11, 16) : iso.slice(5, 10) + " " + iso.slice(11, 16);
}

function hours(h) {
  if (h < 1) return interpolate(gettext("%(minutes)s min"), { minutes: Math.round(h * 60) }, true);
  return interpolate(gettext("%(hours)s h"), { hours: h.toFixed(1) }, true);
}

const FIGURES = [
  { label: pgettext("stats column", "Redemptions"), num: true, get: (r) => r.redemptions },
  { label: pgettext("stats column", "Uses"), num: true, get: (r) => r.uses },
  { label: pgettext("stats column", "Value"), num: true, get: (r) => money(cents(r.face_value_total)) },
  { label: pgettext("stats column", "Refused"), num: true, get: (r) => r.refused_attempts },
  { label: pgettext("stats column", "Reversed"), num: true, get: (r) => r.reversed },
  { label: pgettext("stats column", "Last"), num: true, get: (r) => clock(r.last_at) },
];

const STAFF_COLUMNS = [{ label: pgettext("stats column", "Staff"), get: (r) => esc(r.staff.display_name) }].concat(FIGURES);
const STORE_COLUMNS = [{ label: pgettext("stats column", "Store"), get: (r) => esc(r.store.name) }].concat(FIGURES);

const PRODUCT_COLUMNS = [
  { label: pgettext("stats column", "Product"), get: (r) => esc(r.product.name) },
  { label: pgettext("stats column", "Issued"), num: true, get: (r) => r.issued },
  { label: pgettext("stats column", "Redeemed"), num: true, get: (r) => r.redeemed },
  { label: pgettext("stats column", "Rate"), num: true, get: (r) => (r.redemption_rate * 100).toFixed(1) + "%" },
  { label: pgettext("stats column", "Voided"), num: true, get: (r) => r.voided },
  { label: pgettext("stats column", "Expired unused"), num: true, get: (r) => r.expired_unused },
  {
    label: pgettext("stats column", "Median time"), num: true,
    get: (r) => (r.median_hours_to_redeem == null ? "—" : hours(r.median_hours_to_redeem)),
  },
];

function drawStats() {
  const s = lastStats;
  const empty = gettext("No data in this range");
  tiles = totals(s.staff);
  drawTiles();
  const chart = $("chart-staff");
  const rows = s.staff.map((r) => ({ label: r.staff.display_name, value: r.uses }));
  chart.innerHTML = bars(rows, chart.clientWidth, gettext("Uses per staff member"));
  $("staff-table").innerHTML = table(STAFF_COLUMNS, s.staff, empty);
  $("store-table").innerHTML = table(STORE_COLUMNS, s.stores, empty);
  $("product-table").innerHTML = table(PRODUCT_COLUMNS, s.products, empty);
}

// ---- the live feed ----

const watchBursts = burstWatch({ size: 5, windowMs: 60000 });
// Finding vouchers without their code is rarer still: a burst of lookups is someone fishing.
const watchLookups = burstWatch({ size: 5, windowMs: 60000 });

// Tiles move the moment an event arrives; the numbers are re-read shortly after to stay exact.
function count(event) {
  if (event.id <= counted) return;
  const change = tileChange(event, filters);
  if (!change) return;
  if (lastStats) {
    for (const k in change) tiles[k] += change[k];
    drawTiles();
  }
  refreshSoon();
}

function arrived(event) {
  if (!ledger.accept(event)) return;
  addToFeed(event, config.reasons, filters.store);
  if (event.type === "attempt.refused") {
    const burst = watchBursts(event);
    // What happened before the page opened is on show in the feed; it counts towards a burst but raises none itself.
    if (burst && event.id > config.lastEventId) raise(burst);
  }
  if (event.type === "offline.conflict" && backOffice && backOffice.current() === "offline") offlineTab.load();
  if (event.type === "attempt.lookup") {
    const burst = watchLookups(event);
    if (burst && event.id > config.lastEventId) {
      raise(burst, gettext("Alert: %(n)s order lookups within 1 minute (staff: %(names)s)"));
    }
  }
  count(event);
}

function raise(burst, words) {
  $("alert-text").textContent = interpolate(
    words || gettext("Alert: %(n)s refused attempts within 1 minute (staff: %(names)s)"), burst, true);
  $("alert").hidden = false;
}

const CONNECTION = {
  connecting: gettext("Connecting…"),
  reconnecting: gettext("Reconnecting…"),
  live: gettext("Live"),
  forbidden: gettext("No access to the live feed"),
};

function setConnection(name) {
  if (name === "signed-out") {
    location.href = config.urls.login; // this device was signed out: sign in again
    return;
  }
  $("conn").className = "conn conn-" + name;
  $("conn-text").textContent = CONNECTION[name];
}

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  return scheme + location.host + config.urls.ws + "?batch=1&after=" + ledger.newest();
}

// ---- wiring ----

function wire() {
  document.querySelectorAll("[data-range]").forEach((b) => {
    b.addEventListener("click", () => {
      const name = b.getAttribute("data-range");
      if (name === "custom") {
        $("from").focus();
        return;
      }
      const [from, to] = PRESETS[name](shownDay);
      setFilters({ from, to });
    });
  });
  ["from", "to"].forEach((id) => {
    $(id).addEventListener("change", () => {
      if ($(id).value) setFilters({ [id]: $(id).value });
    });
  });
  $("store").addEventListener("change", () => setFilters({ store: $("store").value }));
  $("alert-close").addEventListener("click", () => { $("alert").hidden = true; });
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => { if (lastStats) drawStats(); }, 150);
  });
  setInterval(rollOver, 60000);
}

wire();
showFilters();
load();
const offlineTab = createOfflineTab({ config, get, post });
offlineTab.wire();
const issuing = createIssuing({ config, get, post: send, csrf: csrfToken });
issuing.wire();
const people = createPeople({ config, get, post, patch });
people.wire();
backOffice = createBackOffice({ config, get, filters: () => filters, offline: offlineTab, issuing, people });
createVoucherActions({ config, get, post, onChanged: (v) => backOffice.voucherChanged(v) }).wire();
backOffice.wire();
connectLive({ url: socketUrl, onMessage: arrived, onState: setConnection });
document.body.classList.remove("booting");
