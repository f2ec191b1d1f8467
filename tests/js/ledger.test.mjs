import { test } from "node:test";
import assert from "node:assert/strict";
import { createLedger } from "../../static/dashboard/js/ledger.js";

const T0 = Date.parse("2026-12-01T10:00:00+08:00");
const ev = (id, secondsAfter) => ({ id, at: new Date(T0 + secondsAfter * 1000).toISOString() });

test("each event is accepted once, in whatever order the ids come", () => {
  const ledger = createLedger({ after: 10, repeatMs: 32000 });
  assert.equal(ledger.accept(ev(13, 1)), true);
  assert.equal(ledger.accept(ev(12, 1)), true); // a lower id that committed later still shows
  assert.equal(ledger.accept(ev(13, 1)), false); // a push and a replay of the same event
  assert.equal(ledger.accept(ev(9, 0)), false); // before the page's start
  assert.equal(ledger.newest(), 13);
});

test("a reconnect resumes after the newest id, and what the server sends again shows once", () => {
  const ledger = createLedger({ after: 10, repeatMs: 32000 });
  ledger.accept(ev(20, 0));
  ledger.accept(ev(25, 20));
  assert.equal(ledger.newest(), 25);
  // The server sends again the half minute before 25, with 22 that committed late among it.
  assert.equal(ledger.accept(ev(20, 0)), false);
  assert.equal(ledger.accept(ev(22, 19)), true);
  assert.equal(ledger.accept(ev(25, 20)), false);
});

test("a late event is shown however long the page was away", () => {
  const ledger = createLedger({ after: 10, repeatMs: 32000 });
  ledger.accept(ev(20, 0));
  ledger.accept(ev(30, 600));
  assert.equal(ledger.accept(ev(19, 0)), true);
});

test("with nothing held yet the page resumes where it started", () => {
  assert.equal(createLedger({ after: 7, repeatMs: 32000 }).newest(), 7);
});
