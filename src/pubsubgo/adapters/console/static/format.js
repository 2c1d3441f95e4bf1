// How numbers, times, sizes and message data are shown.

const counts = new Intl.NumberFormat("en-US");
const decimals = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const hundredths = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

/** 1234567 -> "1,234,567". */
export function count(n) {
  return n === null || n === undefined ? "—" : counts.format(n);
}

/** Messages per second, "0" for none, one decimal below 100. */
export function rate(perSecond) {
  if (!perSecond) return "0/s";
  if (perSecond < 1) return `${hundredths.format(perSecond)}/s`;
  return `${perSecond < 100 ? decimals.format(perSecond) : counts.format(Math.round(perSecond))}/s`;
}

/** 1536 -> "1.5 KiB". */
export function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : decimals.format(value)} ${units[unit]}`;
}

/** Seconds as "45 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds > 0 && seconds < 10) return `${decimals.format(seconds)} s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** An RFC 3339 time as local "YYYY-MM-DD HH:MM:SS" (null -> "—"). */
export function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** How long ago an RFC 3339 time was ("12 s ago"). */
export function ago(iso) {
  if (!iso) return "never";
  return `${duration((Date.now() - new Date(iso).getTime()) / 1000)} ago`;
}

/** The bytes of a message's `data` (text is UTF-8, otherwise base64). */
export function dataBytes(message) {
  if (message.encoding === "base64") {
    const raw = atob(message.data);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
    return out;
  }
  return new TextEncoder().encode(message.data);
}

/** A one-line preview of a message's data, at most `max` characters. */
export function preview(message, max = 120) {
  if (message.encoding === "base64") return `(binary, ${bytes(dataBytes(message).length)})`;
  // Control characters shown as \xNN escapes, not as blanks or missing-glyph boxes.
  const text = message.data.replace(/\s+/g, " ")
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The data pretty-printed as JSON, or null when it is not JSON. */
export function asJson(message) {
  if (message.encoding === "base64") return null;
  try {
    return JSON.stringify(JSON.parse(message.data), null, 2);
  } catch {
    return null;
  }
}

/** Seconds as a short axis label: "45 s", "1.5 min", "2.3 h". */
export function shortDuration(seconds) {
  if (seconds < 60) return `${decimals.format(seconds)} s`;
  if (seconds < 3600) return `${decimals.format(seconds / 60)} min`;
  return `${decimals.format(seconds / 3600)} h`;
}

/** A hex dump (offset, 16 bytes, their ASCII), of at most `limit` bytes. */
export function hexDump(data, limit = 64 * 1024) {
  const lines = [];
  const end = Math.min(data.length, limit);
  for (let offset = 0; offset < end; offset += 16) {
    const row = data.subarray(offset, Math.min(offset + 16, end));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (data.length > limit) lines.push(`… ${count(data.length - limit)} more bytes`);
  return lines.join("\n");
}
