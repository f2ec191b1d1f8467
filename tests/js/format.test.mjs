import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { clock, day, minute, nextUse, todaySum, uses, usesOf, validity, waitSeconds } from "../../static/staff/js/format.js";

// A catalog as /jsi18n/ gives it for zh-hans: one plural form.
function chineseCatalog() {
  const words = {
    "%(n)s use": ["%(n)s 次"],
    "%(left)s of %(total)s": "剩 %(left)s 次 / 共 %(total)s 次",
    "%(count)s redemption": ["共 %(count)s 笔"],
    "No expiry": "长期有效",
    "%(from)s to %(until)s": "%(from)s 至 %(until)s",
    "Usable again today from %(time)s": "今天 %(time)s 后可用",
    "Usable again tomorrow from %(time)s": "明天 %(time)s 后可用",
    "Usable again on %(day)s from %(time)s": "%(day)s %(time)s 后可用",
  };
  globalThis.gettext = (msgid) => (typeof words[msgid] === "string" ? words[msgid] : msgid);
  globalThis.ngettext = (singular, plural, n) => (words[singular] ? words[singular][0] : n === 1 ? singular : plural);
}

afterEach(() => {
  delete globalThis.gettext;
  delete globalThis.ngettext;
});

test("server times are read as written, in the merchant's zone", () => {
  const at = "2026-03-01T23:59:30.123+08:00";
  assert.equal(day(at), "2026-03-01");
  assert.equal(minute(at), "2026-03-01 23:59");
  assert.equal(clock(at), "23:59");
  assert.equal(minute(null), "");
});

test("English without a catalog: the msgids, with plurals", () => {
  assert.equal(uses(1), "1 use");
  assert.equal(uses(3), "3 uses");
  assert.equal(usesOf(1, 3), "1 of 3");
  assert.equal(todaySum(1, 2), "1 redemption · 2 uses");
  assert.equal(waitSeconds(9), "Try again in 9 s");
});

test("validity shows what the voucher has", () => {
  const from = "2026-03-01T00:00:00+08:00";
  const until = "2026-03-31T23:59:59+08:00";
  assert.equal(validity({ valid_from: from, valid_until: until }), "2026-03-01 to 2026-03-31");
  assert.equal(validity({ valid_from: null, valid_until: until }), "until 2026-03-31");
  assert.equal(validity({ valid_from: from, valid_until: null }), "from 2026-03-01");
  assert.equal(validity({ valid_from: null, valid_until: null }), "No expiry");
});

test("Chinese from the catalog", () => {
  chineseCatalog();
  assert.equal(usesOf(1, 3), "剩 1 次 / 共 3 次");
  assert.equal(todaySum(3, 5), "共 3 笔 · 5 次");
  assert.equal(uses(1), "1 次");
  assert.equal(validity({ valid_from: null, valid_until: null }), "长期有效");
});

test("when a voucher can be used next, in the merchant's day whatever the phone's zone", () => {
  chineseCatalog();
  // 23:30 on 1 December in Shanghai is still 15:30 UTC on 1 December.
  const now = Date.parse("2026-12-01T15:30:00Z");
  assert.equal(nextUse("2026-12-02T10:00:00+08:00", now), "明天 10:00 后可用");
  assert.equal(nextUse("2026-12-01T23:45:00+08:00", now), "今天 23:45 后可用");
  assert.equal(nextUse("2026-12-07T10:00:00+08:00", now), "12-07 10:00 后可用");
  // Half past midnight in Shanghai is a new day there, though not yet in UTC.
  const afterMidnight = Date.parse("2026-12-01T16:30:00Z");
  assert.equal(nextUse("2026-12-02T10:00:00+08:00", afterMidnight), "今天 10:00 后可用");
  assert.equal(nextUse(null, now), "");
});

test("when next, in English without a catalog", () => {
  const now = Date.parse("2026-12-01T04:00:00Z");
  assert.equal(nextUse("2026-12-02T10:00:00+08:00", now), "Usable again tomorrow from 10:00");
});
