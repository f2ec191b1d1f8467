// The numbers on the tiles. Pure: Node imports it.

export function cents(decimal) {
  return Math.round(parseFloat(decimal) * 100);
}

export function money(amount) {
  return "¥" + (amount / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

// Every redemption and attempt has a staff member (not always a store), so the staff rows add up
// to the whole.
export function totals(staffRows) {
  const sum = { redemptions: 0, uses: 0, cents: 0, refused: 0, reversed: 0 };
  staffRows.forEach((r) => {
    sum.redemptions += r.redemptions;
    sum.uses += r.uses;
    sum.cents += cents(r.face_value_total);
    sum.refused += r.refused_attempts;
    sum.reversed += r.reversed;
  });
  return sum;
}

// The server writes times in the merchant's zone: the first ten characters are the local day.
function inRange(iso, filters) {
  const day = iso.slice(0, 10);
  return day >= filters.from && day <= filters.to;
}

function storeMatches(store, filters) {
  return !filters.store || (!!store && String(store.id) === filters.store);
}

// How a live event moves the tiles on show, or null when it falls outside the range or store.
export function tileChange(event, filters) {
  const r = event.redemption;
  if (event.type === "redemption.created" && inRange(r.at, filters) && storeMatches(r.store, filters)) {
    return { redemptions: 1, uses: r.uses };
  }
  if (event.type === "redemption.reversed" && inRange(r.at, filters) && storeMatches(r.store, filters)) {
    return { redemptions: -1, uses: -r.uses, reversed: 1 };
  }
  if (event.type === "attempt.refused" && inRange(event.at, filters) && storeMatches(event.store, filters)) {
    return { refused: 1 };
  }
  return null;
}
