// Topic page: settings, partitions with their depth, rates over the last minutes, its
// subscriptions, a publish form, and browsing its messages.

import { del, get, seg } from "./api.js";
import { may, mayAny } from "./auth.js";
import { browser } from "./browse.js";
import { chartFigure, record } from "./chart.js";
import { formDialog } from "./dialog.js";
import { facts, h, link, replace, section, update } from "./dom.js";
import { createSubscription, publishForm } from "./forms.js";
import * as fmt from "./format.js";
import { notify } from "./page.js";
import { tailName } from "./tail.js";

const REFRESH_MS = 2000;

function settings(topic) {
  return facts([
    ["Partitions", String(topic.partitions)],
    ["Retention", fmt.duration(topic.retention_seconds)],
    ["Max messages", topic.max_messages ? `${fmt.count(topic.max_messages)} (when full: ${topic.overflow})` : "unbounded"],
    ["Dedup window", fmt.duration(topic.dedup_window_seconds)],
    ["Compression", topic.compression === "none" ? "none" : `${topic.compression} from ${fmt.bytes(topic.compression_min_bytes)}`],
    ["Created", fmt.time(topic.created_at)],
  ]);
}

function partitions(depths) {
  const deepest = Math.max(1, ...depths);
  return h("table", { class: "partitions" },
    h("caption", { class: "visually-hidden" }, "Depth of each partition"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Partition"), h("th", { scope: "col", class: "num" }, "Messages"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Share")))),
    h("tbody", {}, depths.map((depth, p) => {
      const bar = h("span", { class: "depth-bar" });
      bar.style.width = `${(depth / deepest) * 100}%`;
      return h("tr", {}, h("th", { scope: "row" }, String(p)), h("td", { class: "num" }, fmt.count(depth)), h("td", { class: "bar-cell", "aria-hidden": "true" }, bar));
    })));
}

function statCards(stats) {
  const card = (label, value) => h("div", { class: "stat" }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value" }, value));
  return [
    card("Messages", fmt.count(stats.messages)), card("Size", fmt.bytes(stats.bytes)),
    card("Publish", fmt.rate(stats.publish_rate_per_second)), card("Consume", fmt.rate(stats.consume_rate_per_second)),
    card("Published in all", fmt.count(stats.publish_count)), card("Last publish", fmt.ago(stats.last_publish_at)),
  ];
}

async function deleteTopic(name) {
  const done = await formDialog({
    title: `Delete topic ${name}?`, submitLabel: "Delete topic", danger: true,
    fields: [h("p", {}, "Its stored messages are deleted. This cannot be undone."),
      h("label", {}, h("input", { type: "checkbox", name: "force" }), " Also delete its subscriptions")],
    onSubmit: (form) => del(`/v1/topics/${seg(name)}`, { query: form.elements.force.checked ? { force: true } : {} }),
  });
  if (done) {
    notify(`Topic ${name} deleted.`);
    location.hash = "#/";
  }
}

export async function renderTopic(main, ctx, name) {
  ctx.title(`Topic ${name}`);
  const described = await get(`/v1/topics/${seg(name)}`, { signal: ctx.signal });
  let latest = described;
  const cards = h("div", { class: "stats" });
  const depthBox = h("div");
  const chartBox = h("div");
  const subsBox = h("div");
  const actions = h("div", { class: "actions" });
  if (may("subscribe", name) && may("admin", tailName(name))) actions.append(link(`#/tail/${seg(name)}`, "Live tail", { class: "button" }));
  if (mayAny("admin")) {
    const add = h("button", { type: "button" }, "New subscription");
    add.addEventListener("click", async () => {
      const created = await createSubscription([name], name);
      if (created) location.hash = `#/subscriptions/${seg(created)}`;
    });
    actions.append(add);
  }
  if (may("admin", name)) {
    const remove = h("button", { type: "button", class: "danger" }, "Delete topic");
    remove.addEventListener("click", () => deleteTopic(name));
    actions.append(remove);
  }
  const browse = may("subscribe", name) ? browser(name, ctx, () => latest.stats.messages) : null;
  // After a publish from the form: the list and the numbers at once, not at the next tick.
  const published = () => Promise.all([tick(), browse && browse.reload()]).catch((e) => ctx.problem(e));
  main.append(
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, h("span", { class: "kind" }, "Topic "), name), actions),
    ctx.banner, cards,
    h("div", { class: "columns" }, section("Settings", settings(described)), section("Partitions", depthBox)),
    section("Rates", chartBox), section("Subscriptions", subsBox),
    may("publish", name) ? section("Publish a message", publishForm(name, published)) : null,
    browse ? section("Messages", browse.el) : null);
  async function tick() {
    const [topic, subs] = await Promise.all([
      get(`/v1/topics/${seg(name)}`, { signal: ctx.signal }),
      get("/v1/subscriptions", { query: { topic: name }, signal: ctx.signal }),
    ]);
    latest = topic;
    const { stats } = topic;
    const samples = record(`topic:${name}`, { publish: stats.publish_rate_per_second, consume: stats.consume_rate_per_second });
    replace(cards, ...statCards(stats));
    replace(depthBox, partitions(stats.partition_depths));
    replace(chartBox, chartFigure({
      title: "Messages per second (each point averages the minute before it)", samples, format: fmt.rate, wide: true,
      series: [{ field: "publish", label: "Publish", className: "s1" }, { field: "consume", label: "Consume", className: "s2" }],
    }));
    update(subsBox, subs.subscriptions.map((s) => [s.name, s.filter]), () => (subs.subscriptions.length
      ? h("ul", { class: "plain-list" }, subs.subscriptions.map((s) => h("li", {}, link(`#/subscriptions/${seg(s.name)}`, s.name),
        s.filter ? h("code", {}, ` ${s.filter}`) : null)))
      : h("p", { class: "muted" }, "No subscriptions.")));
    if (browse) browse.update();
  }
  await ctx.every(REFRESH_MS, tick);
}
