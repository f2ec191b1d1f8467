// When the live QR is due and whether the page shows what the counter did. Pure: Node imports it.

export function secondsLeft(deadline, now) {
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

// The server accepts a payload for one window past its own, so a late refresh still scans; only
// past that grace is the QR on screen no use.
export function isStale(deadline, graceMs, now) {
  return now > deadline + graceMs;
}

// shown: what the page was drawn with ({status, uses} as in its data attributes); latest:
// status.json's answer, or null when there was none.
export function changedSince(shown, latest) {
  return !!latest && (latest.status !== shown.status || String(latest.uses_left) !== shown.uses);
}
