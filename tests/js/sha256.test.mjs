import assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { test } from "node:test";

import { hmac, hmacHex, pbkdf2, sha256 } from "../../static/staff/js/sha256.js";

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

// RFC 7914, section 11: PBKDF2-HMAC-SHA256 with 64-byte outputs (two blocks).
const RFC_7914 = [
  ["passwd", "salt", 1,
    "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"],
  ["Password", "NaCl", 80000,
    "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"],
];

test("PBKDF2-HMAC-SHA256 gives RFC 7914's test vectors", () => {
  const text = (s) => new TextEncoder().encode(s);
  for (const [password, salt, iterations, expected] of RFC_7914) {
    assert.equal(Buffer.from(pbkdf2(text(password), text(salt), iterations, 64)).toString("hex"), expected);
  }
});

test("PBKDF2-HMAC-SHA256 agrees with node:crypto for long and short passwords, salts and outputs", () => {
  for (const [passwordLength, saltLength, iterations, length] of [[0, 0, 1, 32], [16, 16, 2, 32], [65, 3, 7, 20], [200, 100, 3, 70]]) {
    const password = randomBytes(passwordLength);
    const salt = randomBytes(saltLength);
    assert.equal(
      Buffer.from(pbkdf2(new Uint8Array(password), new Uint8Array(salt), iterations, length)).toString("hex"),
      pbkdf2Sync(password, salt, iterations, length, "sha256").toString("hex"),
    );
  }
});

test("HMAC-SHA256 of bytes under a key longer than a block is node:crypto's", () => {
  const key = randomBytes(100);
  const message = randomBytes(150);
  assert.equal(Buffer.from(hmac(new Uint8Array(key), new Uint8Array(message))).toString("hex"),
    createHmac("sha256", key).update(message).digest("hex"));
});
