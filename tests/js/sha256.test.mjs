import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { test } from "node:test";

import { hmacHex, sha256 } from "../../static/staff/js/sha256.js";

test("SHA-256 agrees with node:crypto on every length across block boundaries", () => {
  for (let n = 0; n < 200; n++) {
    const bytes = randomBytes(n);
    assert.equal(Buffer.from(sha256(new Uint8Array(bytes))).toString("hex"), createHash("sha256").update(bytes).digest("hex"));
  }
});

test("HMAC-SHA256 of a code under a snapshot key is the server's", () => {
  const key = randomBytes(32).toString("hex");
  for (const code of ["1234567890123452", "ABCD1234", "券码Ａ", ""]) {
    assert.equal(hmacHex(key, code), createHmac("sha256", Buffer.from(key, "hex")).update(code, "utf8").digest("hex"));
  }
});
