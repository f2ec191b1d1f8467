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

// The merchant-local date of a moment, read in the offset an ISO time from the server carries.
function localDate(ms, iso) {
  const m = /([+-])(\d\d):(\d\d)$/.exec(iso);
  const offset = m ? (m[1] === "-" ? -1 : 1) * (+m[2] * 60 + +m[3]) : 0;
  return new Date(ms + offset * 60000).toISOString().slice(0, 10);
}

// When a voucher refused by a redemption rule can be used again, as a clerk says it:
// "今天 18:00 后可用", "明天 10:00 后可用", "12-07 10:00 后可用". nowMs is the phone's clock.
export function nextUse(iso, nowMs) {
  if (!iso) return "";
  const today = localDate(nowMs, iso);
  const tomorrow = localDate(nowMs + 86400000, iso);
  const day = iso.slice(0, 10);
  const time = clock(iso);
  if (day === today) return interpolate(gettext("Usable again today from %(time)s"), { time }, true);
  if (day === tomorrow) return interpolate(gettext("Usable again tomorrow from %(time)s"), { time }, true);
  return interpolate(gettext("Usable again on %(day)s from %(time)s"), { day: day.slice(5), time }, true);
}
