// A code as the server reads it (redemption/codes.py), and its check digit. Pure: Node imports it.

// The server's Damm table, row by row: a 16-digit code of ours folds to 0 when its check digit is right.
const DAMM = "0317598642" + "7092154863" + "4206871359" + "1750983426" + "6123045978" +
  "3674209581" + "5869720134" + "8945362017" + "9438617205" + "2581436790";

// What the server drops anywhere in a code: spaces and dashes of every width, and underscores.
const DROPPED = /[\s\-\u2010-\u2015\u2212_]+/g;

export function dammDigit(digits) {
  let interim = 0;
  for (const d of digits) interim = +DAMM[interim * 10 + +d];
  return interim;
}

export function dammValid(digits) {
  return dammDigit(digits) === 0;
}

// Full-width digits and letters from a Chinese input method become ASCII; the ends go (a hardware
// scanner ends with Enter). This is what is sent: QR payloads keep their case and punctuation.
export function normalise(raw) {
  return String(raw == null ? "" : raw).normalize("NFKC").trim();
}

// The code the server looks up: no spaces or dashes anywhere, letters upper-cased.
export function flatten(raw) {
  return normalise(raw).replace(DROPPED, "").toUpperCase();
}

// 16 digits are the shape of our own codes, so a failing check digit there is a typo. Imported
// card codes can have the same shape, which is why the scanner lets the clerk send it anyway.
export function looksMistyped(code) {
  return /^\d{16}$/.test(code) && !dammValid(code);
}

// Digits grouped by 4 as printed on vouchers, with the caret kept after the same digit; null for
// text that is not only digits, spaces and dashes (a code with letters stays as typed).
export function grouped(value, caret) {
  const text = value.normalize("NFKC");
  if (!/^[\d\s-]*$/.test(text)) return null;
  const before = text.slice(0, caret).replace(/\D/g, "").length;
  return {
    value: text.replace(/\D/g, "").replace(/(\d{4})(?=\d)/g, "$1 "),
    caret: before === 0 ? 0 : before + Math.floor((before - 1) / 4),
  };
}
