import assert from "node:assert/strict";
import { test } from "node:test";

import {
  canUndo, keepsInput, lockSeconds, orderChoices, refusalMessage, screenFor, spokenText, voiceLanguage,
} from "../../static/staff/js/screens.js";

// As the scanner view renders it from redemption/reasons.py, in Chinese.
const REASONS = {
  not_found: { title: "券码不存在", tone: "refused" },
  expired: { title: "已过期", tone: "refused" },
  already_redeemed: { title: "已核销", tone: "used" },
  throttled: { title: "操作过于频繁", tone: "refused" },
  store_required: { title: "请选择门店", tone: "refused" },
};
const RULES = { clerk_undo_seconds: 600, live_qr_step: 30, throttle_window: 60 };

test("a redemption gets the green screen", () => {
  assert.deepEqual(screenFor({ ok: true, result: "redeemed" }, REASONS), { kind: "success", tone: "ok", title: null });
});

test("an already used code gets its own tone and the server's title", () => {
  const data = { ok: false, result: "already_redeemed", last_redemption: { at: "2026-03-01T12:00:00+08:00" } };
  assert.deepEqual(screenFor(data, REASONS), { kind: "used", tone: "used", title: "已核销" });
});

test("other refusals get the refusal screen with the server's title", () => {
  assert.deepEqual(screenFor({ ok: false, result: "expired" }, REASONS), { kind: "refused", tone: "refused", title: "已过期" });
  assert.deepEqual(screenFor({ ok: false, result: "not_found" }, REASONS), { kind: "refused", tone: "refused", title: "券码不存在" });
});

test("no answer means the outcome is unknown", () => {
  assert.equal(screenFor(null, REASONS).kind, "network");
  assert.equal(screenFor(undefined, REASONS).tone, "refused");
});

test("an answer the scanner has no title for is an error in its own words", () => {
  assert.deepEqual(screenFor({ ok: false, result: "error" }, REASONS), { kind: "error", tone: "refused", title: null });
  assert.equal(screenFor({ ok: false, result: "toString" }, REASONS).kind, "error");
});

test("the server's sentence goes under the title, except where facts or a countdown say it", () => {
  assert.equal(refusalMessage({ result: "expired", message: "券码已过期（有效期至 2026-01-31 23:59）" }),
    "券码已过期（有效期至 2026-01-31 23:59）");
  assert.equal(refusalMessage({ result: "already_redeemed", message: "已核销：…", last_redemption: {} }), "");
  assert.equal(refusalMessage({ result: "throttled", message: "错误次数过多，请 60 秒后再试", retry_after: 60 }), "");
  assert.equal(refusalMessage({ result: "not_found" }), "");
});

test("a sentence that only repeats the title is left out", () => {
  assert.equal(refusalMessage({ result: "not_found", message: "券码不存在" }, "券码不存在"), "");
  assert.equal(refusalMessage({ result: "already_redeemed", message: "Already redeemed." }, "Already redeemed"), "");
  assert.equal(refusalMessage({ result: "not_found", message: "No voucher with this code." }, "Code not found"),
    "No voucher with this code.");
});

test("a typed code that was not found stays in the field; anything else is cleared", () => {
  assert.ok(keepsInput({ result: "not_found" }, true));
  assert.ok(keepsInput({ result: "invalid_code" }, true));
  assert.ok(!keepsInput({ result: "not_found" }, false), "a scan is not corrected by hand");
  assert.ok(!keepsInput({ result: "expired" }, true));
});

test("a lock-out lasts what the server says, else the whole window", () => {
  assert.equal(lockSeconds({ result: "throttled", retry_after: 42 }, RULES), 42);
  assert.equal(lockSeconds({ result: "throttled" }, RULES), 60);
  assert.equal(lockSeconds({ result: "not_found" }, RULES), 0);
});

test("a clerk may undo their own redemption within the window", () => {
  const at = "2026-03-01T12:00:00+08:00";
  const now = Date.parse(at);
  const row = { at, reversed: false, staff: { id: 5 } };
  assert.ok(canUndo(row, 5, now + 599_000, RULES));
  assert.ok(!canUndo(row, 5, now + 600_000, RULES));
  assert.ok(!canUndo(row, 6, now, RULES), "someone else's");
  assert.ok(!canUndo({ ...row, reversed: true }, 5, now, RULES));
  assert.ok(!canUndo(row, null, now, RULES), "a login that is not staff");
});

test("success is spoken with the uses left; a refusal by the title on screen", () => {
  const words = { redeemed: (n) => `核销成功，剩余 ${n} 次` };
  assert.equal(spokenText({ kind: "success" }, { voucher: { uses_left: 2 } }, "核销成功", words), "核销成功，剩余 2 次");
  assert.equal(spokenText({ kind: "used" }, { result: "already_redeemed" }, "已核销", words), "已核销");
  assert.equal(spokenText({ kind: "network" }, null, "网络异常", words), "网络异常");
});

test("the voice follows the page's language", () => {
  assert.equal(voiceLanguage("zh-hans"), "zh-CN");
  assert.equal(voiceLanguage("en"), "en-US");
});

test("an order's vouchers: the redeemable ones to tick, the others with their reason's title", () => {
  const order = { order_no_masked: "****0042", channel: "pdd", vouchers: [
    { id: 1, code_masked: "****1111", product: { id: 9, name: "双人餐" }, uses_left: 0, status: "redeemed", result: "already_redeemed" },
    { id: 2, code_masked: "****2222", product: { id: 9, name: "双人餐" }, uses_left: 1, status: "active", result: "redeemable" },
    { id: 3, code_masked: "****3333", product: { id: 9, name: "双人餐" }, uses_left: 1, status: "active", result: "daily_limit" },
  ] };
  const reasons = { already_redeemed: { title: "已核销", tone: "used" }, daily_limit: { title: "今日次数已用完", tone: "refused" } };
  const choices = orderChoices(order, reasons);
  assert.deepEqual(choices.map((c) => [c.id, c.usable, c.why]), [[1, false, "已核销"], [2, true, ""], [3, false, "今日次数已用完"]]);
  assert.deepEqual(orderChoices({ vouchers: [order.vouchers[1]] }, reasons), []);
  assert.deepEqual(orderChoices(undefined, reasons), []);
});

test("a whole order is spoken as how many vouchers it took", () => {
  const words = { redeemed: (n) => "核销成功，剩余 " + n + " 次", order: (n) => "核销成功，共 " + n + " 张" };
  assert.equal(spokenText({ kind: "success" }, { redemptions: [{}, {}, {}] }, "核销成功", words), "核销成功，共 3 张");
});
