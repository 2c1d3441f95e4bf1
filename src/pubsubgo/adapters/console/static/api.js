// The broker's REST API, called with the token the user entered (kept in sessionStorage:
// it lasts as long as the tab and is never written into a URL).

const TOKEN_KEY = "pubsubgo.console.token";

/** The API's root: the folder above /console/, so that a proxy's path prefix is kept. */
export const API_BASE = new URL("../", document.baseURI);

/** An error answer of the broker (`{"error": {"code", "message", ...}}`), or no answer. */
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A path segment: topic and subscription names, message ids. */
export const seg = encodeURIComponent;

/**
 * Call the API.
 * @param {string} method
 * @param {string} path e.g. "/v1/topics"
 * @param {{body?: any, query?: Object<string, any>, signal?: AbortSignal, auth?: string|null}} [options]
 *   `auth` overrides the stored token (signing in checks a token before keeping it).
 * @returns {Promise<any>} the JSON answer, or null for an empty one
 * @throws {ApiError}
 */
export async function api(method, path, { body, query, signal, auth } = {}) {
  const url = new URL(path.replace(/^\//, ""), API_BASE);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  const bearer = auth === undefined ? token() : auth;
  const headers = { Accept: "application/json" };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method, headers, signal, cache: "no-store", credentials: "omit",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "unreachable", "The broker did not answer.");
  }
  return answer(response, auth === undefined);
}

async function answer(response, storedToken) {
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (response.ok) return parsed;
  const error = parsed && parsed.error ? parsed.error : {};
  if (response.status === 401 && storedToken) {
    window.dispatchEvent(new CustomEvent("pubsubgo:unauthenticated"));
  }
  const message = error.message || `${response.status} ${response.statusText}`;
  throw new ApiError(response.status, error.code || "http_error", message, error);
}

export const get = (path, options) => api("GET", path, options);
export const post = (path, body, options = {}) => api("POST", path, { ...options, body });
export const del = (path, options) => api("DELETE", path, options);

/** Every page of a browse: calls `onPage(messages)` until the topic ends or `stop()`. */
export async function browseAll(topic, onPage, { signal, pageSize = 1000, stop = () => false } = {}) {
  let after = null;
  do {
    const page = await get(`/v1/topics/${seg(topic)}/messages`, {
      query: { limit: pageSize, after }, signal,
    });
    onPage(page.messages);
    after = page.next_after;
  } while (after && !stop());
}

/** The WebSocket's address, beside the REST API. */
export function socketUrl() {
  const url = new URL("v1/ws", API_BASE);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/**
 * The subprotocols that carry the token on a WebSocket upgrade (browsers cannot set an
 * Authorization header there): "pubsubgo", which the broker selects, and the token in
 * unpadded base64url, which it reads and never echoes.
 */
export function socketProtocols() {
  const bearer = token();
  if (!bearer) return [];
  const utf8 = new TextEncoder().encode(bearer);
  const base64 = btoa(String.fromCharCode(...utf8));
  const url = base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return ["pubsubgo", `pubsubgo.bearer.${url}`];
}
