// Building DOM nodes without HTML strings: every text goes in as a text node, so nothing a
// broker returns (message data, names, attributes) can ever become markup.

/**
 * Create an element.
 * @param {string} tag
 * @param {Object<string, any>} [attrs] class, text, dataset, on<event> handlers, aria-*,
 *   and any other attribute; false/null/undefined values are left out.
 * @param {...(Node|string|number|null|undefined|false|Array)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append children (nested arrays flattened; null, undefined and false skipped). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace every child of `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A link to a console page (`#/...`). */
export function link(href, text, attrs = {}) {
  return h("a", { href, ...attrs }, text);
}

/** A definition list of [term, value] pairs (values may be nodes). */
export function facts(pairs, attrs = {}) {
  return h("dl", { class: "facts", ...attrs },
    pairs.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

/** A section with a heading, labelled by it for assistive technology. */
let sections = 0;
export function section(title, ...children) {
  const id = `section-${++sections}`;
  return h("section", { class: "card", "aria-labelledby": id },
    h("h2", { id }, title), ...children);
}

/** An id unique within the page, for label/for and aria references. */
let ids = 0;
export function uid(prefix = "el") {
  return `${prefix}-${++ids}`;
}

/** A labelled form field: the label, the control and an optional hint. */
export function field(label, control, hint) {
  control.id ||= uid("field");
  const hintEl = hint ? h("small", { class: "hint", id: uid("hint") }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

/**
 * Rebuild `el`'s content only when `key` changed since the last time: a refresh that finds
 * the same data keeps the focus and selection inside it.
 */
export function update(el, key, build) {
  const text = typeof key === "string" ? key : JSON.stringify(key);
  if (el.dataset.key === text) return;
  el.dataset.key = text;
  replace(el, build());
}
