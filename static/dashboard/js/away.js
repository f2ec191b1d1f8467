// The 离线 tab: each phone out there with a snapshot (what it has brought back, what it may still take
// offline before it must sync: the owner's exposure right now), and the conflicts to settle.
import { gettext, interpolate, pgettext } from "../../staff/js/i18n.js";
import { cents, money } from "./figures.js";
import { esc, table } from "./render.js";

function when(iso) {
  return iso ? iso.slice(5, 10) + " " + iso.slice(11, 16) : "—";
}

// What a device may still cost the owner, in words: "3 笔 / ¥152.00", or expired.
export function exposure(device) {
  if (!device.live) return gettext("Snapshot expired");
  return interpolate(gettext("%(n)s / %(value)s"), { n: device.may_still_take, value: money(cents(device.may_still_take_value)) }, true);
}

export function createOfflineTab({ config, get, post }) {
  const $ = (id) => document.getElementById(id);

  const DEVICE_COLUMNS = [
    { label: pgettext("devices column", "Staff"), get: (d) => "<b>" + esc(d.staff.display_name) + "</b>" },
    { label: pgettext("devices column", "Store"), get: (d) => esc(d.store.name) },
    { label: pgettext("devices column", "Phone"), get: (d) => "<code>" + esc(d.device) + "</code>" },
    { label: pgettext("devices column", "Pending"), num: true, get: (d) => d.pending },
    { label: pgettext("devices column", "Uploaded"), num: true, get: (d) => d.uploaded + " · " + money(cents(d.uploaded_value)) },
    { label: pgettext("devices column", "May still take offline"), num: true, get: (d) => esc(exposure(d)) },
    { label: pgettext("devices column", "Last upload"), num: true, get: (d) => esc(when(d.last_upload_at)) },
    { label: pgettext("devices column", "Snapshot until"), num: true, get: (d) => esc(when(d.snapshot_expires_at)) },
  ];

  const CONFLICT_COLUMNS = [
    { label: pgettext("conflicts column", "Scanned"), get: (c) => esc(when(c.scanned_at)) },
    { label: pgettext("conflicts column", "Reason"), get: (c) => '<b class="bad">' + esc(title(c.result)) + "</b>" },
    { label: pgettext("conflicts column", "Product"), get: (c) => esc(c.product ? c.product.name : "—") },
    { label: pgettext("conflicts column", "Code"), get: (c) => esc(c.code_masked) },
    { label: pgettext("conflicts column", "Staff"), get: (c) => esc(c.staff.display_name + " · " + c.store.name) },
    {
      label: "", get: (c) => c.settled_at
        ? esc(interpolate(gettext("Settled by %(name)s"), { name: c.settled_by ? c.settled_by.display_name : "" }, true))
        : '<button type="button" class="link-btn" data-settle="' + c.id + '">' + esc(gettext("Mark settled")) + "</button>",
    },
  ];

  function title(code) {
    const reason = config.reasons[code];
    return reason ? reason.title : code;
  }

  function failed(error) {
    $("offline-error").textContent = error.message;
    $("offline-error").hidden = false;
  }

  function load() {
    $("offline-error").hidden = true;
    get(config.urls.offlineDevices).then((body) => {
      $("devices-table").innerHTML = table(DEVICE_COLUMNS, body.results, gettext("No phone holds an offline snapshot"));
    }, failed);
    const settled = $("conflicts-all").checked ? "" : "?settled=false";
    get(config.urls.offlineConflicts + settled).then((page) => {
      $("conflicts-table").innerHTML = table(CONFLICT_COLUMNS, page.results, gettext("No conflicts to settle"));
    }, failed);
  }

  function settle(id) {
    const note = window.prompt(gettext("How was it settled? (optional)"), "") ;
    if (note === null) return;
    post(config.urls.offlineSettle.replace("/0/", "/" + id + "/"), { note }).then(load, failed);
  }

  function wire() {
    $("conflicts-table").addEventListener("click", (event) => {
      const button = event.target.closest("[data-settle]");
      if (button) settle(button.getAttribute("data-settle"));
    });
    $("conflicts-all").addEventListener("change", load);
  }

  return { wire, load };
}
