// What the scanner keeps on the device for offline use, in IndexedDB: the snapshot of each store
// (with what this device took under it) and the queue of redemptions taken offline, waiting to be
// uploaded. Both survive reloads and a closed tab; logging out drops the snapshots.

const DB = "hx-offline";
const SNAPSHOTS = "snapshots";
const QUEUE = "queue";

let opened = null;

function open() {
  if (!opened) {
    opened = new Promise((done, fail) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(SNAPSHOTS, { keyPath: "storeId" });
        request.result.createObjectStore(QUEUE, { keyPath: "idempotency_key" });
      };
      request.onsuccess = () => done(request.result);
      request.onerror = () => fail(request.error);
    });
  }
  return opened;
}

function run(name, mode, work) {
  return open().then((db) => new Promise((done, fail) => {
    const tx = db.transaction(name, mode);
    const result = work(tx.objectStore(name));
    tx.oncomplete = () => done(result && "result" in result ? result.result : result);
    tx.onerror = () => fail(tx.error);
  }));
}

// {storeId, snapshot, held: {taken, count, value}} or undefined.
export function loadHeld(storeId) {
  return run(SNAPSHOTS, "readonly", (s) => s.get(storeId));
}

// What this device took under a snapshot is kept beside it, small, so that a scan reads and writes
// that alone and not the list of thousands: {of: snapshotStamp(snapshot), held}.
function takenKey(storeId) {
  return "taken:" + storeId;
}

// Which snapshot a record of what was taken belongs to: a refresh that kept the list and its key
// (304) is a new one all the same.
export function snapshotStamp(snapshot) {
  return snapshot.key + "@" + snapshot.issued_at;
}

export function saveHeld(record) {
  return run(SNAPSHOTS, "readwrite", (s) => {
    s.put(record);
    s.put({ storeId: takenKey(record.storeId), of: snapshotStamp(record.snapshot), held: record.held });
  });
}

export function loadTaken(storeId) {
  return run(SNAPSHOTS, "readonly", (s) => s.get(takenKey(storeId)));
}

export function saveTaken(storeId, snapshot, held) {
  return run(SNAPSHOTS, "readwrite", (s) => s.put({ storeId: takenKey(storeId), of: snapshotStamp(snapshot), held }));
}

export function dropHeld(storeId) {
  return run(SNAPSHOTS, "readwrite", (s) => {
    s.delete(storeId);
    s.delete(takenKey(storeId));
  });
}

export function queued() {
  return run(QUEUE, "readonly", (s) => s.getAll());
}

export function enqueue(item) {
  return run(QUEUE, "readwrite", (s) => s.put(item));
}

export function dequeue(keys) {
  return run(QUEUE, "readwrite", (s) => keys.forEach((key) => s.delete(key)));
}

// Logging out: the snapshots go (they belong to this member); the queue stays until uploaded.
export function dropSnapshots() {
  return run(SNAPSHOTS, "readwrite", (s) => s.clear());
}
