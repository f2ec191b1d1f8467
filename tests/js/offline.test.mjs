import assert from "node:assert/strict";
import { createHmac, pbkdf2Sync } from "node:crypto";
import { test } from "node:test";

import { decide, entryAt, fen, mine, scannedName, useValue } from "../../static/staff/js/offline.js";

const KEY = "ab".repeat(32);
const KDF = { name: "pbkdf2-sha256", salt: "5a".repeat(16), iterations: 1000 };
const hmacOf = (data) => createHmac("sha256", Buffer.from(KEY, "hex")).update(data).digest("hex");
// As the server names them (redemption.offline.code_hash, token_hash).
const name = (code, kdf = KDF) =>
  hmacOf(pbkdf2Sync(code, Buffer.from(kdf.salt, "hex"), kdf.iterations, 32, "sha256")).slice(0, 32);
const tokenName = (token) => hmacOf(token);
const NOW = Date.parse("2026-12-01T04:00:00Z");

function snapshot(extra = {}) {
  return {
    key: KEY, kdf: KDF, expires_at: "2026-12-01T20:00:00+08:00", caps: { max_redemptions: 3, max_value: "250.00" },
    vouchers: [
      { h: name("1234567890123452"), t: tokenName("tok_abcdefghijklmnop"), uses_left: 1, valid_from: null,
        valid_until: "2026-12-31T23:59:59+08:00", status: "active",
        product: { id: 1, name: "双人餐", face_value: "98.00", uses_per_voucher: 1 } },
      { h: name("WASH0001"), t: tokenName("tok_washwashwashwash"), uses_left: 3, valid_from: "2026-12-02T00:00:00+08:00",
        valid_until: null, status: "active", product: { id: 2, name: "洗车 3 次卡", face_value: "100.00", uses_per_voucher: 3 } },
    ],
    ...extra,
  };
}
const empty = () => ({ taken: [], count: 0, value: 0 });

test("a typed code, a scanned one with dashes, and the buyer page's QR all find the voucher", () => {
  const s = snapshot();
  for (const scan of ["1234567890123452", "1234-5678 9012-3452", "１２３４５６７８９０１２３４５２", "https://shop.example/v/tok_abcdefghijklmnop/"]) {
    const decision = decide(s, scannedName(scan, s), empty(), NOW);
    assert.equal(decision.ok, true, scan);
    assert.equal(decision.entry.product.name, "双人餐");
    assert.equal(decision.value, 9800);
  }
});

test("what the snapshot does not hold, a live QR, and a stale snapshot are refused", () => {
  const s = snapshot();
  assert.equal(decide(s, scannedName("9999", s), empty(), NOW).result, "offline_unknown");
  assert.equal(decide(s, scannedName("LQ1.tok.123.abc", s), empty(), NOW).result, "offline_unknown");
  const stale = snapshot({ expires_at: "2026-12-01T11:00:00+08:00" });
  assert.equal(decide(stale, scannedName("1234567890123452", stale), empty(), NOW).result, "offline_stale");
});

test("never twice on one device, never before its validity, never past the caps", () => {
  const s = snapshot();
  const meal = scannedName("1234567890123452", s);
  assert.equal(decide(s, meal, { taken: [meal.name], count: 1, value: 9800 }, NOW).result, "offline_taken");
  assert.equal(decide(s, scannedName("WASH0001", s), empty(), NOW).result, "not_yet_valid");
  assert.equal(decide(s, meal, { taken: [], count: 3, value: 0 }, NOW).result, "offline_cap");
  assert.equal(decide(s, meal, { taken: [], count: 1, value: 15300 }, NOW).result, "offline_cap");
  assert.equal(decide(s, meal, { taken: [], count: 1, value: 15200 }, NOW).ok, true);
});

test("a code is named by its slow digest, never by the code's bare HMAC a list's thief could run through", () => {
  const s = snapshot();
  assert.equal(scannedName("1234567890123452", s).name, name("1234567890123452"));
  assert.notEqual(scannedName("1234567890123452", s).name, hmacOf("1234567890123452").slice(0, 32));
  // Another merchant's salt or another cost names the same code otherwise, though it was just asked for.
  for (const kdf of [{ ...KDF, salt: "77".repeat(16) }, { ...KDF, iterations: 999 }]) {
    assert.equal(scannedName("1234567890123452", snapshot({ kdf })).name, name("1234567890123452", kdf));
  }
});

test("a list fetched before the slow digest still finds its codes by their HMAC", () => {
  const old = snapshot({ kdf: undefined });
  old.vouchers[0].h = hmacOf("1234567890123452");
  assert.equal(decide(old, scannedName("1234-5678-9012-3452", old), empty(), NOW).ok, true);
});

test("money in fen: a third of 100.00 is 3333", () => {
  assert.equal(fen("250.00"), 25000);
  assert.equal(fen("9.9"), 990);
  assert.equal(useValue({ face_value: "100.00", uses_per_voucher: 3 }), 3333);
});

test("a phone uploads only what the member signed in took offline; older items count as theirs", () => {
  const items = [{ idempotency_key: "a", staff: 7 }, { idempotency_key: "b", staff: 9 }, { idempotency_key: "c" }];
  assert.deepEqual(mine(items, 7).map((i) => i.idempotency_key), ["a", "c"]);
  assert.deepEqual(mine(items, 9).map((i) => i.idempotency_key), ["b", "c"]);
});

// The same snapshot as the server's ?shape=compact gives it (redemption.present.snapshot_compact_data).
function compact(full) {
  const products = [...new Map(full.vouchers.map((v) => [v.product.id, v.product])).values()];
  const seconds = (iso) => (iso ? Date.parse(iso) / 1000 : null);
  return {
    format: "compact", key: full.key, kdf: full.kdf, expires_at: full.expires_at, caps: full.caps,
    names: { h: 16, t: 12 }, products, statuses: ["active"],
    vouchers: full.vouchers.map((v) => [v.h.slice(0, 16), v.t.slice(0, 12), v.uses_left, seconds(v.valid_from),
      seconds(v.valid_until), products.findIndex((p) => p.id === v.product.id), 0]),
  };
}

test("the compact list decides every scan as the full one does", () => {
  const full = snapshot();
  const small = compact(full);
  const scans = ["1234567890123452", "https://shop.example/v/tok_abcdefghijklmnop/", "WASH0001", "9999",
    "https://shop.example/v/tok_nobodysnobodysnob/"];
  const meal = name("1234567890123452");
  const tookMeal = (h) => ({ taken: [h], count: 1, value: 9800 });
  for (const [heldSmall, heldFull] of [[empty(), empty()], [tookMeal(meal.slice(0, 16)), tookMeal(meal)]]) {
    for (const scan of scans) {
      const mini = decide(small, scannedName(scan, small), heldSmall, NOW);
      const whole = decide(full, scannedName(scan, full), heldFull, NOW);
      assert.equal(mini.result, whole.result, scan);
      assert.equal(mini.ok, whole.ok, scan);
      if (whole.entry) {
        assert.deepEqual({ ...mini.entry, h: undefined, t: undefined }, {
          ...whole.entry, h: undefined, t: undefined,
          valid_from: whole.entry.valid_from && new Date(whole.entry.valid_from).toISOString(),
          valid_until: whole.entry.valid_until && new Date(whole.entry.valid_until).toISOString() });
      }
    }
  }
  assert.equal(entryAt(small, 1).valid_from, "2026-12-01T16:00:00.000Z");
});

test("among 20,000 vouchers a scan finds its own by name, the last one as the first", () => {
  const full = snapshot();
  const small = compact(full);
  const filler = Array.from({ length: 20000 }, (_, i) => [
    createHmac("sha256", "filler").update(String(i)).digest("hex").slice(0, 16), "000000" + String(i).padStart(6, "0"),
    1, null, null, 0, 0]);
  small.vouchers = [...filler, ...small.vouchers];
  const meal = decide(small, scannedName("1234567890123452", small), empty(), NOW);
  assert.equal(meal.ok, true);
  assert.equal(meal.entry.product.name, "双人餐");
  assert.equal(decide(small, scannedName("WASH0001", small), empty(), NOW).result, "not_yet_valid");
  assert.equal(decide(small, scannedName("1234567890123459", small), empty(), NOW).result, "offline_unknown");
});
