// The tables and the bar chart, as HTML. Pure: the words come in with the columns.

export function esc(s) {
  return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
}

// columns: [{label, num?, get(row) -> HTML}]; empty: the words for a table without rows.
export function table(columns, rows, empty) {
  const cls = (c) => (c.num ? ' class="num"' : "");
  const head = "<thead><tr>" + columns.map((c) => "<th" + cls(c) + ">" + esc(c.label) + "</th>").join("") + "</tr></thead>";
  const body = rows.length
    ? rows.map((r) => "<tr>" + columns.map((c) => "<td" + cls(c) + ">" + c.get(r) + "</td>").join("") + "</tr>").join("")
    : '<tr><td class="empty" colspan="' + columns.length + '">' + esc(empty) + "</td></tr>";
  return head + "<tbody>" + body + "</tbody>";
}

// Near enough for a label column: a Chinese character is about twice as wide as a Latin letter.
function textWidth(s) {
  return s.replace(/[\u2e80-\uffff]/g, "xx").length * 7.5;
}

// Horizontal bars, [{label, value}] at a width in pixels: long Chinese names and phone widths both
// fit better than columns.
export function bars(rows, clientWidth, title) {
  if (!rows.length) return "";
  const longest = Math.max(...rows.map((r) => textWidth(r.label.slice(0, 9))));
  const width = Math.max(260, clientWidth);
  const row = 30;
  const label = Math.min(longest + 12, Math.round(width * 0.3));
  const room = width - label - 56;
  const max = Math.max(1, ...rows.map((r) => r.value));
  let svg = '<svg width="' + width + '" height="' + rows.length * row + '" role="img" aria-label="' + esc(title) + '">';
  rows.forEach((r, i) => {
    const y = i * row;
    const w = Math.max(r.value ? 3 : 0, Math.round(room * r.value / max));
    const name = r.label.length > 9 ? r.label.slice(0, 8) + "…" : r.label;
    svg += '<text x="' + (label - 8) + '" y="' + (y + 20) + '" text-anchor="end">' + esc(name) + "</text>" +
      '<rect x="' + label + '" y="' + (y + 6) + '" width="' + w + '" height="18" rx="4"></rect>' +
      '<text class="v" x="' + (label + w + 6) + '" y="' + (y + 20) + '">' + r.value + "</text>";
  });
  return svg + "</svg>";
}
