// Live tail: follow a topic through a non-durable subscription of its own over the
// WebSocket. It acks only what its own subscription delivers (so no other subscriber loses
// anything), and the broker deletes the subscription when the socket closes.

import { del, get, post, seg, socketProtocols, socketUrl } from "./api.js";
import { may } from "./auth.js";
import { field, h, replace, section } from "./dom.js";
import * as fmt from "./format.js";
import { messageDetail } from "./message.js";
import { VirtualList } from "./vlist.js";

/** The most messages kept on the page (shown and waiting while paused); older ones go. */
const KEEP = 10_000;
/** New messages are drawn at most this often, however fast they come. */
const DRAW_MS = 200;

/** A subscription name of the tail's own, beginning with the topic's name (so a token's
 * pattern such as `orders*` covers it). */
export function tailName(topic) {
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${topic.slice(0, 230)}.tail-${suffix}`;
}

/** One tail: creates its subscription, subscribes over a socket, acks what it receives. */
class Tail {
  constructor(topic, filter, { onMessages, onState }) {
    Object.assign(this, { topic, filter, onMessages, onState, name: tailName(topic), stopped: false, subscribed: false });
  }

  async start() {
    await post("/v1/subscriptions", {
      name: this.name, topic: this.topic, start: "latest", durable: false, filter: this.filter, ack_deadline_seconds: 60,
    });
    const socket = new WebSocket(socketUrl(), socketProtocols());
    this.socket = socket;
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "subscribe", subscription: this.name, batch: true })));
    socket.addEventListener("message", (event) => this.frame(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => this.closed(event));
  }

  frame(frame) {
    if (frame.type === "subscribed") {
      this.subscribed = true;
      this.onState("following");
    } else if (frame.type === "messages" || frame.type === "message") {
      const messages = frame.type === "messages" ? frame.messages : [frame];
      // Acked at once: the tail shows messages, it does not process them.
      this.socket.send(JSON.stringify({ type: "ack", subscription: this.name, ack_ids: messages.map((m) => m.ack_id) }));
      this.onMessages(messages);
    } else if (frame.type === "error") {
      this.onState("error", frame.message);
    }
  }

  closed(event) {
    if (!this.subscribed) this.forget();
    if (!this.stopped) this.onState("closed", event.code === 1001 ? "the broker is shutting down" : `the connection closed (${event.code})`);
  }

  /** A subscription that no socket ever joined is not deleted by the broker: delete it. */
  forget() {
    del(`/v1/subscriptions/${seg(this.name)}`).catch(() => {});
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000, "tail stopped");
    else this.forget();
  }
}

export async function renderTail(main, ctx, initialTopic) {
  ctx.title(initialTopic ? `Live tail of ${initialTopic}` : "Live tail");
  const { topics } = await get("/v1/topics", { signal: ctx.signal });
  const followable = topics.map((t) => t.name).filter((n) => may("subscribe", n) && may("admin", tailName(n)));
  const topicInput = h("input", { name: "topic", list: "tail-topics", autocomplete: "off", required: true, value: initialTopic || "" });
  const filterInput = h("input", { name: "filter", autocomplete: "off", placeholder: 'attributes.type = "created"' });
  const follow = h("button", { type: "submit", class: "primary" }, "Follow");
  const stop = h("button", { type: "button", disabled: true }, "Stop");
  const pause = h("button", { type: "button", "aria-pressed": "false", disabled: true }, "Pause");
  const clear = h("button", { type: "button" }, "Clear");
  const status = h("p", { class: "tail-status", role: "status" }, "Not following.");
  const detail = h("div", { class: "detail" }, h("p", { class: "muted" }, "Choose a message to see it in full."));
  const list = new VirtualList({
    label: "Received messages, newest first", key: (m) => `${m.id}/${m.received}`,
    columns: [{ title: "Received", width: "6.5rem" }, { title: "ID", width: "minmax(6rem, 9rem)" },
      { title: "Key", width: "minmax(4rem, 8rem)" }, { title: "Attributes", width: "minmax(6rem, 14rem)" }, { title: "Data", width: "minmax(10rem, 1fr)" }],
    cells: (m) => [fmt.time(new Date(m.received).toISOString()).slice(11), m.id, m.key ?? "—",
      Object.entries(m.attributes).map(([k, v]) => `${k}=${v}`).join(" "), fmt.preview(m)],
    onOpen: (m) => replace(detail, messageDetail(m, { extra: [["Received", fmt.time(new Date(m.received).toISOString())], ["Delivery attempt", String(m.delivery_attempt)]] })),
    empty: "Messages published to the topic from now on appear here.",
  });
  const form = h("form", { class: "tail-form", "aria-label": "Follow a topic" },
    field("Topic", topicInput), h("datalist", { id: "tail-topics" }, followable.map((n) => h("option", { value: n }))),
    field("Filter", filterInput, "The filter language of subscriptions; empty follows every message."),
    h("div", { class: "actions" }, follow, stop, pause, clear));
  let tail = null;
  let shown = [];
  let waiting = [];
  let received = 0;
  let paused = false;
  let drawTimer = 0;
  const describe = (state) => {
    const what = tail ? `${tail.topic}${tail.filter ? ` (filter: ${tail.filter})` : ""} through ${tail.name}, non-durable` : "";
    const counts = `${fmt.count(received)} received${paused ? `; paused, ${fmt.count(waiting.length)} new waiting` : ""}`;
    replace(status, state === "following" ? `Following ${what}: ${counts}.` : state);
  };
  const draw = () => {
    drawTimer = 0;
    if (!paused && waiting.length) {
      shown = waiting.reverse().concat(shown).slice(0, KEEP);
      waiting = [];
    }
    list.setItems(shown);
    if (tail && tail.subscribed) describe("following");
  };
  const onMessages = (messages) => {
    const now = Date.now();
    received += messages.length;
    for (const m of messages) waiting.push({ ...m, received: now });
    if (waiting.length > KEEP) waiting.splice(0, waiting.length - KEEP);
    if (!drawTimer) drawTimer = setTimeout(draw, DRAW_MS);
  };
  const end = (message) => {
    if (tail) tail.stop();
    tail = null;
    stop.disabled = pause.disabled = true;
    if (message) describe(message);
  };
  const onState = (state, reason) => {
    if (state === "following") describe("following");
    else end(state === "error" ? `Stopped: ${reason}` : `Stopped: ${reason}.`);
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const topic = topicInput.value.trim();
    end();
    if (!followable.includes(topic)) {
      describe(topics.some((t) => t.name === topic) ? `Your token may not follow ${topic} (it needs subscribe on it and admin on ${topic}.tail-…).` : `There is no topic ${topic}.`);
      return;
    }
    history.replaceState(null, "", `#/tail/${seg(topic)}`);
    ctx.title(`Live tail of ${topic}`);
    const starting = new Tail(topic, filterInput.value.trim(), { onMessages, onState });
    tail = starting;
    describe(`Starting to follow ${topic}…`);
    follow.disabled = true;
    try {
      await starting.start();
      stop.disabled = pause.disabled = false;
    } catch (error) {
      if (tail === starting) tail = null;
      describe(`Could not follow ${topic}: ${error.message}`);
    } finally {
      follow.disabled = false;
    }
  });
  stop.addEventListener("click", () => end("Stopped."));
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Resume" : "Pause";
    draw();
  });
  clear.addEventListener("click", () => { shown = []; waiting = []; received = 0; draw(); });
  ctx.onDispose(() => { clearTimeout(drawTimer); end(); });
  main.append(
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Live tail")),
    ctx.banner, section("Follow a topic", form, status),
    section("Received messages", h("div", { class: "split" }, list.el, detail)));
  // A topic in the address is followed at once (or told why it cannot be).
  if (initialTopic) form.requestSubmit();
  else if (!followable.length) describe("Your token may not follow any topic.");
}
