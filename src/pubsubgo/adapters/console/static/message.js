// One message in full: its fields, attributes, and data as text, JSON or hex.

import { facts, h, uid } from "./dom.js";
import * as fmt from "./format.js";

/**
 * @param {Object} message a stored or delivered message of the API
 * @param {{title?: string, extra?: [string, any][]}} [options] more facts shown first
 */
export function messageDetail(message, { title, extra = [] } = {}) {
  const data = fmt.dataBytes(message);
  const attributes = Object.entries(message.attributes || {});
  return h("article", { class: "message-detail", "aria-label": title || `Message ${message.id}` },
    h("h3", {}, title || `Message ${message.id}`),
    facts([
      ...extra,
      ["ID", message.id],
      ["Partition", String(message.partition)],
      ["Key", message.key ?? "—"],
      ["Priority", message.priority],
      ["Delivery mode", message.delivery_mode],
      ["Published", fmt.time(message.published_at)],
      ["Expires (TTL)", message.expires_at ? fmt.time(message.expires_at) : "never"],
      message.deliver_at ? ["Deliver at", fmt.time(message.deliver_at)] : null,
      message.dedup_id ? ["Dedup ID", message.dedup_id] : null,
      ["Size", fmt.bytes(data.length)],
    ]),
    h("h4", {}, `Attributes (${attributes.length})`),
    attributes.length
      ? h("table", { class: "attributes" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Value"))),
        h("tbody", {}, attributes.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, v)))))
      : h("p", { class: "muted" }, "None."),
    h("h4", {}, "Data"),
    dataTabs(message, data));
}

function dataTabs(message, data) {
  const json = fmt.asJson(message);
  const views = [
    ["Text", () => (message.encoding === "base64" ? `(not UTF-8 text: ${fmt.bytes(data.length)} of binary data; see Hex)` : message.data)],
    ["JSON", () => json ?? "(not JSON)"],
    ["Hex", () => fmt.hexDump(data)],
  ];
  const initial = message.encoding === "base64" ? 2 : json !== null ? 1 : 0;
  const panel = h("pre", { class: "data", role: "tabpanel", tabindex: "0", id: uid("panel") });
  const tabs = views.map(([label], index) => h("button", {
    type: "button", role: "tab", id: uid("tab"), "aria-controls": panel.id,
    "aria-selected": "false", tabindex: "-1",
  }, label));
  const show = (index) => {
    tabs.forEach((tab, i) => {
      tab.setAttribute("aria-selected", String(i === index));
      tab.tabIndex = i === index ? 0 : -1;
    });
    panel.setAttribute("aria-labelledby", tabs[index].id);
    panel.textContent = views[index][1]();
    panel.classList.toggle("hex", index === 2);
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => show(index));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = (index + step + tabs.length) % tabs.length;
      show(next);
      tabs[next].focus();
    });
  });
  show(initial);
  return h("div", { class: "data-view" }, h("div", { role: "tablist", "aria-label": "Show data as" }, tabs), panel);
}
