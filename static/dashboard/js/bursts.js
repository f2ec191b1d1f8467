// Bursts of refused attempts: someone guessing codes, or a scanner gone wrong. Pure: Node imports it.

// Times with microseconds are not read by every browser's Date.parse: keep milliseconds.
function millis(iso) {
  return Date.parse(iso.replace(/(\.\d{3})\d+/, "$1"));
}

// watch(event) for each attempt.refused, oldest first; answers {n, names} when the attempts within
// the window reach size: one member's own when they alone reach it, else everyone's.
export function burstWatch({ size = 5, windowMs = 60000 } = {}) {
  let refusals = [];
  return function watch(event) {
    const at = millis(event.at);
    refusals.push({ at, staff: event.staff ? event.staff.display_name : "?" });
    refusals = refusals.filter((r) => r.at > at - windowMs);
    const per = {};
    refusals.forEach((r) => { per[r.staff] = (per[r.staff] || 0) + 1; });
    const names = Object.keys(per).sort((a, b) => per[b] - per[a]);
    if (per[names[0]] >= size) return { n: per[names[0]], names: names[0] };
    if (refusals.length >= size) {
      return { n: refusals.length, names: names.slice(0, 3).join("、") + (names.length > 3 ? "…" : "") };
    }
    return null;
  };
}
