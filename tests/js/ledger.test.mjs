import { test } from "node:test";
import assert from "node:assert/strict";
import { createLedger } from "../../static/dashboard/js/ledger.js";

const T0 = Date.parse("2026-12-01T10:00:00+08:00");
const ev = (id, secondsAfter) => ({ id, at: new Date(T0 + secondsAfter * 1000).toISOString() });

test("each event is accepted once, in whatever order the ids come", () => {
  const ledger = createLedger({ after: 10, settleMs: 30000 });
  const now = T0 + 5000;
  assert.equal(ledger.accept(ev(13, 1), now), true);
  assert.equal(ledger.accept(ev(12, 1), now), true); // a lower id that committed later still shows
  assert.equal(ledger.accept(ev(13, 1), now), false); // a push and a replay of the same event
  assert.equal(ledger.accept(ev(9, 0), now), false); // before the page's start
  assert.equal(ledger.newest(), 13);
});

test("a reconnect resumes below anything that may still be committing", () => {
  const ledger = createLedger({ after: 10, settleMs: 30000 });
  ledger.accept(ev(20, 0), T0);
  ledger.accept(ev(25, 20), T0 + 20000);
  // 40 s in: event 20 is settled, 25 is not, so a late 21..24 must still be asked for.
  assert.equal(ledger.resumeFrom(T0 + 40000), 20);
  assert.equal(ledger.accept(ev(22, 19), T0 + 40000), true);
  assert.equal(ledger.accept(ev(20, 0), T0 + 40000), false);
  // Later everything has settled: the replay starts after the newest.
  assert.equal(ledger.resumeFrom(T0 + 120000), 25);
});

test("with nothing held yet the page resumes where it started", () => {
  assert.equal(createLedger({ after: 7, settleMs: 30000 }).resumeFrom(T0), 7);
});
