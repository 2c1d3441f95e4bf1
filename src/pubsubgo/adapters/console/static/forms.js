// The forms that change things: create a topic or a subscription, publish a message.

import { post } from "./api.js";
import { may } from "./auth.js";
import { formDialog, showError } from "./dialog.js";
import { field, h } from "./dom.js";
import { notify } from "./page.js";

const input = (name, attrs = {}) => h("input", { name, autocomplete: "off", ...attrs });
const number = (name, value, attrs = {}) => input(name, { type: "number", value, ...attrs });
const select = (name, options, value) => h("select", { name },
  options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
const checkbox = (name, checked) => h("input", { type: "checkbox", name, checked });
/** A form's value as an integer, or undefined when the field is empty. */
const integer = (form, name) => (form.elements[name].value === "" ? undefined : Number(form.elements[name].value));

/** Refuse a name the token may not administer before asking the broker. */
function checkAdmin(name) {
  if (!may("admin", name)) {
    const error = new Error(`Your token may not create "${name}" (it needs admin on that name).`);
    error.details = { field: "name" };
    throw error;
  }
}

/** The create-topic dialog; resolves to the new topic's name, or null. */
export async function createTopic() {
  let created = null;
  const done = await formDialog({
    title: "New topic", submitLabel: "Create topic",
    fields: [
      field("Name", input("name", { required: true, maxlength: 249, pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*" }),
        "Letters, digits, dot, dash and underscore."),
      field("Partitions", number("partitions", 1, { min: 1, max: 256 })),
      h("details", {}, h("summary", {}, "More settings"),
        field("Retention (seconds)", number("retention_seconds", 604800, { min: 1 })),
        field("Max messages (0 = unbounded)", number("max_messages", 0, { min: 0 })),
        field("When full", select("overflow", [["reject", "Reject publishes"], ["drop_oldest", "Drop the oldest"]], "reject")),
        field("Dedup window (seconds)", number("dedup_window_seconds", 120, { min: 0 })),
        field("Compression", select("compression", [["none", "None"], ["snappy", "Snappy"], ["lz4", "LZ4"]], "none"))),
    ],
    onSubmit: async (form) => {
      const name = form.elements.name.value.trim();
      checkAdmin(name);
      const body = { name, partitions: integer(form, "partitions") };
      for (const key of ["retention_seconds", "max_messages", "dedup_window_seconds"]) body[key] = integer(form, key);
      body.overflow = form.elements.overflow.value;
      body.compression = form.elements.compression.value;
      await post("/v1/topics", body);
      created = name;
    },
  });
  if (done) notify(`Topic ${created} created.`);
  return done ? created : null;
}

/**
 * The create-subscription dialog; resolves to the new subscription's name, or null.
 * @param {string[]} topics the topics to choose from
 * @param {string} [topic] the one chosen at first
 */
export async function createSubscription(topics, topic) {
  let created = null;
  const choices = topics.map((t) => [t, t]);
  const done = await formDialog({
    title: "New subscription", submitLabel: "Create subscription",
    fields: [
      field("Name", input("name", { required: true, maxlength: 249 })),
      field("Topic", select("topic", choices, topic || (topics[0] ?? ""))),
      field("Start from", select("start", [["latest", "Latest (new messages only)"], ["earliest", "Earliest stored message"]], "latest")),
      field("Filter", input("filter", { placeholder: 'attributes.type = "created"' }),
        'On attributes: =, !=, hasPrefix(attributes.k, "p"), attributes:k, AND, OR, NOT.'),
      h("details", {}, h("summary", {}, "More settings"),
        field("Ack deadline (seconds)", number("ack_deadline_seconds", 30, { min: 1, max: 600 })),
        field("Max delivery attempts (0 = unlimited)", number("max_delivery_attempts", 0, { min: 0 })),
        field("Dead-letter topic", select("dead_letter_topic", [["", "None"], ...choices], "")),
        field("Max in flight per consumer", number("max_in_flight", 1000, { min: 1 })),
        h("div", { class: "checks" },
          h("label", {}, checkbox("ordered", false), " Ordered (by key)"),
          h("label", {}, checkbox("durable", true), " Durable"))),
    ],
    onSubmit: async (form) => {
      const name = form.elements.name.value.trim();
      checkAdmin(name);
      const e = form.elements;
      const body = {
        name, topic: e.topic.value, start: e.start.value, filter: e.filter.value.trim(),
        ack_deadline_seconds: integer(form, "ack_deadline_seconds"),
        max_delivery_attempts: integer(form, "max_delivery_attempts"),
        max_in_flight: integer(form, "max_in_flight"),
        ordered: e.ordered.checked, durable: e.durable.checked,
      };
      if (e.dead_letter_topic.value) body.dead_letter_topic = e.dead_letter_topic.value;
      await post("/v1/subscriptions", body);
      created = name;
    },
  });
  if (done) notify(`Subscription ${created} created.`);
  return done ? created : null;
}

/** `name=value` lines as attributes. */
function attributes(text) {
  const found = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf("=");
    if (at < 1) {
      const error = new Error(`"${line.trim()}" is not name=value.`);
      error.details = { field: "attributes" };
      throw error;
    }
    found[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return found;
}

/** The publish form of a topic page; `onPublished(ids)` runs after each publish. */
export function publishForm(topic, onPublished) {
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const result = h("p", { class: "muted", role: "status" });
  const submit = h("button", { type: "submit", class: "primary" }, "Publish");
  const form = h("form", { class: "publish", "aria-label": `Publish to ${topic}` },
    error,
    field("Data", h("textarea", { name: "data", rows: 4, spellcheck: "false" })),
    h("div", { class: "row" },
      field("Encoding", select("encoding", [["utf-8", "Text"], ["base64", "Base64"]], "utf-8")),
      field("Key", input("key")),
      field("Priority", select("priority", ["low", "normal", "high", "critical"].map((p) => [p, p]), "normal")),
      field("TTL (seconds)", number("ttl_seconds", "", { min: 1 })),
      field("Delay (seconds)", number("delay_seconds", "", { min: 1 })),
      field("Dedup ID", input("dedup_id"))),
    field("Attributes", h("textarea", { name: "attributes", rows: 2, spellcheck: "false", placeholder: "type=created" }),
      "One name=value per line."),
    h("div", { class: "actions" }, submit, result));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const e = form.elements;
      const message = { data: e.data.value, attributes: attributes(e.attributes.value), priority: e.priority.value };
      if (e.encoding.value === "base64") message.encoding = "base64";
      for (const key of ["key", "dedup_id"]) if (e[key].value) message[key] = e[key].value;
      for (const key of ["ttl_seconds", "delay_seconds"]) if (e[key].value) message[key] = Number(e[key].value);
      const { ids } = await post(`/v1/topics/${encodeURIComponent(topic)}/messages`, { messages: [message] });
      result.textContent = `Published message ${ids[0]}.`;
      onPublished(ids);
    } catch (failure) {
      showError(form, error, failure);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
