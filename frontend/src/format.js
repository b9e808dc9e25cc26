// Text for people: dates in their words, counts, sizes, and HTML escaping.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** The capture moment as written by the camera: the API gives local time with its offset. */
export function localParts(iso) {
  if (!iso) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!m) return null;
  const [, y, mo, d, h, mi] = m.map(Number);
  return { y, mo, d, h, mi, date: new Date(Date.UTC(y, mo - 1, d, h, mi)) };
}

const dayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
});
const monthFormat = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
const momentFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit",
  timeZone: "UTC",
});
const stampFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function dayKey(iso) {
  return iso ? iso.slice(0, 10) : "undated";
}

export function monthKey(iso) {
  return iso ? iso.slice(0, 7) : "undated";
}

export function groupTitle(key) {
  if (key === "undated") return "No date";
  const [y, m, d] = key.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d ?? 1));
  return d ? dayFormat.format(date) : monthFormat.format(date);
}

export function captureTime(iso) {
  const parts = localParts(iso);
  return parts ? momentFormat.format(parts.date) : "Date unknown";
}

/** An instant (UTC ISO) in the viewer's own time zone. */
export function stamp(iso) {
  return iso ? stampFormat.format(new Date(iso)) : "never";
}

export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "just now";
  const units = [[86400, "day"], [3600, "hour"], [60, "minute"]];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${name}${n === 1 ? "" : "s"} ago`;
    }
  }
  return "just now";
}

export function count(n, one, many = `${one}s`) {
  return `${Number(n).toLocaleString()} ${n === 1 ? one : many}`;
}

export function bytes(n) {
  if (n == null) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit && value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function place(location) {
  if (!location) return "";
  const lat = `${Math.abs(location.lat).toFixed(5)}° ${location.lat >= 0 ? "N" : "S"}`;
  const lng = `${Math.abs(location.lng).toFixed(5)}° ${location.lng >= 0 ? "E" : "W"}`;
  return `${lat}, ${lng}`;
}

/** Alt text for a photo: what it is, its file and when it was taken. */
export function altText(photo) {
  const kind = photo.media_type === "video" ? "Video" : "Photo";
  return `${kind} ${photo.filename || ""}, ${captureTime(photo.taken_at)}`.replace(/\s+,/, ",");
}
