import assert from "node:assert/strict";
import { test } from "node:test";

import { burstWatch } from "../../static/dashboard/js/bursts.js";
import { PRESETS, changed, presetOf, rangeFrom, rolledOver, shift, today } from "../../static/dashboard/js/days.js";
import { reasonTitle } from "../../static/dashboard/js/feed.js";
import { money, tileChange, totals } from "../../static/dashboard/js/figures.js";
import { backoff, eventsIn } from "../../static/dashboard/js/live.js";
import { bars, esc, table } from "../../static/dashboard/js/render.js";

test("today is the merchant's day, whatever zone the browser is in", () => {
  const lateInShanghai = new Date("2026-03-01T15:59:00Z");
  assert.equal(today("Asia/Shanghai", lateInShanghai), "2026-03-01");
  assert.equal(today("Asia/Shanghai", new Date("2026-03-01T16:00:00Z")), "2026-03-02");
  assert.equal(today("America/New_York", lateInShanghai), "2026-03-01");
});

test("presets as of a day, and which one a range is", () => {
  assert.equal(shift("2026-03-01", -1), "2026-02-28");
  assert.deepEqual(PRESETS.week("2026-03-03"), ["2026-02-25", "2026-03-03"]);
  assert.deepEqual(PRESETS.month("2026-03-17"), ["2026-03-01", "2026-03-17"]);
  assert.equal(presetOf({ from: "2026-03-01", to: "2026-03-01" }, "2026-03-01"), "today", "the 1st: today before this month");
  assert.equal(presetOf({ from: "2026-03-01", to: "2026-03-17" }, "2026-03-17"), "month");
  assert.equal(presetOf({ from: "2026-02-02", to: "2026-03-17" }, "2026-03-17"), "custom");
});

test("the address's range is kept, anything else is today", () => {
  const q = (s) => new URLSearchParams(s);
  assert.deepEqual(rangeFrom(q("from=2026-02-01&to=2026-02-10"), "2026-03-01"), { from: "2026-02-01", to: "2026-02-10" });
  assert.deepEqual(rangeFrom(q("from=junk&to=2026-13"), "2026-03-01"), { from: "2026-03-01", to: "2026-03-01" });
  assert.deepEqual(rangeFrom(q("from=2026-04-01"), "2026-03-01"), { from: "2026-04-01", to: "2026-04-01" });
});

test("a range turned inside out follows the end that was just moved", () => {
  const range = { from: "2026-03-05", to: "2026-03-10", store: "" };
  assert.deepEqual(changed(range, { to: "2026-03-01" }), { from: "2026-03-01", to: "2026-03-01", store: "" });
  assert.deepEqual(changed(range, { from: "2026-03-20" }), { from: "2026-03-20", to: "2026-03-20", store: "" });
  assert.deepEqual(changed(range, { store: "4" }), { from: "2026-03-05", to: "2026-03-10", store: "4" });
});

test("past midnight a preset moves on and a custom range stays", () => {
  assert.deepEqual(rolledOver({ from: "2026-03-01", to: "2026-03-01" }, "2026-03-01", "2026-03-02"),
    { from: "2026-03-02", to: "2026-03-02" });
  assert.deepEqual(rolledOver({ from: "2026-02-23", to: "2026-03-01" }, "2026-03-01", "2026-03-02"),
    { from: "2026-02-24", to: "2026-03-02" });
  assert.equal(rolledOver({ from: "2026-02-01", to: "2026-02-03" }, "2026-03-01", "2026-03-02"), null);
});

test("the tiles add up the staff rows, money in cents", () => {
  const rows = [
    { redemptions: 2, uses: 3, face_value_total: "60.10", refused_attempts: 1, reversed: 0 },
    { redemptions: 1, uses: 1, face_value_total: "0.20", refused_attempts: 0, reversed: 1 },
  ];
  assert.deepEqual(totals(rows), { redemptions: 3, uses: 4, cents: 6030, refused: 1, reversed: 1 });
  assert.equal(money(123456789), "¥1,234,567.89");
});

test("a live event moves the tiles only inside the range and store on show", () => {
  const filters = { from: "2026-03-01", to: "2026-03-01", store: "4" };
  const redemption = { at: "2026-03-01T23:59:59+08:00", uses: 2, store: { id: 4 } };
  assert.deepEqual(tileChange({ type: "redemption.created", redemption }, filters), { redemptions: 1, uses: 2 });
  assert.deepEqual(tileChange({ type: "redemption.reversed", redemption }, filters), { redemptions: -1, uses: -2, reversed: 1 });
  assert.equal(tileChange({ type: "redemption.created", redemption: { ...redemption, store: { id: 5 } } }, filters), null);
  assert.equal(tileChange({ type: "redemption.created", redemption: { ...redemption, at: "2026-03-02T00:00:00+08:00" } }, filters), null);
  assert.deepEqual(tileChange({ type: "attempt.refused", at: "2026-03-01T10:00:00+08:00", store: { id: 4 } }, filters), { refused: 1 });
  assert.equal(tileChange({ type: "attempt.refused", at: "2026-03-01T10:00:00+08:00", store: null }, filters), null);
  assert.deepEqual(tileChange({ type: "attempt.refused", at: "2026-03-01T10:00:00+08:00", store: null }, { ...filters, store: "" }), { refused: 1 });
  assert.equal(tileChange({ type: "voucher.voided", at: "2026-03-01T10:00:00+08:00" }, filters), null);
});

test("five refusals by one member within a minute raise the alert with their name", () => {
  const watch = burstWatch({ size: 5, windowMs: 60000 });
  const at = (s) => `2026-03-01T10:00:${String(s).padStart(2, "0")}.123456+08:00`;
  const bob = { display_name: "小王" };
  for (let s = 0; s < 4; s++) assert.equal(watch({ at: at(s * 10), staff: bob }), null);
  assert.deepEqual(watch({ at: at(45), staff: bob }), { n: 5, names: "小王" });
});

test("one member's own burst is named alone, even with others' refusals in the window", () => {
  const watch = burstWatch({ size: 5, windowMs: 60000 });
  const at = (s) => `2026-03-01T10:00:0${s}+08:00`;
  watch({ at: at(0), staff: { display_name: "B" } });
  for (let s = 1; s < 4; s++) watch({ at: at(s), staff: { display_name: "A" } });
  assert.deepEqual(watch({ at: at(4), staff: { display_name: "A" } }), { n: 5, names: "A、B" });
  assert.deepEqual(watch({ at: at(5), staff: { display_name: "A" } }), { n: 5, names: "A" });
});

test("refusals spread over people raise it with the first three names", () => {
  const watch = burstWatch({ size: 5, windowMs: 60000 });
  const names = ["A", "B", "C", "D", "A"];
  let last = null;
  names.forEach((name, i) => { last = watch({ at: `2026-03-01T10:00:0${i}+08:00`, staff: { display_name: name } }); });
  assert.deepEqual(last, { n: 5, names: "A、B、C…" });
});

test("refusals older than the window do not count", () => {
  const watch = burstWatch({ size: 3, windowMs: 60000 });
  watch({ at: "2026-03-01T10:00:00+08:00", staff: null });
  watch({ at: "2026-03-01T10:00:30+08:00", staff: null });
  assert.equal(watch({ at: "2026-03-01T10:01:00+08:00", staff: null }), null);
  assert.deepEqual(watch({ at: "2026-03-01T10:01:10+08:00", staff: null }), { n: 3, names: "?" });
});

test("a refused attempt shows the server's title for its reason, else the code itself", () => {
  const reasons = { not_found: { title: "券码不存在", tone: "refused" } };
  assert.equal(reasonTitle(reasons, "not_found"), "券码不存在");
  assert.equal(reasonTitle(reasons, "daily_limit"), "daily_limit");
  assert.equal(reasonTitle(reasons, "constructor"), "constructor");
  assert.equal(reasonTitle(undefined, "not_found"), "not_found");
});

test("reconnects back off, doubling up to 30 s, with jitter", () => {
  assert.equal(backoff(0, () => 0), 500);
  assert.equal(backoff(0, () => 1), 1000);
  assert.equal(backoff(3, () => 0.5), 6000);
  assert.equal(backoff(10, () => 1), 30000);
});

test("merchant text is escaped in tables and the chart", () => {
  assert.equal(esc(`<b>"x" & 'y'</b>`), "&#60;b&#62;&#34;x&#34; &#38; &#39;y&#39;&#60;/b&#62;");
  const html = table([{ label: "员工", get: (r) => esc(r.name) }, { label: "次数", num: true, get: (r) => r.n }],
    [{ name: "<script>", n: 3 }], "暂无数据");
  assert.ok(html.includes("<td>&#60;script&#62;</td>") && html.includes('<td class="num">3</td>'));
  assert.ok(!bars([{ label: "<img src=x>", value: 2 }], 400, "chart").includes("<img"));
});

test("an empty table says so; an empty chart draws nothing", () => {
  assert.ok(table([{ label: "a", get: () => "" }], [], "暂无数据").includes('<td class="empty" colspan="1">暂无数据</td>'));
  assert.equal(bars([], 400, "chart"), "");
});

test("bars are as long as their values, the longest filling the room", () => {
  const svg = bars([{ label: "A", value: 10 }, { label: "B", value: 5 }, { label: "C", value: 0 }], 400, "chart");
  const widths = Array.from(svg.matchAll(/<rect [^>]*width="(\d+)"/g), (m) => +m[1]);
  assert.ok(Math.abs(widths[0] - 2 * widths[1]) <= 1, String(widths));
  assert.ok(widths[0] > 300, "the longest fills the room beside the labels");
  assert.equal(widths[2], 0);
});

test("a batch of the live feed is taken event by event, oldest first; a single event as itself", () => {
  const one = { type: "redemption.created", id: 7, at: "2026-12-06T12:00:00+08:00" };
  const two = { type: "voucher.voided", id: 9, at: "2026-12-06T12:00:01+08:00" };
  assert.deepEqual(eventsIn([one, two]).map((e) => e.id), [7, 9]);
  assert.deepEqual(eventsIn(one), [one]);
});
