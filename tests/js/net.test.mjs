import assert from "node:assert/strict";
import { test } from "node:test";

import { NetworkError, Redemption, newKey, request, withRetry } from "../../static/staff/js/net.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const noWait = () => Promise.resolve();

const HEADERS = new Map([["ETag", 'W/"compact.1"']]);

function json(status, data) {
  return { status, headers: HEADERS, json: () => Promise.resolve(data) };
}

function html(status) {
  return { status, headers: HEADERS, json: () => Promise.reject(new SyntaxError("Unexpected token <")) };
}

// A fetch that plays the given outcomes in turn ("drop" is a lost connection) and keeps what was sent.
function fakeFetch(...outcomes) {
  const sent = [];
  const fetch = (url, init) => {
    sent.push({ url, init, body: init.body && JSON.parse(init.body) });
    const next = outcomes.shift();
    return next === "drop" ? Promise.reject(new TypeError("Failed to fetch")) : Promise.resolve(next);
  };
  return { fetch, sent };
}

const call = (fetch) => (url, body) => request(fetch, url, { body });

test("an answer from the app resolves with its status and data", async () => {
  const { fetch, sent } = fakeFetch(json(409, { ok: false, result: "already_redeemed" }));
  const answer = await request(fetch, "/api/v1/redeem/", { body: { code: "1" }, headers: { "X-CSRFToken": "t" } });
  assert.deepEqual(answer, { status: 409, data: { ok: false, result: "already_redeemed" }, headers: HEADERS });
  assert.equal(sent[0].init.method, "POST");
  assert.equal(sent[0].init.headers["X-CSRFToken"], "t");
  assert.equal(sent[0].init.headers["Content-Type"], "application/json");
});

test("a GET sends no body", async () => {
  const { fetch, sent } = fakeFetch(json(200, { results: [] }));
  await request(fetch, "/api/v1/redemptions/mine/");
  assert.equal(sent[0].init.method, "GET");
  assert.equal(sent[0].init.body, undefined);
});

test("no answer is a NetworkError: a dropped connection, or a proxy's error page", async () => {
  await assert.rejects(request(fakeFetch("drop").fetch, "/x"), NetworkError);
  await assert.rejects(request(fakeFetch(html(502)).fetch, "/x"), NetworkError);
  await assert.rejects(request(fakeFetch(html(504)).fetch, "/x"), NetworkError);
});

test("the app's own error page is an answer the scanner cannot read", async () => {
  const answer = await request(fakeFetch(html(500)).fetch, "/x");
  assert.deepEqual(answer, { status: 500, data: { ok: false, result: "error" }, headers: HEADERS });
});

test("a request that takes too long is given up as no answer", async () => {
  const hanging = (url, init) => new Promise((resolve, reject) => {
    init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
  });
  await assert.rejects(request(hanging, "/x", { timeoutMs: 20 }), NetworkError);
});

test("a body that never arrives is no answer either", async () => {
  const slowBody = (url, init) => Promise.resolve({
    status: 200,
    json: () => new Promise((resolve, reject) => {
      init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    }),
  });
  await assert.rejects(request(slowBody, "/x", { timeoutMs: 20 }), NetworkError);
});

test("a redemption is retried with one idempotency key until an answer comes", async () => {
  const { fetch, sent } = fakeFetch("drop", html(503), json(200, { ok: true, result: "redeemed" }));
  const job = new Redemption({ code: "1234567890123452", store: 7, voucher: {} });
  job.uses = 2;
  const retries = [];
  const answer = await job.send(call(fetch), "/api/v1/redeem/", { delays: [1, 1, 1], onRetry: (n) => retries.push(n), wait: noWait });
  assert.equal(answer.data.result, "redeemed");
  assert.deepEqual(retries, [1, 2]);
  assert.equal(sent.length, 3);
  assert.match(sent[0].body.idempotency_key, UUID);
  for (const { body } of sent) {
    assert.deepEqual(body, { code: "1234567890123452", store: 7, uses: 2, idempotency_key: sent[0].body.idempotency_key });
  }
});

test("the clerk's own retry after the retries ran out sends the same key again", async () => {
  const { fetch, sent } = fakeFetch("drop", "drop", json(200, { ok: true }));
  const job = new Redemption({ code: "C", store: 1, voucher: {} });
  await assert.rejects(job.send(call(fetch), "/r", { delays: [1], wait: noWait }), NetworkError);
  await job.send(call(fetch), "/r", { delays: [1], wait: noWait });
  assert.equal(sent.length, 3);
  assert.equal(new Set(sent.map((s) => s.body.idempotency_key)).size, 1);
});

test("each redemption has a key of its own", () => {
  const keys = new Set(Array.from({ length: 50 }, () => new Redemption({ code: "C", store: 1 }).key));
  assert.equal(keys.size, 50);
});

test("a refusal is an answer and is not retried", async () => {
  const { fetch, sent } = fakeFetch(json(409, { ok: false, result: "already_redeemed" }), json(200, { ok: true }));
  const answer = await withRetry(() => call(fetch)("/r", {}), [1, 1], { wait: noWait });
  assert.equal(answer.data.result, "already_redeemed");
  assert.equal(sent.length, 1);
});

test("retries stop after the last delay", async () => {
  const { fetch, sent } = fakeFetch("drop", "drop", "drop", "drop");
  const waited = [];
  const wait = (ms) => { waited.push(ms); return Promise.resolve(); };
  await assert.rejects(withRetry(() => call(fetch)("/r", {}), [800, 2000], { wait }), NetworkError);
  assert.equal(sent.length, 3);
  assert.deepEqual(waited, [800, 2000]);
});

test("other errors are not retried", async () => {
  let calls = 0;
  const broken = () => { calls++; return Promise.reject(new TypeError("a bug")); };
  await assert.rejects(withRetry(broken, [1, 1], { wait: noWait }), TypeError);
  assert.equal(calls, 1);
});

test("keys are random v4 UUIDs, also where crypto.randomUUID is missing (plain HTTP)", () => {
  assert.match(newKey(), UUID);
  const plainHttp = { getRandomValues: (bytes) => globalThis.crypto.getRandomValues(bytes) };
  const keys = new Set(Array.from({ length: 20 }, () => newKey(plainHttp)));
  assert.equal(keys.size, 20);
  for (const key of keys) assert.match(key, UUID);
});

test("a whole order is one request, one key, one use of each ticked voucher", async () => {
  const { fetch, sent } = fakeFetch("drop", json(200, { ok: true, result: "redeemed", redemptions: [] }));
  const job = new Redemption({ code: "1234567890123452", store: 3, voucher: {} });
  job.items = [11, 12, 14];
  assert.equal(job.isOrder, true);
  await job.send(call(fetch), "/api/v1/redeem/order/", { delays: [1], wait: noWait });
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1].body, sent[0].body);
  assert.deepEqual(sent[0].body, {
    code: "1234567890123452", store: 3, vouchers: [{ id: 11, uses: 1 }, { id: 12, uses: 1 }, { id: 14, uses: 1 }],
    idempotency_key: sent[0].body.idempotency_key,
  });
});

test("a voucher found by lookup is redeemed by its id, with no code", () => {
  const job = new Redemption({ voucherId: 42, store: 3, voucher: {} });
  job.uses = 2;
  assert.deepEqual(job.body(), { voucher: 42, store: 3, uses: 2, idempotency_key: job.key });
  assert.equal(job.isOrder, false);
});
