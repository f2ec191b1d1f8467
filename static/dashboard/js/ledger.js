// Which live events the page already holds, so each is shown once however it arrives.
//
// Event ids are drawn before their transaction commits, so a lower id can arrive after a higher
// one; and a reconnect must ask again for anything that may still have been committing. The page
// therefore remembers ids, not just the highest, and resumes from the newest id it holds that is
// older than settleMs (the longest a transaction takes to commit): what comes twice is dropped here.

export function createLedger({ after = 0, settleMs }) {
  let floor = after; // every event up to here is held, or will never come
  const held = new Map(); // id -> time it happened (ms), for ids above floor

  function accept(event, now = Date.now()) {
    if (!event.id || event.id <= floor || held.has(event.id)) return false;
    held.set(event.id, Date.parse(event.at));
    settle(now);
    return true;
  }

  function settle(now) {
    const settledIds = [];
    for (const [id, at] of held) if (at < now - settleMs) settledIds.push(id);
    if (!settledIds.length) return;
    floor = Math.max(floor, ...settledIds);
    for (const id of held.keys()) if (id <= floor) held.delete(id);
  }

  // The ?after= for a new connection.
  function resumeFrom(now = Date.now()) {
    settle(now);
    return floor;
  }

  // The highest id held.
  function newest() {
    return Math.max(floor, ...held.keys());
  }

  return { accept, resumeFrom, newest };
}
