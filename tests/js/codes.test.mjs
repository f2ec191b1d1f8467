import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { test } from "node:test";

import { dammDigit, dammValid, flatten, grouped, looksMistyped, normalise } from "../../static/staff/js/codes.js";

// A code as the server issues it: 15 random digits and the Damm check digit.
function validCode() {
  let body = "";
  for (let i = 0; i < 15; i++) body += randomInt(10);
  return body + dammDigit(body);
}

const CODES = Array.from({ length: 200 }, validCode);

test("full-width digits and letters from a Chinese input method become ASCII", () => {
  assert.equal(flatten("１２３４５６７８ＡＢｃｄ"), "12345678ABCD");
  assert.equal(normalise("　１２３４　"), "1234");
});

test("spaces, tabs and dashes of every width are dropped anywhere", () => {
  assert.equal(flatten("1234 5678-9012\t3456"), "1234567890123456");
  assert.equal(flatten("1234–5678—9012−3456_7"), "12345678901234567");
  assert.equal(flatten("  ab-cd \r\n"), "ABCD");
});

test("letters are upper-cased", () => {
  assert.equal(flatten("vip-abc9"), "VIPABC9");
});

test("what is sent keeps a QR payload's case and punctuation", () => {
  const url = "https://shop.example/v/AbC_dEf-123456789/\n";
  assert.equal(normalise(url), "https://shop.example/v/AbC_dEf-123456789/");
  assert.equal(normalise(null), "");
});

test("issued codes pass their check digit", () => {
  for (const code of CODES) assert.ok(dammValid(code), code);
  assert.ok(dammValid("5724"));
  assert.ok(!dammValid("5727"));
});

test("every single-digit typo of a valid code is caught", () => {
  for (const code of CODES) {
    for (let i = 0; i < code.length; i++) {
      for (let d = 0; d < 10; d++) {
        if (String(d) === code[i]) continue;
        const typo = code.slice(0, i) + d + code.slice(i + 1);
        assert.ok(looksMistyped(typo), `${code} -> ${typo}`);
      }
    }
  }
});

test("every swap of two different neighbouring digits is caught", () => {
  let swaps = 0;
  for (const code of CODES) {
    for (let i = 0; i < code.length - 1; i++) {
      if (code[i] === code[i + 1]) continue;
      const swapped = code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2);
      assert.ok(looksMistyped(swapped), `${code} -> ${swapped}`);
      swaps++;
    }
  }
  assert.ok(swaps > 1000);
});

test("a swap is caught whatever digits came before it", () => {
  // Every state the check reaches before the pair, every pair of different digits.
  const prefixes = new Map();
  for (let p = 0; prefixes.size < 10; p++) prefixes.set(dammDigit(String(p).padStart(2, "0")), String(p).padStart(2, "0"));
  for (const prefix of prefixes.values()) {
    for (let a = 0; a < 10; a++) {
      for (let b = 0; b < 10; b++) {
        if (a === b) continue;
        const body = (prefix + a + b).padEnd(15, "7");
        const code = body + dammDigit(body);
        const swapped = prefix + b + a + code.slice(4);
        assert.ok(dammValid(code) && looksMistyped(swapped), `${code} -> ${swapped}`);
      }
    }
  }
});

test("only 16-digit codes are judged by their check digit", () => {
  const code = CODES[0];
  assert.ok(!looksMistyped(code));
  assert.ok(!looksMistyped(code.slice(0, 15)), "15 digits: an imported code, the server decides");
  assert.ok(!looksMistyped("ABCD123456789012"));
});

test("typed digits are grouped by 4 and the caret stays after the same digit", () => {
  assert.deepEqual(grouped("123456", 6), { value: "1234 56", caret: 7 });
  assert.deepEqual(grouped("1234 5678 9", 4), { value: "1234 5678 9", caret: 4 });
  assert.deepEqual(grouped("12345", 5), { value: "1234 5", caret: 6 });
  assert.deepEqual(grouped("１２３４５", 2), { value: "1234 5", caret: 2 });
  assert.deepEqual(grouped("", 0), { value: "", caret: 0 });
  assert.equal(grouped("VIP1234", 7), null);
});
