// Which live events the page already holds, so each is shown once however it arrives.
//
// Event ids are drawn before their transaction commits, so a lower id can arrive after a higher
// one. The page resumes the socket after the newest id it holds, and the server then sends again
// the events of the repeatMs before that one, in case one of them committed late. So the page
// remembers ids rather than just the highest, and drops what comes twice. It forgets an id once
// the event is older than its newest by twice repeatMs (twice, as event times are only nearly in
// id order): the server never sends that one again.

export function createLedger({ after = 0, repeatMs }) {
  const held = new Map(); // id -> time it happened (ms)
  let newestId = after; // the page starts after this id
  let newestAt = -Infinity;

  function accept(event) {
    if (!event.id || event.id <= after || held.has(event.id)) return false;
    const at = Date.parse(event.at);
    held.set(event.id, at);
    if (event.id > newestId) [newestId, newestAt] = [event.id, at];
    for (const [id, t] of held) if (t < newestAt - 2 * repeatMs) held.delete(id);
    return true;
  }

  // The highest id held: the ?after= for a new connection.
  function newest() {
    return newestId;
  }

  return { accept, newest };
}
