// Which result screen an answer gets, and its tone. Pure: the titles come from the server's table of
// reasons (the page's config), the rest of the words from the caller.

// kind: "success" | "used" (already redeemed) | "refused" (any other refusal the server names) |
// "error" (an answer the scanner cannot read) | "network" (no answer: the outcome is unknown).
// tone: the sound and colour: "ok" | "used" | "refused".
export function screenFor(data, reasons) {
  if (!data) return { kind: "network", tone: "refused", title: null };
  if (data.ok) return { kind: "success", tone: "ok", title: null };
  const reason = Object.prototype.hasOwnProperty.call(reasons, data.result) ? reasons[data.result] : null;
  if (!reason) return { kind: "error", tone: "refused", title: null };
  const used = reason.tone === "used";
  return { kind: used ? "used" : "refused", tone: used ? "used" : "refused", title: reason.title };
}

// The server's sentence under the title. Who redeemed it, and the seconds left of a lock-out, show
// apart from it (the facts, the countdown), so there the sentence would only say it twice; so would
// a sentence that is the title again.
export function refusalMessage(data, title) {
  if (data.last_redemption || data.result === "throttled") return "";
  const message = data.message || "";
  return message.replace(/[.。!！]$/, "") === title ? "" : message;
}

// A typed code that was not found is usually a typo: it stays in the field for correcting.
export function keepsInput(data, typed) {
  return !!typed && (data.result === "not_found" || data.result === "invalid_code");
}

// Seconds the clerk must wait after a lock-out: the server says how long, else its whole window.
export function lockSeconds(data, rules) {
  if (data.result !== "throttled") return 0;
  return +data.retry_after || rules.throttle_window;
}

// A clerk may undo their own redemption for a while (the server holds the same window).
export function canUndo(row, staffId, now, rules) {
  return !row.reversed && row.staff.id === staffId && now - Date.parse(row.at) < rules.clerk_undo_seconds * 1000;
}

// What is said aloud: on success that it worked and the uses left, else the title on screen.
// words.redeemed(n) gives the sentence for n uses left in the page's language.
// A whole order says how many vouchers it took: words.order(n).
export function spokenText(screen, data, title, words) {
  if (screen.kind === "success" && data) {
    return data.redemptions ? words.order(data.redemptions.length) : words.redeemed(data.voucher.uses_left);
  }
  return title || "";
}

// The speech synthesiser's language for the page's: zh-hans -> zh-CN, en -> en-US.
export function voiceLanguage(pageLang) {
  return (pageLang || "").toLowerCase().startsWith("en") ? "en-US" : "zh-CN";
}

// The vouchers of an order a clerk may tick: those one use of which the server said would pass,
// the rest shown with their reason's title. `order` is check's; `reasons` the page's table.
export function orderChoices(order, reasons) {
  if (!order || !order.vouchers || order.vouchers.length < 2) return [];
  return order.vouchers.map((v) => {
    const usable = v.result === "redeemable";
    const reason = !usable && Object.prototype.hasOwnProperty.call(reasons, v.result) ? reasons[v.result] : null;
    return { id: v.id, product: v.product.name, code: v.code_masked, usesLeft: v.uses_left, usable,
      why: usable ? "" : (reason ? reason.title : v.result) };
  });
}
