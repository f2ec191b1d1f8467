import assert from "node:assert/strict";
import { test } from "node:test";

import { ago, countdown, deviceLabel, devicesByStaff, howLabel, manageable } from "../../static/dashboard/js/people.js";
import { TABS, tabFrom } from "../../static/dashboard/js/backoffice.js";

test("the time left on a sign-in QR reads as minutes and seconds, and stops at 00:00", () => {
  assert.equal(countdown(600000), "10:00");
  assert.equal(countdown(59001), "01:00");
  assert.equal(countdown(9000), "00:09");
  assert.equal(countdown(400), "00:01");
  assert.equal(countdown(0), "00:00");
  assert.equal(countdown(-5000), "00:00");
});

test("devices are grouped under the member they belong to, in the order listed", () => {
  const devices = [
    { id: 3, staff: { id: 7, display_name: "小李" } },
    { id: 1, staff: { id: 2, display_name: "店主" } },
    { id: 5, staff: { id: 7, display_name: "小李" } },
  ];
  const grouped = devicesByStaff(devices);
  assert.deepEqual(grouped[7].map((d) => d.id), [3, 5]);
  assert.deepEqual(grouped[2].map((d) => d.id), [1]);
  assert.equal(grouped[9], undefined);
});

test("a device without a name is called by how it signed in", () => {
  assert.equal(howLabel("password"), "Password sign-in");
  assert.equal(howLabel("token"), "API token");
  assert.equal(howLabel("qr"), "QR sign-in");
  assert.equal(deviceLabel({ name: "", how: "qr" }), "QR sign-in");
  assert.equal(deviceLabel({ name: "iPhone · 微信", how: "qr" }), "iPhone · 微信");
});

test("the last use reads as how long ago", () => {
  const now = Date.parse("2026-12-06T10:00:00+08:00");
  assert.equal(ago("2026-12-06T09:59:30+08:00", now), "just now");
  assert.equal(ago("2026-12-06T09:59:00+08:00", now), "1 minute ago");
  assert.equal(ago("2026-12-06T09:57:00+08:00", now), "3 minutes ago");
  assert.equal(ago("2026-12-06T08:00:00+08:00", now), "2 hours ago");
  assert.equal(ago("2026-12-01T10:00:00+08:00", now), "5 days ago");
  assert.equal(ago("2026-12-06T02:00:00Z", now), "just now");
});

test("only active clerks and managers get a sign-in QR and 停用, never the owner", () => {
  assert.equal(manageable({ role: "clerk", is_active: true }), true);
  assert.equal(manageable({ role: "manager", is_active: true }), true);
  assert.equal(manageable({ role: "owner", is_active: true }), false);
  assert.equal(manageable({ role: "clerk", is_active: false }), false);
});

test("the 员工 tab is the owner's: a manager's #people shows the overview", () => {
  assert.ok(TABS.includes("people"));
  assert.equal(tabFrom("#people", true), "people");
  assert.equal(tabFrom("#people", false), "overview");
});
