// Who the token is and what it may do (GET /v1/whoami), so that the pages offer only what
// the token may do. Patterns are fnmatch globs, matched here as the broker matches them.

import { get } from "./api.js";

let identity = null;

/** Ask the broker who the caller is; `auth` checks a token before it is kept. */
export async function identify(auth) {
  const found = await get("/v1/whoami", auth === undefined ? {} : { auth });
  identity = {
    ...found,
    grants: found.permissions.map((p) => ({ action: p.action, match: globToRegExp(p.pattern) })),
  };
  return identity;
}

/** The identity found by the last `identify()`. */
export function current() {
  return identity;
}

/** True when the token may do `action` ("publish", "subscribe", "admin") on `name`. */
export function may(action, name) {
  return Boolean(identity) && identity.grants.some(
    (g) => (g.action === action || g.action === "admin") && g.match.test(name));
}

/** True when the token holds some permission on `name` (enough to see it). */
export function sees(name) {
  return Boolean(identity) && identity.grants.some((g) => g.match.test(name));
}

/** True when the token may do `action` on at least some names. */
export function mayAny(action) {
  return Boolean(identity) && identity.grants.some(
    (g) => g.action === action || g.action === "admin");
}

/** Python's fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`, everything else literal. */
export function globToRegExp(pattern) {
  let out = "";
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    i += 1;
    if (c === "*") {
      if (!out.endsWith(".*")) out += ".*";
    } else if (c === "?") {
      out += ".";
    } else if (c === "[") {
      const [cls, next] = charClass(pattern, i);
      out += cls;
      i = next;
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    }
  }
  return new RegExp(`^(?:${out})$`, "s");
}

function charClass(pattern, start) {
  let j = start;
  if (pattern[j] === "!") j += 1;
  if (pattern[j] === "]") j += 1;
  while (j < pattern.length && pattern[j] !== "]") j += 1;
  if (j >= pattern.length) return ["\\[", start];
  // Backslashes are literal in a glob; a "]" can only be the class's first character.
  let body = pattern.slice(start, j).replace(/\\/g, "\\\\").replace(/\]/g, "\\]");
  if (body.startsWith("!")) body = `^${body.slice(1)}`;
  else if (body.startsWith("^") || body.startsWith("[")) body = `\\${body}`;
  return [`[${body}]`, j + 1];
}
