// SHA-256, HMAC-SHA256 and PBKDF2-HMAC-SHA256 in plain JavaScript. The offline snapshot names each
// voucher by a slow derivation of its code; WebCrypto would do it, but browsers offer it only on
// HTTPS, and a shop's scanner may be served on plain HTTP inside the shop. Pure: Node's tests hold
// it to node:crypto and to RFC 7914's vectors.
//
// Words are kept as signed 32-bit integers (`| 0`) so the engine keeps them unboxed: PBKDF2 runs the
// compression tens of thousands of times per scan.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

// The state h (8 words) advanced by one 64-byte block, given as the first 16 words of w (64 words;
// the other 48 are scratch, the first 16 are left as they were).
function compress(h, w) {
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + k) | 0;
}

// The hash of bytes that follow `before` bytes already absorbed into state (a copy is advanced).
function finish(state, bytes, before) {
  const h = Int32Array.from(state);
  const blocks = Math.ceil((bytes.length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = (before + bytes.length) * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(padded.length - 4, bits >>> 0);
  const w = new Int32Array(64);
  for (let block = 0; block < blocks; block++) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(block * 64 + i * 4);
    compress(h, w);
  }
  return h;
}

function bytesOf(words) {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((x, i) => view.setInt32(i * 4, x));
  return out;
}

// SHA-256 of bytes (Uint8Array), as bytes.
export function sha256(bytes) {
  return bytesOf(finish(IV, bytes, 0));
}

export function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => (b + 256).toString(16).slice(1)).join("");
}

// HMAC's two states after its padded key (RFC 2104): what every message under that key starts from.
function keyed(key) {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? sha256(key) : key);
  const w = new Int32Array(64);
  const view = new DataView(block.buffer);
  const padded = (pad) => {
    const h = Int32Array.from(IV);
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(i * 4) ^ pad;
    compress(h, w);
    return h;
  };
  return { inner: padded(0x36363636), outer: padded(0x5c5c5c5c) };
}

// HMAC-SHA256 of message bytes under key bytes, as bytes.
export function hmac(key, message) {
  const { inner, outer } = keyed(key);
  return bytesOf(finish(outer, bytesOf(finish(inner, message, 64)), 64));
}

// Hex HMAC-SHA256 of text (UTF-8) under a key given as hex digits: as redemption.offline.code_hash.
export function hmacHex(keyHex, text) {
  return toHex(hmac(hexToBytes(keyHex), new TextEncoder().encode(text)));
}

// PBKDF2-HMAC-SHA256 (RFC 8018) of password bytes with salt bytes, `length` bytes long. Each
// iteration is two compressions from the key's saved states, on a block that holds the 32-byte
// U and the padding for 64 + 32 bytes hashed.
export function pbkdf2(password, salt, iterations, length = 32) {
  const { inner, outer } = keyed(password);
  const out = new Uint8Array(length);
  const w = new Int32Array(64);
  const h = new Int32Array(8);
  for (let index = 1; index * 32 - 32 < length; index++) {
    const first = new Uint8Array(salt.length + 4);
    first.set(salt);
    new DataView(first.buffer).setUint32(salt.length, index);
    const u = finish(outer, bytesOf(finish(inner, first, 64)), 64);
    const t = Int32Array.from(u);
    for (let i = 8; i < 16; i++) w[i] = 0;
    w[8] = 0x80000000 | 0;
    w[15] = (64 + 32) * 8;
    for (let n = 1; n < iterations; n++) {
      w.set(u);
      h.set(inner);
      compress(h, w);
      w.set(h);
      u.set(outer);
      compress(u, w);
      for (let i = 0; i < 8; i++) t[i] ^= u[i];
    }
    out.set(bytesOf(t).subarray(0, Math.min(32, length - index * 32 + 32)), index * 32 - 32);
  }
  return out;
}
