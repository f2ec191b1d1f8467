import assert from "node:assert/strict";
import { test } from "node:test";

import { changedSince, isStale, secondsLeft } from "../../static/buyer/js/clock.js";

test("the countdown shows whole seconds left, never below zero", () => {
  assert.equal(secondsLeft(10_000, 0), 10);
  assert.equal(secondsLeft(10_000, 9_001), 1);
  assert.equal(secondsLeft(10_000, 10_000), 0);
  assert.equal(secondsLeft(10_000, 12_000), 0);
});

test("a QR goes stale only a whole window past its time", () => {
  assert.ok(!isStale(10_000, 30_000, 39_999));
  assert.ok(!isStale(10_000, 30_000, 40_000));
  assert.ok(isStale(10_000, 30_000, 40_001));
});

test("the page reloads when the counter changed the status or the uses left", () => {
  const shown = { status: "active", uses: "3" };
  assert.ok(!changedSince(shown, { status: "active", uses_left: 3 }));
  assert.ok(changedSince(shown, { status: "active", uses_left: 2 }));
  assert.ok(changedSince(shown, { status: "redeemed", uses_left: 0 }));
  assert.ok(!changedSince(shown, null), "no answer: nothing to show");
});
