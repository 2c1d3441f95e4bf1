// Overview: every topic and subscription the token sees, with rates, backlog, age, dead
// letters and consumers; the page's rows refresh every few seconds.

import { get, seg } from "./api.js";
import { mayAny, sees } from "./auth.js";
import { h, link, section } from "./dom.js";
import { createSubscription, createTopic } from "./forms.js";
import * as fmt from "./format.js";
import { PagedTable } from "./table.js";

const REFRESH_MS = 5000;

/** Details of each item, fetched in parallel; failures (deleted meanwhile) are left out. */
async function detailsOf(items, path, signal) {
  const found = new Map();
  await Promise.all(items.map(async (item) => {
    try {
      found.set(item.name, await get(path(item), { signal }));
    } catch (error) {
      if (error.name === "AbortError") throw error;
    }
  }));
  return found;
}

function topicTable() {
  return new PagedTable({
    caption: "Topics", noun: "topics", empty: "No topics yet.",
    key: (t) => t.name,
    columns: [
      { title: "Topic" }, { title: "Partitions", numeric: true }, { title: "Messages", numeric: true },
      { title: "Size", numeric: true }, { title: "Publish", numeric: true }, { title: "Consume", numeric: true },
      { title: "Last publish" },
    ],
    cells: (t, s) => [
      link(`#/topics/${seg(t.name)}`, t.name), String(t.partitions),
      s ? fmt.count(s.messages) : "…", s ? fmt.bytes(s.bytes) : "…",
      s ? fmt.rate(s.publish_rate_per_second) : "…", s ? fmt.rate(s.consume_rate_per_second) : "…",
      s ? fmt.time(s.last_publish_at) : "…",
    ],
    details: (rows, signal) => detailsOf(rows, (t) => `/v1/topics/${seg(t.name)}/stats`, signal),
  });
}

function subscriptionTable() {
  return new PagedTable({
    caption: "Subscriptions", noun: "subscriptions", empty: "No subscriptions yet.",
    key: (s) => s.name,
    columns: [
      { title: "Subscription" }, { title: "Topic" }, { title: "Backlog", numeric: true },
      { title: "In flight", numeric: true }, { title: "Oldest unacked", numeric: true },
      { title: "Consume", numeric: true }, { title: "Consumers", numeric: true }, { title: "Dead letters" },
    ],
    cells: (s, d) => [
      h("span", {}, link(`#/subscriptions/${seg(s.name)}`, s.name), s.durable ? null : h("span", { class: "badge" }, "non-durable")),
      link(`#/topics/${seg(s.topic)}`, s.topic),
      d ? fmt.count(d.backlog) : "…", d ? fmt.count(d.in_flight) : "…",
      d ? fmt.duration(d.oldest_unacked_age_seconds) : "…", d ? fmt.rate(d.consume_rate_per_second) : "…",
      d ? String(d.members.length) : "…", deadLetterCell(s, d),
    ],
    details: subscriptionDetails,
  });
}

/** Each subscription's description, and the depth of its dead-letter topic. */
async function subscriptionDetails(rows, signal) {
  const described = await detailsOf(rows, (s) => `/v1/subscriptions/${seg(s.name)}`, signal);
  const dlqs = [...new Set(rows.map((s) => s.dead_letter_topic).filter((t) => t && sees(t)))];
  const depths = await detailsOf(dlqs.map((name) => ({ name })), (t) => `/v1/topics/${seg(t.name)}/stats`, signal);
  for (const [name, d] of described) {
    const stats = d.dead_letter_topic ? depths.get(d.dead_letter_topic) : null;
    d.deadLetterDepth = stats ? stats.messages : null;
  }
  return described;
}

function deadLetterCell(s, d) {
  if (!s.dead_letter_topic) return h("span", { class: "muted" }, "none");
  const depth = d && d.deadLetterDepth !== null && d.deadLetterDepth !== undefined ? fmt.count(d.deadLetterDepth) : "?";
  return h("span", {}, `${depth} in `, link(`#/topics/${seg(s.dead_letter_topic)}`, s.dead_letter_topic));
}

function summaryCard(label, value) {
  return h("div", { class: "stat" }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value" }, value));
}

export async function renderOverview(main, ctx) {
  ctx.title("Overview");
  const topics = topicTable();
  const subscriptions = subscriptionTable();
  const summary = h("div", { class: "stats" });
  const newTopic = h("button", { type: "button", class: "primary" }, "New topic");
  const newSubscription = h("button", { type: "button" }, "New subscription");
  let topicNames = [];
  newTopic.addEventListener("click", async () => {
    const name = await createTopic();
    if (name) location.hash = `#/topics/${seg(name)}`;
  });
  newSubscription.addEventListener("click", async () => {
    const name = await createSubscription(topicNames);
    if (name) location.hash = `#/subscriptions/${seg(name)}`;
  });
  main.append(
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Overview"),
      h("div", { class: "actions" }, mayAny("admin") ? [newTopic, newSubscription] : null)),
    ctx.banner, summary,
    section("Topics", topics.el), section("Subscriptions", subscriptions.el));
  await ctx.every(REFRESH_MS, async () => {
    const [t, s, ready] = await Promise.all([
      get("/v1/topics", { signal: ctx.signal }), get("/v1/subscriptions", { signal: ctx.signal }),
      get("/readyz", { signal: ctx.signal }).then(() => "ready", (e) => (e.status === 503 ? "storage unavailable" : "answering")),
    ]);
    topicNames = t.topics.map((x) => x.name);
    topics.setItems(t.topics);
    subscriptions.setItems(s.subscriptions);
    summary.replaceChildren(summaryCard("Broker", ready), summaryCard("Topics", fmt.count(t.topics.length)),
      summaryCard("Subscriptions", fmt.count(s.subscriptions.length)));
    await Promise.all([topics.refresh(ctx.signal), subscriptions.refresh(ctx.signal)]);
  });
}
