// How values read on screen.

const DAY = 86400;

const dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
});

/** The current time in Unix seconds, to the minute: every view rendered within one minute
 * counts days from the same instant, so that a table and the timeline agree. */
export function now() {
  return Math.floor(Date.now() / 60000) * 60;
}

export function date(seconds) {
  return seconds === null || seconds === undefined ? "—" : dateFormat.format(new Date(seconds * 1000));
}

export function dateTime(seconds) {
  return seconds === null || seconds === undefined ? "—" : timeFormat.format(new Date(seconds * 1000));
}

export function isoDate(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** Whole days from now until `seconds` (negative once past). */
export function daysLeft(seconds) {
  return Math.floor((seconds - now()) / DAY);
}

/** The warning level of an expiry: expired, critical (≤ 30 days), warning (≤ 90 days) or ok. */
export function expiryLevel(days) {
  if (days < 0) return "expired";
  if (days <= 30) return "critical";
  if (days <= 90) return "warning";
  return "ok";
}

export function daysText(days) {
  if (days < 0) return `expired ${-days} ${-days === 1 ? "day" : "days"} ago`;
  return `${days} ${days === 1 ? "day" : "days"}`;
}

export const LEVEL_LABEL = { expired: "Expired", critical: "Expires soon", warning: "Renew soon", ok: "Valid" };
