// A table of many rows shown a page at a time, filtered by name; only the rows on the page
// get their details from the broker (a thousand topics cost one page of requests).

import { h, uid, update } from "./dom.js";
import * as fmt from "./format.js";

const PAGE_SIZES = [15, 50, 100];

export class PagedTable {
  /**
   * @param {{caption: string, noun: string, columns: {title: string, numeric?: boolean}[],
   *   key: (item) => string, cells: (item, details) => any[],
   *   details: (items: any[], signal: AbortSignal) => Promise<Map<string, any>>,
   *   empty: string}} spec
   */
  constructor(spec) {
    this.spec = spec;
    this.items = [];
    this.details = new Map();
    this.page = 0;
    this.pageSize = PAGE_SIZES[0];
    this.filterText = "";
    const filterId = uid("filter");
    this.filter = h("input", {
      id: filterId, type: "search", placeholder: "Filter by name", autocomplete: "off",
      oninput: () => { this.filterText = this.filter.value.trim(); this.page = 0; this.draw(); },
    });
    const sizeId = uid("size");
    this.size = h("select", {
      id: sizeId,
      onchange: () => { this.pageSize = Number(this.size.value); this.page = 0; this.draw(); this.quietRefresh(); },
    }, PAGE_SIZES.map((n) => h("option", { value: n }, String(n))));
    this.body = h("tbody");
    this.status = h("span", { class: "muted", "aria-live": "polite" });
    this.prev = h("button", { type: "button", onclick: () => this.turn(-1) }, "Previous");
    this.next = h("button", { type: "button", onclick: () => this.turn(1) }, "Next");
    this.el = h("div", { class: "paged" },
      h("div", { class: "toolbar" },
        h("label", { for: filterId, class: "visually-hidden" }, `Filter ${spec.noun} by name`), this.filter,
        h("label", { for: sizeId }, "Rows"), this.size),
      h("div", { class: "table-wrap" },
        h("table", {},
          h("caption", { class: "visually-hidden" }, spec.caption),
          h("thead", {}, h("tr", {}, spec.columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : "" }, c.title)))),
          this.body)),
      h("nav", { class: "pager", "aria-label": `${spec.caption} pages` }, this.prev, this.status, this.next));
  }

  visible() {
    const text = this.filterText.toLowerCase();
    return text ? this.items.filter((i) => this.spec.key(i).toLowerCase().includes(text)) : this.items;
  }

  onPage() {
    const start = this.page * this.pageSize;
    return this.visible().slice(start, start + this.pageSize);
  }

  setItems(items) {
    this.items = items;
    this.draw();
  }

  turn(step) {
    this.page += step;
    this.draw();
    this.quietRefresh();
  }

  /** Refresh now; a failure waits for the page's next periodic refresh to show. */
  quietRefresh() {
    this.refresh().catch(() => {});
  }

  /** Ask the broker for the details of the rows on the page, then redraw. */
  async refresh(signal) {
    const rows = this.onPage();
    const found = await this.spec.details(rows, signal);
    for (const [key, value] of found) this.details.set(key, value);
    this.draw();
  }

  draw() {
    const shown = this.visible();
    const pages = Math.max(1, Math.ceil(shown.length / this.pageSize));
    this.page = Math.min(this.page, pages - 1);
    const rows = this.onPage();
    const { columns } = this.spec;
    const key = rows.map((item) => [item, this.details.get(this.spec.key(item))]);
    update(this.body, [key, this.filterText], () => (rows.length ? rows.map((item) => h("tr", {},
      this.spec.cells(item, this.details.get(this.spec.key(item))).map((cell, i) =>
        h(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : false, class: columns[i].numeric ? "num" : "" }, cell))))
      : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, this.filterText ? `No ${this.spec.noun} match.` : this.spec.empty))));
    const first = shown.length ? this.page * this.pageSize + 1 : 0;
    const last = Math.min(shown.length, (this.page + 1) * this.pageSize);
    const status = `${fmt.count(first)}–${fmt.count(last)} of ${fmt.count(shown.length)} ${this.spec.noun}, page ${this.page + 1} of ${pages}`;
    update(this.status, status, () => status);
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
  }
}
