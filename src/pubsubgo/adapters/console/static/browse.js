// Browsing a topic's stored messages (consuming nothing): pages of the broker's browse
// loaded as the list scrolls, a message opened in full, and fetching one by id.

import { get, seg } from "./api.js";
import { field, h, replace } from "./dom.js";
import * as fmt from "./format.js";
import { messageDetail } from "./message.js";
import { act } from "./page.js";
import { VirtualList } from "./vlist.js";

const PAGE = 500;

export const MESSAGE_COLUMNS = [
  { title: "ID", width: "minmax(6rem, 9rem)" }, { title: "Part.", width: "3.5rem" },
  { title: "Published", width: "11rem" }, { title: "Key", width: "minmax(4rem, 8rem)" },
  { title: "Priority", width: "5rem" }, { title: "Data", width: "minmax(10rem, 1fr)" },
];

export function messageCells(m) {
  return [m.id, String(m.partition), fmt.time(m.published_at), m.key ?? "—", m.priority, fmt.preview(m)];
}

/** The browse section of a topic page; `total()` says how many messages the topic holds. */
export function browser(topic, ctx, total) {
  const detail = h("div", { class: "detail", "aria-live": "polite" },
    h("p", { class: "muted" }, "Choose a message to see it in full."));
  const show = (message) => replace(detail, messageDetail(message));
  const status = h("p", { class: "muted", role: "status" });
  let nextAfter = null;
  let loading = null;
  let done = false;
  const list = new VirtualList({
    label: `Messages of ${topic}`, columns: MESSAGE_COLUMNS, cells: messageCells,
    key: (m) => m.id, onOpen: show, empty: "The topic holds no messages.",
    onNearEnd: () => { if (!done) more().catch((e) => ctx.problem(e)); },
  });
  const describe = () => {
    const of = total();
    replace(status, `${fmt.count(list.items.length)} loaded${of === null ? "" : ` of ${fmt.count(of)} stored`}${done ? "" : "; scroll for more"}.`);
  };
  async function more() {
    if (loading) return loading;
    loading = (async () => {
      const page = await get(`/v1/topics/${seg(topic)}/messages`, { query: { limit: PAGE, after: nextAfter }, signal: ctx.signal });
      nextAfter = page.next_after;
      done = !nextAfter;
      list.setItems(list.items.concat(page.messages));
      describe();
    })().finally(() => { loading = null; });
    return loading;
  }
  async function reload() {
    await loading;
    nextAfter = null;
    done = false;
    list.setItems([]);
    await more();
  }
  const reloadButton = h("button", { type: "button" }, "Reload");
  reloadButton.addEventListener("click", () => act(reloadButton, reload));
  const fetchForm = fetchById(topic, ctx, show);
  more().catch((e) => ctx.problem(e));
  return {
    el: h("div", { class: "browse" },
      h("div", { class: "toolbar" }, fetchForm, reloadButton), status,
      h("div", { class: "split" }, list.el, detail)),
    reload,
    update: describe,
  };
}

function fetchById(topic, ctx, show) {
  const input = h("input", { name: "id", autocomplete: "off", placeholder: "0-42", required: true });
  const error = h("span", { class: "form-error", role: "alert" });
  const button = h("button", { type: "submit" }, "Fetch");
  const form = h("form", { class: "inline", "aria-label": "Fetch a message by id" },
    field("Message ID", input), button, error);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.textContent = "";
    act(button, async () => {
      show(await get(`/v1/topics/${seg(topic)}/messages/${seg(input.value.trim())}`, { signal: ctx.signal }));
    }, (failure) => { error.textContent = failure.message; });
  });
  return form;
}
