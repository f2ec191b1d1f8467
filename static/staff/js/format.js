// Times and numbers in the scanner's words. Times from the server are already in the merchant's
// time zone, so they are read as written, whatever zone the phone is in.
import { interpolate, ngettext, gettext } from "./i18n.js";

export function day(iso) {
  return iso ? iso.slice(0, 10) : "";
}

export function minute(iso) {
  return iso ? iso.slice(0, 16).replace("T", " ") : "";
}

export function clock(iso) {
  return iso ? iso.slice(11, 16) : "";
}

export function uses(n) {
  return interpolate(ngettext("%(n)s use", "%(n)s uses", n), { n }, true);
}

export function usesOf(left, total) {
  return interpolate(gettext("%(left)s of %(total)s"), { left, total }, true);
}

export function validity(voucher) {
  const from = day(voucher.valid_from);
  const until = day(voucher.valid_until);
  if (from && until) return interpolate(gettext("%(from)s to %(until)s"), { from, until }, true);
  if (until) return interpolate(gettext("until %(until)s"), { until }, true);
  if (from) return interpolate(gettext("from %(from)s"), { from }, true);
  return gettext("No expiry");
}

export function waitSeconds(n) {
  return interpolate(gettext("Try again in %(n)s s"), { n }, true);
}

export function todaySum(count, usesCount) {
  const redemptions = interpolate(ngettext("%(count)s redemption", "%(count)s redemptions", count), { count }, true);
  return redemptions + " · " + uses(usesCount);
}
