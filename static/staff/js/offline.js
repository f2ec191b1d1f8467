// Deciding alone while the shop is offline. Pure: the snapshot, the clock and what this device has
// taken come in as arguments, so Node's tests can hold the rules.
//
// A snapshot (GET /api/v1/offline/snapshot/) names each voucher by h, 128 bits of the HMAC under the
// snapshot's key of the code's slow digest (PBKDF2 as its kdf says), and by t, the HMAC of its
// buyer-page token; it never holds a code. The device
// takes a voucher offline only when the snapshot says it is redeemable now, this device has not
// taken it already, and the caps the owner set still allow one more.

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
  const url = BUYER_URL.exec(text);
  if (url && (text.includes("://") || text.startsWith("/"))) return { by: "t", name: hmacHex(snapshot.key, url[1]) };
  const code = flatten(text);
  return code ? { by: "h", name: codeName(code, snapshot) } : null;
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
  const entry = snapshot.vouchers.find((v) => v[scanned.by] === scanned.name);
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
