// A virtualised list: only the rows in view exist in the page, so ten thousand messages
// scroll as smoothly as ten. It is an ARIA listbox: one tab stop, arrow keys, Page Up/Down,
// Home/End move the active row (aria-activedescendant), Enter opens it, Space selects it.

import { h, uid } from "./dom.js";

const OVERSCAN = 6;
const NEAR_END_ROWS = 30;
/** Lists shorter than this many rows shrink to fit them. */
const FIT_ROWS = 12;

export class VirtualList {
  /**
   * @param {{label: string, columns: {title: string, width: string}[],
   *   cells: (item: any) => any[], key: (item: any) => string,
   *   onOpen?: (item: any) => void, selectable?: boolean, onSelect?: (keys: Set) => void,
   *   onNearEnd?: () => void, empty?: string, rowHeight?: number}} spec
   */
  constructor(spec) {
    this.spec = { rowHeight: 34, empty: "Nothing to show.", ...spec };
    this.items = [];
    this.active = -1;
    this.selected = new Set();
    this.rows = new Map();
    this.id = uid("list");
    const template = spec.columns.map((c) => c.width).join(" ");
    const lead = spec.selectable ? "2rem " : "";
    this.template = `${lead}${template}`;
    this.header = h("div", { class: "vlist-header", "aria-hidden": "true" },
      spec.selectable ? h("span", {}, "") : null, spec.columns.map((c) => h("span", {}, c.title)));
    this.header.style.gridTemplateColumns = this.template;
    this.spacer = h("div", { class: "vlist-spacer" });
    this.viewport = h("div", {
      class: "vlist-viewport", role: "listbox", tabindex: "0", "aria-label": spec.label,
      "aria-multiselectable": spec.selectable ? "true" : false,
    }, this.spacer);
    this.emptyNote = h("p", { class: "vlist-empty" }, this.spec.empty);
    this.el = h("div", { class: "vlist" }, this.header, this.viewport, this.emptyNote);
    this.viewport.addEventListener("scroll", () => this.schedule());
    this.viewport.addEventListener("keydown", (event) => this.key(event));
    this.viewport.addEventListener("click", (event) => this.click(event));
    this.viewport.addEventListener("focus", () => {
      if (this.active < 0 && this.items.length) this.moveTo(0);
    });
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
  }

  /** Show `items` (the active row and selection are kept where their keys still exist). */
  setItems(items) {
    const activeKey = this.active >= 0 && this.items[this.active] ? this.spec.key(this.items[this.active]) : null;
    this.items = items;
    const keys = new Set(items.map(this.spec.key));
    for (const key of this.selected) if (!keys.has(key)) this.selected.delete(key);
    this.active = activeKey === null ? -1 : items.findIndex((i) => this.spec.key(i) === activeKey);
    this.schedule();
  }

  selectedItems() {
    return this.items.filter((item) => this.selected.has(this.spec.key(item)));
  }

  clearSelection() {
    this.selected.clear();
    this.changed();
  }

  schedule() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.render();
    });
  }

  render() {
    const { rowHeight } = this.spec;
    const count = this.items.length;
    this.emptyNote.hidden = count > 0;
    this.spacer.style.height = `${count * rowHeight}px`;
    // Short lists take only the room they need; long ones scroll within the CSS height.
    this.viewport.style.height = count < FIT_ROWS ? `${Math.max(count, 1) * rowHeight + 2}px` : "";
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const last = Math.min(count, Math.ceil((top + height) / rowHeight) + OVERSCAN);
    // Rows are kept per item and only moved or restyled: a row replaced between a press and
    // its release would swallow the click.
    const kept = new Map();
    for (let index = first; index < last; index += 1) {
      const item = this.items[index];
      const key = this.spec.key(item);
      let row = this.rows.get(key);
      if (!row || row.item !== item) row = { item, el: this.build(item) };
      this.place(row.el, item, index);
      kept.set(key, row);
    }
    for (const [key, row] of this.rows) if (kept.get(key) !== row) row.el.remove();
    this.rows = kept;
    // The page's order is the list's (what a screen reader reads), moving as few rows as
    // possible.
    let cursor = this.spacer.firstChild;
    for (const { el } of kept.values()) {
      if (el === cursor) cursor = cursor.nextSibling;
      else this.spacer.insertBefore(el, cursor);
    }
    if (this.active >= 0 && this.active < count) {
      this.viewport.setAttribute("aria-activedescendant", this.optionId(this.active));
    } else {
      this.viewport.removeAttribute("aria-activedescendant");
    }
    if (this.spec.onNearEnd && count && last >= count - NEAR_END_ROWS) this.spec.onNearEnd();
  }

  optionId(index) {
    return `${this.id}-${index}`;
  }

  build(item) {
    const row = h("div", { class: "vlist-row", role: "option" },
      this.spec.selectable ? h("span", { class: "check", "aria-hidden": "true" }) : null,
      this.spec.cells(item).map((cell) => h("span", {}, cell)));
    row.style.gridTemplateColumns = this.template;
    row.style.height = `${this.spec.rowHeight}px`;
    return row;
  }

  place(row, item, index) {
    const chosen = this.spec.selectable ? this.selected.has(this.spec.key(item)) : index === this.active;
    row.id = this.optionId(index);
    row.dataset.index = index;
    row.setAttribute("aria-posinset", index + 1);
    row.setAttribute("aria-setsize", this.items.length);
    row.setAttribute("aria-selected", String(chosen));
    row.classList.toggle("active", index === this.active);
    row.classList.toggle("chosen", chosen);
    row.style.transform = `translateY(${index * this.spec.rowHeight}px)`;
    if (this.spec.selectable) row.firstChild.textContent = chosen ? "☑" : "☐";
  }

  key(event) {
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / this.spec.rowHeight) - 1);
    const last = this.items.length - 1;
    const targets = {
      ArrowDown: this.active + 1, ArrowUp: this.active - 1,
      PageDown: this.active + page, PageUp: this.active - page, Home: 0, End: last,
    };
    if (event.key in targets) {
      event.preventDefault();
      this.moveTo(Math.max(0, Math.min(last, targets[event.key])));
    } else if (event.key === "Enter" && this.active >= 0) {
      event.preventDefault();
      this.open(this.active);
    } else if (event.key === " " && this.active >= 0) {
      event.preventDefault();
      if (this.spec.selectable) this.toggle(this.active);
      else this.open(this.active);
    } else if (event.key === "a" && (event.ctrlKey || event.metaKey) && this.spec.selectable) {
      event.preventDefault();
      for (const item of this.items) this.selected.add(this.spec.key(item));
      this.changed();
    }
  }

  click(event) {
    const row = event.target.closest(".vlist-row");
    if (!row) return;
    const index = Number(row.dataset.index);
    this.active = index;
    this.viewport.focus({ preventScroll: true });
    if (this.spec.selectable && event.target.closest(".check")) this.toggle(index);
    else this.open(index);
  }

  moveTo(index) {
    if (index < 0 || index >= this.items.length) return;
    this.active = index;
    const { rowHeight } = this.spec;
    const top = index * rowHeight;
    const view = this.viewport;
    if (top < view.scrollTop) view.scrollTop = top;
    else if (top + rowHeight > view.scrollTop + view.clientHeight) {
      view.scrollTop = top + rowHeight - view.clientHeight;
    }
    this.render();
  }

  open(index) {
    this.render();
    if (this.spec.onOpen) this.spec.onOpen(this.items[index]);
  }

  toggle(index) {
    const key = this.spec.key(this.items[index]);
    if (this.selected.has(key)) this.selected.delete(key);
    else this.selected.add(key);
    this.changed();
  }

  changed() {
    this.render();
    if (this.spec.onSelect) this.spec.onSelect(this.selected);
  }
}
