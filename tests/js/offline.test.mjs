import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { decide, fen, scannedName, useValue } from "../../static/staff/js/offline.js";

const KEY = "ab".repeat(32);
const name = (text) => createHmac("sha256", Buffer.from(KEY, "hex")).update(text).digest("hex");
const NOW = Date.parse("2026-12-01T04:00:00Z");

function snapshot(extra = {}) {
  return {
    key: KEY, expires_at: "2026-12-01T20:00:00+08:00", caps: { max_redemptions: 3, max_value: "250.00" },
    vouchers: [
      { h: name("1234567890123452"), t: name("tok_abcdefghijklmnop"), uses_left: 1, valid_from: null,
        valid_until: "2026-12-31T23:59:59+08:00", status: "active",
        product: { id: 1, name: "双人餐", face_value: "98.00", uses_per_voucher: 1 } },
      { h: name("WASH0001"), t: name("tok_washwashwashwash"), uses_left: 3, valid_from: "2026-12-02T00:00:00+08:00",
        valid_until: null, status: "active", product: { id: 2, name: "洗车 3 次卡", face_value: "100.00", uses_per_voucher: 3 } },
    ],
    ...extra,
  };
}
const empty = () => ({ taken: [], count: 0, value: 0 });

test("a typed code, a scanned one with dashes, and the buyer page's QR all find the voucher", () => {
  const s = snapshot();
  for (const scan of ["1234567890123452", "1234-5678 9012-3452", "１２３４５６７８９０１２３４５２", "https://shop.example/v/tok_abcdefghijklmnop/"]) {
    const decision = decide(s, scannedName(scan, KEY), empty(), NOW);
    assert.equal(decision.ok, true, scan);
    assert.equal(decision.entry.product.name, "双人餐");
    assert.equal(decision.value, 9800);
  }
});

test("what the snapshot does not hold, a live QR, and a stale snapshot are refused", () => {
  assert.equal(decide(snapshot(), scannedName("9999", KEY), empty(), NOW).result, "offline_unknown");
  assert.equal(decide(snapshot(), scannedName("LQ1.tok.123.abc", KEY), empty(), NOW).result, "offline_unknown");
  assert.equal(decide(snapshot({ expires_at: "2026-12-01T11:00:00+08:00" }), scannedName("1234567890123452", KEY), empty(), NOW).result, "offline_stale");
});

test("never twice on one device, never before its validity, never past the caps", () => {
  const s = snapshot();
  const meal = scannedName("1234567890123452", KEY);
  assert.equal(decide(s, meal, { taken: [meal.name], count: 1, value: 9800 }, NOW).result, "offline_taken");
  assert.equal(decide(s, scannedName("WASH0001", KEY), empty(), NOW).result, "not_yet_valid");
  assert.equal(decide(s, meal, { taken: [], count: 3, value: 0 }, NOW).result, "offline_cap");
  assert.equal(decide(s, meal, { taken: [], count: 1, value: 15300 }, NOW).result, "offline_cap");
  assert.equal(decide(s, meal, { taken: [], count: 1, value: 15200 }, NOW).ok, true);
});

test("money in fen: a third of 100.00 is 3333", () => {
  assert.equal(fen("250.00"), 25000);
  assert.equal(fen("9.9"), 990);
  assert.equal(useValue({ face_value: "100.00", uses_per_voucher: 3 }), 3333);
});
