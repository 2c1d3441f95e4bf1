// Subscription page: settings, backlog and oldest-unacked charts, the consumer group, seek,
// and the dead letters.

import { del, get, post, seg } from "./api.js";
import { may } from "./auth.js";
import { chartFigure, niceSeconds, record } from "./chart.js";
import { confirmDialog, showError } from "./dialog.js";
import { deadLetters } from "./deadletters.js";
import { facts, field, h, link, replace, section, update } from "./dom.js";
import * as fmt from "./format.js";
import { act, notify } from "./page.js";

const REFRESH_MS = 2000;

function settings(s) {
  const retry = s.retry_policy;
  return facts([
    ["Topic", link(`#/topics/${seg(s.topic)}`, s.topic)],
    ["Type", s.type === "push" ? `push to ${s.push_endpoint}` : "pull"],
    ["Filter", s.filter ? h("code", {}, s.filter) : "none (every message)"],
    ["Ack deadline", fmt.duration(s.ack_deadline_seconds)],
    ["Retry backoff", `${fmt.duration(retry.minimum_backoff_seconds)} to ${fmt.duration(retry.maximum_backoff_seconds)}`],
    ["Max delivery attempts", s.max_delivery_attempts ? String(s.max_delivery_attempts) : "unlimited"],
    ["Dead-letter topic", s.dead_letter_topic ? link(`#/topics/${seg(s.dead_letter_topic)}`, s.dead_letter_topic) : "none"],
    ["Ordered", s.ordered ? "yes" : "no"], ["Durable", s.durable ? "yes" : "no (deleted when its last consumer leaves)"],
    ["Started from", s.start], ["Max in flight", fmt.count(s.max_in_flight)], ["Created", fmt.time(s.created_at)],
  ]);
}

function group(s) {
  if (!s.members.length) return h("p", { class: "muted" }, `Generation ${s.generation}; no consumers connected.`);
  return h("div", {}, h("p", {}, `Generation ${s.generation}, ${s.members.length} consumer(s).`),
    h("table", {}, h("caption", { class: "visually-hidden" }, "Group members"),
      h("thead", {}, h("tr", {}, ["Member", "Partitions", "Joined", "Last heartbeat"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, s.members.map((m) => h("tr", {}, h("th", { scope: "row" }, h("code", {}, m.member_id)),
        h("td", {}, m.assignment.join(", ") || "none"), h("td", {}, fmt.time(m.joined_at)), h("td", {}, fmt.time(m.last_heartbeat)))))));
}

function statCards(s) {
  const card = (label, value) => h("div", { class: "stat" }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value" }, value));
  return [card("Backlog", fmt.count(s.backlog)), card("In flight", fmt.count(s.in_flight)),
    card("Scheduled", fmt.count(s.scheduled)), card("Oldest unacked", fmt.duration(s.oldest_unacked_age_seconds)),
    card("Consume", fmt.rate(s.consume_rate_per_second)), card("Consumers", String(s.members.length))];
}

/** Seek to earliest, latest or a time (the browser's local time). */
function seekForm(name, onSeek) {
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const when = h("input", { type: "datetime-local", name: "timestamp", step: "1", "aria-label": "Time to seek to (local time)" });
  const choice = (value, label) => h("label", {}, h("input", { type: "radio", name: "position", value, checked: value === "earliest" }), ` ${label}`);
  const button = h("button", { type: "submit", class: "primary" }, "Seek");
  const form = h("form", { class: "seek", "aria-label": "Seek" },
    h("fieldset", {}, h("legend", {}, "Move the subscription to"),
      choice("earliest", "the earliest stored message (deliver everything again)"),
      choice("latest", "the latest (skip the backlog)"), h("div", { class: "inline-choice" }, choice("time", "the first message at or after"), when)),
    error, h("div", { class: "actions" }, button));
  when.addEventListener("input", () => { form.elements.position.value = "time"; });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.hidden = true;
    act(button, async () => {
      const position = form.elements.position.value;
      if (position === "time" && !when.value) throw Object.assign(new Error("Choose a time."), { details: { field: "timestamp" } });
      const body = position === "time" ? { timestamp: new Date(when.value).toISOString() } : { position };
      const target = position === "time" ? fmt.time(body.timestamp) : position;
      if (!(await confirmDialog(`Seek ${name}?`, `Messages before ${target} count as acknowledged; later ones are delivered again.`, "Seek"))) return;
      await post(`/v1/subscriptions/${seg(name)}/seek`, body);
      notify(`${name} moved to ${target}.`);
      onSeek();
    }, (failure) => showError(form, error, failure));
  });
  return form;
}

export async function renderSubscription(main, ctx, name) {
  ctx.title(`Subscription ${name}`);
  const first = await get(`/v1/subscriptions/${seg(name)}`, { signal: ctx.signal });
  const cards = h("div", { class: "stats" });
  const groupBox = h("div");
  const charts = h("div", { class: "columns" });
  const actions = h("div", { class: "actions" });
  if (may("admin", name)) {
    const remove = h("button", { type: "button", class: "danger" }, "Delete subscription");
    remove.addEventListener("click", () => act(remove, async () => {
      if (!(await confirmDialog(`Delete ${name}?`, "Its backlog and what is in flight are dropped.", "Delete subscription"))) return;
      await del(`/v1/subscriptions/${seg(name)}`);
      notify(`Subscription ${name} deleted.`);
      location.hash = `#/topics/${seg(first.topic)}`;
    }));
    actions.append(remove);
  }
  async function tick() {
    const s = await get(`/v1/subscriptions/${seg(name)}`, { signal: ctx.signal });
    const samples = record(`subscription:${name}`, { backlog: s.backlog, age: s.oldest_unacked_age_seconds, inFlight: s.in_flight });
    replace(cards, ...statCards(s));
    update(groupBox, [s.generation, s.members], () => group(s));
    replace(charts,
      chartFigure({ title: "Backlog", samples, format: fmt.count,
        series: [{ field: "backlog", label: "Backlog", className: "s1" }, { field: "inFlight", label: "In flight", className: "s2" }] }),
      chartFigure({ title: "Oldest unacked message", samples, format: fmt.duration, axisFormat: fmt.shortDuration, ceiling: niceSeconds,
        series: [{ field: "age", label: "Age", className: "s3" }] }));
  }
  const refreshNow = () => tick().catch((e) => ctx.problem(e));
  main.append(
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, h("span", { class: "kind" }, "Subscription "), name), actions),
    ctx.banner, cards, charts,
    h("div", { class: "columns" }, section("Settings", settings(first)), section("Consumer group", groupBox)),
    may("admin", name) ? section("Seek", seekForm(name, refreshNow)) : null,
    first.dead_letter_topic ? section("Dead letters", deadLetters(first, ctx, refreshNow)) : null);
  await ctx.every(REFRESH_MS, tick);
}
