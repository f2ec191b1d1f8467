import assert from "node:assert/strict";
import { test } from "node:test";

import { orderParams, query, statementParams, statementTotals, tabFrom } from "../../static/dashboard/js/backoffice.js";

test("the address names the tab; a manager has no history or 发券 tab", () => {
  assert.equal(tabFrom("#orders", false), "orders");
  assert.equal(tabFrom("#history", true), "history");
  assert.equal(tabFrom("#history", false), "overview");
  assert.equal(tabFrom("#issue", true), "issue");
  assert.equal(tabFrom("#issue", false), "overview");
  assert.equal(tabFrom("#nothing", true), "overview");
  assert.equal(tabFrom("", true), "overview");
});

test("queries carry only the filters that are set", () => {
  const filters = { from: "2026-06-01", to: "2026-06-01", store: "" };
  assert.equal(query(orderParams(filters, { channel: "pdd", status: "redeemed", q: "" })),
    "from=2026-06-01&to=2026-06-01&channel=pdd&status=redeemed");
  assert.equal(query(statementParams({ ...filters, store: "3" }, { channel: "" })), "from=2026-06-01&to=2026-06-01&store=3");
  assert.equal(query({ q: "订单 1&2" }), "q=%E8%AE%A2%E5%8D%95%201%262");
});

test("the statement's total adds up in cents", () => {
  const rows = [
    { redemptions: 2, uses: 3, value: "0.10", reversed: 0, reversed_value: "0.00", net_value: "0.10" },
    { redemptions: 1, uses: 1, value: "0.20", reversed: 1, reversed_value: "0.20", net_value: "0.00" },
  ];
  assert.deepEqual(statementTotals(rows), { redemptions: 3, uses: 4, value: 30, reversed: 1, reversed_value: 20, net_value: 10 });
});
