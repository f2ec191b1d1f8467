// The merchant's local days, whatever time zone the browser is in. Days are "YYYY-MM-DD" strings,
// which compare and sort as dates. Pure: Node imports it.

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function today(tz, now = new Date()) {
  const parts = {};
  new Intl.DateTimeFormat("en-US", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(now).forEach((p) => { parts[p.type] = p.value; });
  return parts.year + "-" + parts.month + "-" + parts.day;
}

export function shift(day, days) {
  const d = new Date(day + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// The preset ranges as of a day, in the order the buttons show them.
export const PRESETS = {
  today: (d) => [d, d],
  yesterday: (d) => [shift(d, -1), shift(d, -1)],
  week: (d) => [shift(d, -6), d],
  month: (d) => [d.slice(0, 8) + "01", d],
};

// The first preset that gives the range (on the 1st of a month "today" and "this month" are the
// same days), else "custom".
export function presetOf(range, day) {
  for (const name of Object.keys(PRESETS)) {
    const [from, to] = PRESETS[name](day);
    if (from === range.from && to === range.to) return name;
  }
  return "custom";
}

// The range the page opens with: the address's (a reload or a shared link shows the same), else today.
export function rangeFrom(params, day) {
  const from = DAY.test(params.get("from")) ? params.get("from") : day;
  const to = DAY.test(params.get("to")) ? params.get("to") : from > day ? from : day;
  return { from, to };
}

// The filters after a change. A range turned inside out follows the end that was just moved.
export function changed(filters, changes) {
  const next = Object.assign({}, filters, changes);
  if (next.to < next.from) {
    if (changes.to) next.from = next.to;
    else next.to = next.from;
  }
  return next;
}

// A page left open past midnight: a preset range moves on to the new day; a custom one stays.
export function rolledOver(range, shownDay, day) {
  const preset = presetOf(range, shownDay);
  if (preset === "custom") return null;
  const [from, to] = PRESETS[preset](day);
  return { from, to };
}
