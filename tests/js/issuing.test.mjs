import assert from "node:assert/strict";
import { test } from "node:test";

import { actionsFor, historyLine } from "../../static/dashboard/js/actions.js";
import { badLines, fileSummary, groupCode, issueChannels, uploadProgress, xlsxUrl } from "../../static/dashboard/js/issuing.js";

test("a code is shown in groups of four", () => {
  assert.equal(groupCode("1234567890123456"), "1234 5678 9012 3456");
  assert.equal(groupCode("ABCDEFGHIJ"), "ABCD EFGH IJ");
  assert.equal(groupCode("1234 5678"), "1234 5678");
});

test("the owner issues for every platform but the terminal's own api channel", () => {
  const channels = [{ value: "manual" }, { value: "api" }, { value: "pdd" }];
  assert.deepEqual(issueChannels(channels).map((c) => c.value), ["manual", "pdd"]);
});

test("upload progress is a whole percentage, never over 100", () => {
  assert.equal(uploadProgress(37, 100), "Uploading 37%");
  assert.equal(uploadProgress(2, 3), "Uploading 66%");
  assert.equal(uploadProgress(5, 0), "Uploading 0%");
});

test("a file's answer reads as counts, repeated orders named only when there are some", () => {
  assert.equal(fileSummary({ orders: 3, vouchers: 5, repeated: 0 }), "3 orders, 5 vouchers issued");
  assert.equal(fileSummary({ orders: 3, vouchers: 5, repeated: 1 }), "3 orders, 5 vouchers issued; 1 of them issued before");
});

test("every bad line is named by its line number", () => {
  assert.deepEqual(badLines([{ line: 3, message: "bad quantity" }, { line: null, message: "no order number column" }]),
    ["Line 3: bad quantity", "no order number column"]);
  assert.deepEqual(badLines(undefined), []);
});

test("the Excel delivery file sits beside the CSV one", () => {
  assert.equal(xlsxUrl("/api/v1/vouchers/batches/7/delivery.csv"), "/api/v1/vouchers/batches/7/delivery.xlsx");
  assert.equal(xlsxUrl("/d/7.csv?x=1"), "/d/7.xlsx?x=1");
});

test("a voided voucher offers nothing more; a used-up one may still be voided for a refund", () => {
  assert.deepEqual(actionsFor("active"), ["void", "freeze", "reissue"]);
  assert.deepEqual(actionsFor("frozen"), ["void", "unfreeze", "reissue"]);
  assert.deepEqual(actionsFor("redeemed"), ["void"]);
  assert.deepEqual(actionsFor("voided"), []);
});

test("a history line names the action, who did it and why", () => {
  const line = historyLine({ at: "2026-06-01T14:05:09+08:00", type: "voided", staff: { display_name: "olivia" }, reason: "退款" },
    { voided: "已作废" });
  assert.deepEqual(line, { at: "2026-06-01 14:05", title: "已作废", facts: "olivia · reason: 退款" });
});
