// Deciding alone while the shop is offline. Pure: the snapshot, the clock and what this device has
// taken come in as arguments, so Node's tests can hold the rules.
//
// A snapshot (GET /api/v1/offline/snapshot/) names each voucher by h, 128 bits of the HMAC under the
// snapshot's key of the code's slow digest (PBKDF2 as its kdf says), and by t, the HMAC of its
// buyer-page token; it never holds a code. The device
// takes a voucher offline only when the snapshot says it is redeemable now, this device has not
// taken it already, and the caps the owner set still allow one more.
//
// The scanner fetches the compact shape (?shape=compact): products once in a table, each voucher an
// array [h, t, uses_left, valid_from, valid_until, product, status] with its names cut to `names`
// hex digits and its validity in epoch seconds. A scan looks its name up in a Map made once per
// snapshot: with 20,000 vouchers, going through them one by one on every scan would not do.

import { flatten } from "./codes.js";
import { hexToBytes, hmac, hmacHex, pbkdf2, toHex } from "./sha256.js";

const BUYER_URL = /\/v\/([A-Za-z0-9_-]{16,32})\/?(?:[?#].*)?$/;

// The slow digest of the last code asked for: a scan is judged, then taken, and each asks.
let last = { of: "", digest: null };

function digest(code, kdf) {
  const of = kdf.salt + "/" + kdf.iterations + "/" + code;
  if (last.of !== of) last = { of, digest: pbkdf2(new TextEncoder().encode(code), hexToBytes(kdf.salt), kdf.iterations) };
  return last.digest;
}

// A code's name in the snapshot, as redemption.offline.code_hash makes it. A snapshot fetched before
// there was a digest (a phone may keep one for offline_snapshot_hours) names it by the code's HMAC.
export function codeName(code, snapshot) {
  if (!snapshot.kdf) return hmacHex(snapshot.key, code);
  return toHex(hmac(hexToBytes(snapshot.key), digest(code, snapshot.kdf)).subarray(0, 16));
}

// What a scan names, as the snapshot names it: {by: "h" | "t", name}; null for what no snapshot
// can judge (a live QR changes every few seconds and needs the server's secret).
export function scannedName(raw, snapshot) {
  const text = String(raw == null ? "" : raw).normalize("NFKC").trim();
  if (text.startsWith("LQ1.")) return null;
  const cut = snapshot.names || { h: undefined, t: undefined };
  const url = BUYER_URL.exec(text);
  if (url && (text.includes("://") || text.startsWith("/"))) {
    return { by: "t", name: hmacHex(snapshot.key, url[1]).slice(0, cut.t) };
  }
  const code = flatten(text);
  return code ? { by: "h", name: codeName(code, snapshot).slice(0, cut.h) } : null;
}

const indexes = new WeakMap();

// The snapshot's vouchers by name ("h:" or "t:" and the name) to their place in the list. Made
// once per snapshot, when the scanner reads it in, so no scan waits for it.
export function prepare(snapshot) {
  let index = indexes.get(snapshot);
  if (!index) {
    index = new Map();
    const compact = snapshot.format === "compact";
    snapshot.vouchers.forEach((v, at) => {
      index.set("h:" + (compact ? v[0] : v.h), at);
      index.set("t:" + (compact ? v[1] : v.t), at);
    });
    indexes.set(snapshot, index);
  }
  return index;
}

function iso(seconds) {
  return seconds == null ? null : new Date(seconds * 1000).toISOString();
}

// A voucher of the snapshot in the full shape, whichever shape the snapshot came in.
export function entryAt(snapshot, at) {
  const v = snapshot.vouchers[at];
  if (snapshot.format !== "compact") return v;
  return {
    h: v[0], t: v[1], uses_left: v[2], valid_from: iso(v[3]), valid_until: iso(v[4]),
    product: snapshot.products[v[5]], status: snapshot.statuses[v[6]],
  };
}

// The voucher a scan names, or undefined.
export function find(snapshot, scanned) {
  const at = prepare(snapshot).get(scanned.by + ":" + scanned.name);
  return at === undefined ? undefined : entryAt(snapshot, at);
}

// Money as whole fen, so caps add up exactly: "98.00" -> 9800.
export function fen(decimal) {
  const [whole, part = ""] = String(decimal).split(".");
  return +whole * 100 + +(part + "00").slice(0, 2);
}

// One use of a voucher, in fen: face value / uses per voucher, rounded as the server rounds cents.
export function useValue(product) {
  return Math.round(fen(product.face_value) / product.uses_per_voucher);
}

export function expired(snapshot, nowMs) {
  return !snapshot || Date.parse(snapshot.expires_at) <= nowMs;
}

// The decision on one scan: {ok: true, entry, value} or {ok: false, result}. `held` is what this
// device took under this snapshot: {taken: [names], count, value (fen)}.
export function decide(snapshot, scanned, held, nowMs) {
  if (expired(snapshot, nowMs)) return { ok: false, result: "offline_stale" };
  if (!scanned) return { ok: false, result: "offline_unknown" };
  const entry = find(snapshot, scanned);
  if (!entry) return { ok: false, result: "offline_unknown" };
  if (held.taken.includes(entry.h)) return { ok: false, result: "offline_taken", entry };
  if (entry.status !== "active") return { ok: false, result: entry.status === "redeemed" ? "already_redeemed" : entry.status, entry };
  if (entry.uses_left < 1) return { ok: false, result: "already_redeemed", entry };
  if (entry.valid_from && Date.parse(entry.valid_from) > nowMs) return { ok: false, result: "not_yet_valid", entry };
  if (entry.valid_until && Date.parse(entry.valid_until) < nowMs) return { ok: false, result: "expired", entry };
  const value = useValue(entry.product);
  const caps = snapshot.caps;
  if (held.count + 1 > caps.max_redemptions || held.value + value > fen(caps.max_value)) {
    return { ok: false, result: "offline_cap", entry };
  }
  return { ok: true, entry, value };
}

// What the scanner's confirm step shows of a voucher known only from the snapshot.
export function voucherOf(entry) {
  return {
    code_masked: "", product: { id: entry.product.id, name: entry.product.name },
    uses_total: entry.product.uses_per_voucher, uses_left: entry.uses_left,
    valid_from: entry.valid_from, valid_until: entry.valid_until, status: entry.status,
    order_no_masked: "", buyer_phone_masked: "",
  };
}

// What this member took offline on this phone. Another member's (the phone was signed out while
// it held some) wait for that member to sign in here again: uploaded under anyone else, they would
// count as theirs. Items queued before items named their taker are the current member's.
export function mine(items, staffId) {
  return items.filter((item) => item.staff === undefined || item.staff === staffId);
}
