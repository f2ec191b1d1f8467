// Talking to the API over shop Wi-Fi. Pure: fetch, timers and randomness come in as arguments, so
// Node's test runner can stand in for them.

// No answer came: the connection dropped, the time ran out, or a proxy answered for the app.
// Only this is retried; any answer from the app, a refusal included, is final.
export class NetworkError extends Error {
  constructor(cause) {
    super("no answer from the server");
    this.name = "NetworkError";
    this.network = true;
    this.cause = cause;
  }
}

// One request with a time limit. Resolves {status, data, headers} for any answer from the app; rejects with
// a NetworkError when none came. The limit covers reading the body too: a 200 whose body never
// arrives is no answer, and a redeem that is retried then gets the first answer back.
export async function request(fetchImpl, url, { body, headers = {}, timeoutMs = 8000 } = {}) {
  const ctrl = typeof AbortController === "function" ? new AbortController() : null;
  const timer = setTimeout(() => { if (ctrl) ctrl.abort(); }, timeoutMs);
  const init = {
    method: body ? "POST" : "GET", credentials: "same-origin", cache: "no-store",
    headers: Object.assign({ Accept: "application/json" }, headers),
    signal: ctrl ? ctrl.signal : undefined,
  };
  if (body) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    let response;
    try {
      response = await fetchImpl(url, init);
    } catch (error) {
      throw new NetworkError(error);
    }
    const data = await response.json().catch(() => null);
    if (!data && ctrl && ctrl.signal.aborted) throw new NetworkError();
    if (!data && response.status >= 502 && response.status <= 504) throw new NetworkError();
    return { status: response.status, data: data || { ok: false, result: "error" }, headers: response.headers };
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

// send() once, then again after each of delays while no answer comes; onRetry(n) before the nth retry.
export async function withRetry(send, delays, { onRetry = () => {}, wait = sleep } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (!error || !error.network || attempt >= delays.length) throw error;
      onRetry(attempt + 1);
      await wait(delays[attempt]);
    }
  }
}

// A random v4 UUID. crypto.randomUUID exists only on HTTPS; shops on plain HTTP still get one.
export function newKey(cryptoImpl = globalThis.crypto) {
  if (cryptoImpl.randomUUID) return cryptoImpl.randomUUID();
  const b = cryptoImpl.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const hex = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

// One redemption as the clerk confirms it. Its key is made once, when the confirm sheet opens, and
// every send of it (the automatic retries and the clerk's "Try again" after they ran out) carries
// that key, so the server redeems it at most once and answers a repeat with the first result.
//
// Three shapes: a scanned code; a voucher an owner or manager found by lookup (`voucherId`, no code in
// hand); or several vouchers of one order (`items`: ids, one use each), all or none, where the code
// scanned proves the buyer holds the order.
export class Redemption {
  constructor({ code, store, voucher, voucherId = null, items = null }, makeKey = newKey) {
    this.code = code;
    this.store = store;
    this.voucher = voucher;
    this.voucherId = voucherId;
    this.items = items;
    this.uses = 1;
    this.key = makeKey();
    this.sending = false;
  }

  get isOrder() {
    return !!this.items;
  }

  body() {
    if (this.items) {
      const vouchers = this.items.map((id) => ({ id, uses: 1 }));
      return { code: this.code, store: this.store, vouchers, idempotency_key: this.key };
    }
    if (this.voucherId) {
      return { voucher: this.voucherId, store: this.store, uses: this.uses, idempotency_key: this.key };
    }
    return { code: this.code, store: this.store, uses: this.uses, idempotency_key: this.key };
  }

  // call(url, body) is one request; resolves with the first answer, rejects when none came.
  send(call, url, { delays, onRetry, wait }) {
    const body = this.body();
    return withRetry(() => call(url, body), delays, { onRetry, wait });
  }
}
