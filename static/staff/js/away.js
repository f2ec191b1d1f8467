// The scanner while the shop is offline: the snapshot kept fresh while online, each scan judged
// against it when the network is gone, what was taken queued on the device, and the queue uploaded
// as soon as the network is back (and on a timer, and from the 上传 button).
import { $, show, toast } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { decide, expired, mine, prepare, scannedName } from "./offline.js";
import { newKey } from "./net.js";
import {
  dequeue, dropHeld, dropSnapshots, enqueue, loadHeld, loadTaken, queued, saveHeld, saveTaken, snapshotStamp,
} from "./vault.js";

const DEVICE = "hx-device";
const SNAPSHOT_EVERY_MS = 10 * 60 * 1000;
const TICK_MS = 15 * 1000;
const UPLOAD_BATCH = 500;

let call = null;
let config = null;
let storeId = null;
let offline = false;
let syncing = false;
let pending = 0;
let lastSnapshotAt = 0;
// The snapshot last read from the device, {storeId, snapshot}: read once, not on every scan.
let kept = null;
let onSynced = () => {};

// The words for what only a device offline can answer; the rest are the server's own reasons.
export function offlineReasons() {
  return {
    offline_unknown: { title: gettext("Not in the offline list"), tone: "refused" },
    offline_taken: { title: gettext("Already taken on this phone"), tone: "used" },
    offline_stale: { title: gettext("Offline list out of date"), tone: "refused" },
    offline_none: { title: gettext("Offline not ready"), tone: "refused" },
  };
}

// This device's own id: its snapshots and uploads name it, so the owner sees each phone apart.
export function deviceId() {
  let id = localStorage.getItem(DEVICE);
  if (!id) {
    id = newKey();
    localStorage.setItem(DEVICE, id);
  }
  return id;
}

// onUploaded() runs after an upload went through (the page refreshes today's count).
export function setUpOffline(pageCall, pageConfig, pageStoreId, onUploaded) {
  call = pageCall;
  config = pageConfig;
  storeId = pageStoreId;
  onSynced = onUploaded || onSynced;
  Object.assign(config.reasons, offlineReasons());
  $("offline-upload").onclick = () => sync(true);
  $("sync-close").onclick = () => show($("sync-report"), false);
  window.addEventListener("online", () => probe());
  window.addEventListener("offline", () => goOffline());
  if (navigator.onLine === false) goOffline();
  setInterval(tick, TICK_MS);
  return count().then(() => (offline ? null : sync(false))).then(() => refreshSnapshot());
}

function enabledHere(store) {
  return !!store && config.stores.some((s) => s.id === store && s.offline);
}

export function isOffline() {
  return offline;
}

// A request got no answer: from now on scans are judged on the device until the network is back.
export function goOffline() {
  if (!offline) {
    offline = true;
    render();
  }
}

// An answer came: back online, and what was queued goes up.
export function backOnline() {
  if (offline) {
    offline = false;
    render();
    sync(false);
  }
}

function tick() {
  if (offline) probe();
  else if (pending) sync(false);
  else if (Date.now() - lastSnapshotAt > SNAPSHOT_EVERY_MS) refreshSnapshot();
}

function probe() {
  return call(config.urls.ping, undefined, 4000).then(() => backOnline(), () => goOffline());
}

function myQueue() {
  return queued().then((items) => mine(items, config.staff.id));
}

function count() {
  return myQueue().then((items) => {
    pending = items.length;
    render();
    return items;
  });
}

function render() {
  const store = storeId();
  const shown = offline || pending > 0;
  show($("offline"), shown);
  if (!shown) return;
  let text;
  if (offline && !enabledHere(store)) text = gettext("Offline: redeeming resumes when the network is back");
  else if (offline) text = interpolate(gettext("Offline mode · %(n)s waiting to upload"), { n: pending }, true);
  else text = interpolate(gettext("%(n)s taken offline waiting to upload"), { n: pending }, true);
  $("offline-text").textContent = text;
  $("offline").classList.toggle("offline-on", offline);
  show($("offline-upload"), pending > 0);
}

// A fresh snapshot for the store, while online and with nothing queued under the old one. The
// phone sends the version of the list it holds: unchanged, the server answers 304 with no body and
// the phone keeps its list and key, held from now until the new expiry.
export async function refreshSnapshot() {
  const store = storeId();
  if (!enabledHere(store) || offline) return;
  if ((await myQueue()).length) return;
  lastSnapshotAt = Date.now();
  const url = config.urls.offline_snapshot + "?shape=compact&store=" + store + "&device=" + encodeURIComponent(deviceId());
  const record = await loadHeld(store);
  const held = record && !expired(record.snapshot, Date.now()) && record.etag;
  try {
    const answer = await call(url, undefined, 20000, held ? { "If-None-Match": record.etag } : {});
    if (answer.status === 304 && held) {
      const snapshot = Object.assign(record.snapshot, {
        issued_at: answer.headers.get("Offline-Issued-At"), expires_at: answer.headers.get("Offline-Expires-At"),
      });
      await keep({ storeId: store, snapshot, etag: record.etag, held: { taken: [], count: 0, value: 0 } });
    } else if (answer.data.key) {
      await keep({ storeId: store, snapshot: answer.data, etag: answer.headers.get("ETag"),
        held: { taken: [], count: 0, value: 0 } });
    } else if (answer.data.result === "offline_disabled") {
      kept = null;
      await dropHeld(store);
    }
  } catch (error) {
    if (error && error.network) goOffline();
  }
}

async function keep(record) {
  await saveHeld(record);
  prepare(record.snapshot);
  kept = { storeId: record.storeId, snapshot: record.snapshot };
}

// The store's snapshot with what this device took under it, {snapshot, held}, or undefined. What
// was taken is read on every scan (another tab of this phone may have taken one); the list only
// when it is not the one kept in memory.
async function current(store) {
  const taken = await loadTaken(store);
  if (!kept || kept.storeId !== store || !taken || snapshotStamp(kept.snapshot) !== taken.of) {
    const record = await loadHeld(store);
    kept = record ? { storeId: store, snapshot: record.snapshot } : null;
    if (!record) return undefined;
    prepare(record.snapshot);
    if (!taken || snapshotStamp(record.snapshot) !== taken.of) return { snapshot: record.snapshot, held: record.held };
  }
  return { snapshot: kept.snapshot, held: taken.held };
}

// The decision on a scan from the snapshot alone: {ok, entry, value} or {ok: false, result}.
export async function judge(raw, store) {
  if (!enabledHere(store)) return { ok: false, result: "offline_none" };
  const record = await current(store);
  if (!record) return { ok: false, result: "offline_none" };
  if (expired(record.snapshot, Date.now())) {
    kept = null;
    await dropHeld(store);
    return { ok: false, result: "offline_stale" };
  }
  return decide(record.snapshot, scannedName(raw, record.snapshot), record.held, Date.now());
}

// Take it: noted against the snapshot (never twice, within the caps) and queued with its key and
// the moment it was scanned. Resolves the queue's length, or a refusal if it no longer passes.
export async function take(job) {
  const record = await current(job.store);
  const decision = record && decide(record.snapshot, scannedName(job.code, record.snapshot), record.held, Date.now());
  if (!decision || !decision.ok) return { ok: false, result: decision ? decision.result : "offline_none" };
  const held = record.held;
  held.taken.push(decision.entry.h);
  held.count += 1;
  held.value += decision.value;
  await saveTaken(job.store, record.snapshot, held);
  await enqueue({
    idempotency_key: job.key, code: job.code, uses: 1, store: job.store, scanned_at: new Date().toISOString(),
    product: decision.entry.product.name, staff: config.staff.id,
  });
  await count();
  return { ok: true, pending, entry: decision.entry };
}

// Upload the queue, oldest first; each item once, whatever happens to the answer.
export async function sync(manual) {
  if (syncing) return;
  const items = (await myQueue()).sort((a, b) => a.scanned_at.localeCompare(b.scanned_at));
  if (!items.length) {
    if (manual) toast(gettext("Nothing waiting to upload"));
    return;
  }
  syncing = true;
  $("offline-upload").disabled = true;
  try {
    const results = [];
    let waiting = 0;
    for (let at = 0; at < items.length; at += UPLOAD_BATCH) {
      const batch = items.slice(at, at + UPLOAD_BATCH).map((item) => ({
        idempotency_key: item.idempotency_key, code: item.code, uses: item.uses, store: item.store,
        scanned_at: item.scanned_at,
      }));
      const left = items.length - at - batch.length;
      const answer = await call(config.urls.offline_upload, { device: deviceId(), items: batch, pending: left }, 30000);
      if (!answer.data.results) {
        toast(answer.data.message || gettext("Something went wrong"));
        return;
      }
      offline = false;
      // A locked-out clerk's items were not judged: they stay on the phone for the next upload.
      const judged = answer.data.results.filter((r) => r.result !== "throttled");
      await dequeue(judged.map((r) => r.idempotency_key));
      results.push(...judged);
      waiting += answer.data.results.length - judged.length;
    }
    report(results, items);
    if (waiting) toast(interpolate(gettext("%(n)s wait on this phone: too many wrong codes, upload again later"),
      { n: waiting }, true));
    onSynced();
  } catch (error) {
    if (error && error.network) goOffline();
  } finally {
    syncing = false;
    $("offline-upload").disabled = false;
    await count();
  }
  if (!pending && !offline) refreshSnapshot();
}

// What the clerk is told after an upload: how many went through, and each that did not.
function report(results, items) {
  const byKey = {};
  items.forEach((item) => { byKey[item.idempotency_key] = item; });
  const conflicts = results.filter((r) => r.result !== "redeemed");
  const accepted = results.length - conflicts.length;
  const summary = interpolate(gettext("Uploaded %(n)s: %(ok)s redeemed, %(bad)s conflicts"),
    { n: results.length, ok: accepted, bad: conflicts.length }, true);
  toast(summary);
  if (!conflicts.length) return;
  $("sync-title").textContent = summary;
  const list = $("sync-list");
  list.textContent = "";
  conflicts.forEach((conflict) => {
    const item = byKey[conflict.idempotency_key] || {};
    const reason = config.reasons[conflict.result];
    const li = document.createElement("li");
    li.textContent = (item.product || "") + " · ****" + String(item.code || "").slice(-4) + " · " +
      (reason ? reason.title : conflict.message || conflict.result);
    list.appendChild(li);
  });
  $("sync-note").textContent = ngettext(
    "The owner sees this conflict on the dashboard.", "The owner sees these conflicts on the dashboard.", conflicts.length);
  show($("sync-report"), true);
}

// Logging out: never with redemptions still on the phone; the snapshots go.
export async function readyToLeave() {
  const items = await myQueue();
  if (items.length) {
    toast(interpolate(gettext("%(n)s taken offline are still on this phone: upload them before logging out"),
      { n: items.length }, true));
    sync(false);
    return false;
  }
  kept = null;
  await dropSnapshots();
  return true;
}
