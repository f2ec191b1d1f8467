// The words come from Django's JavaScript catalog (/jsi18n/), a classic script the page loads before
// its modules. Read at call time, not import time: Node's tests import the pure modules without it,
// and a scanner opened offline before the service worker kept the catalog still works, in English.
const catalog = globalThis;

export function gettext(msgid) {
  return catalog.gettext ? catalog.gettext(msgid) : msgid;
}

// The same English word translated apart where it means something else ("Staff" as a column).
export function pgettext(context, msgid) {
  return catalog.pgettext ? catalog.pgettext(context, msgid) : msgid;
}

export function ngettext(singular, plural, count) {
  if (catalog.ngettext) return catalog.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

// interpolate("%(n)s uses", {n: 3}, true), as Django's catalog does it.
export function interpolate(format, values, named) {
  if (catalog.interpolate) return catalog.interpolate(format, values, named);
  if (named) return format.replace(/%\(\w+\)s/g, (match) => String(values[match.slice(2, -2)]));
  const list = values.slice();
  return format.replace(/%s/g, () => String(list.shift()));
}
