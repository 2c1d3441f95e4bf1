// A subscription's dead letters: the messages of its dead-letter topic that name it in
// x-original-subscription (and its topic in x-original-topic), found by browsing that
// topic; look at one, redrive or purge all of them or the selected ones.

import { browseAll, post, seg } from "./api.js";
import { may } from "./auth.js";
import { confirmDialog } from "./dialog.js";
import { h, replace } from "./dom.js";
import * as fmt from "./format.js";
import { messageDetail } from "./message.js";
import { act, notify } from "./page.js";
import { VirtualList } from "./vlist.js";

/** The most dead-letter-topic messages read to list one subscription's dead letters. */
const SCAN_LIMIT = 100_000;
/** The most ids the broker takes in one redrive or purge. */
const BATCH = 1000;

const COLUMNS = [
  { title: "Dead letter", width: "5.5rem" }, { title: "Reason", width: "minmax(14rem, 1.4fr)" },
  { title: "Attempts", width: "4.5rem" }, { title: "Dead-lettered", width: "11.5rem" },
  { title: "Data", width: "minmax(6rem, 1fr)" },
];

const attr = (m, name) => m.attributes[name] ?? "—";

function detailOf(m) {
  return messageDetail(m, {
    title: `Dead letter ${m.id}`,
    extra: [["Reason", attr(m, "x-dead-letter-reason")], ["Attempts", attr(m, "x-delivery-attempts")],
      ["Original message", `${attr(m, "x-original-topic")} ${attr(m, "x-original-id")}`]],
  });
}

/** The dead-letter section of a subscription page. */
export function deadLetters(sub, ctx, onChange) {
  const dlq = sub.dead_letter_topic;
  const admin = may("admin", sub.name);
  const readable = may("subscribe", dlq);
  const status = h("p", { role: "status" });
  const detail = h("div", { class: "detail" }, h("p", { class: "muted" }, "Choose a dead letter to see it in full."));
  const buttons = {
    redriveSelected: h("button", { type: "button", class: "primary" }, "Redrive selected"),
    purgeSelected: h("button", { type: "button", class: "danger" }, "Purge selected"),
    redriveAll: h("button", { type: "button" }, "Redrive all"),
    purgeAll: h("button", { type: "button", class: "danger" }, "Purge all"),
    reload: h("button", { type: "button" }, "Reload"),
  };
  const list = new VirtualList({
    label: `Dead letters of ${sub.name}`, columns: COLUMNS, selectable: admin, key: (m) => m.id,
    cells: (m) => [m.id, attr(m, "x-dead-letter-reason"), attr(m, "x-delivery-attempts"), fmt.time(m.published_at), fmt.preview(m)],
    onOpen: (m) => replace(detail, detailOf(m)), onSelect: () => selectionChanged(),
    empty: "No dead letters.",
  });
  function selectionChanged() {
    const n = list.selected.size;
    buttons.redriveSelected.textContent = `Redrive selected (${fmt.count(n)})`;
    buttons.purgeSelected.textContent = `Purge selected (${fmt.count(n)})`;
    buttons.redriveSelected.disabled = buttons.purgeSelected.disabled = n === 0;
    buttons.redriveAll.disabled = buttons.purgeAll.disabled = readable && list.items.length === 0;
  }
  async function reload() {
    let read = 0;
    const found = [];
    replace(status, "Reading the dead-letter topic…");
    await browseAll(dlq, (page) => {
      read += page.length;
      for (const m of page) {
        if (m.attributes["x-original-subscription"] === sub.name && m.attributes["x-original-topic"] === sub.topic) found.push(m);
      }
    }, { signal: ctx.signal, stop: () => read >= SCAN_LIMIT });
    list.setItems(found);
    const more = read >= SCAN_LIMIT ? ` (the first ${fmt.count(SCAN_LIMIT)} messages of ${dlq} read)` : "";
    replace(status, `${fmt.count(found.length)} dead letter${found.length === 1 ? "" : "s"} in ${dlq}${more}.`);
    selectionChanged();
  }
  async function apply(verb, ids) {
    const path = verb === "redrive" ? `/v1/subscriptions/${seg(sub.name)}/redrive` : `/v1/subscriptions/${seg(sub.name)}/dead-letters/purge`;
    let total = 0;
    if (ids === null) {
      const answer = await post(path, {});
      total = verb === "redrive" ? answer.moved : answer.purged;
    } else {
      for (let i = 0; i < ids.length; i += BATCH) {
        const answer = await post(path, { ids: ids.slice(i, i + BATCH) });
        total += verb === "redrive" ? answer.moved : answer.purged;
      }
    }
    notify(verb === "redrive" ? `${fmt.count(total)} dead letter(s) moved back to ${sub.name}.` : `${fmt.count(total)} dead letter(s) purged.`);
    list.clearSelection();
    if (readable) await reload();
    onChange();
  }
  const selectedIds = () => list.selectedItems().map((m) => m.id);
  buttons.redriveSelected.addEventListener("click", () => act(buttons.redriveSelected, () => apply("redrive", selectedIds())));
  buttons.redriveAll.addEventListener("click", () => act(buttons.redriveAll, () => apply("redrive", null)));
  buttons.purgeSelected.addEventListener("click", () => act(buttons.purgeSelected, async () => {
    const ids = selectedIds();
    if (await confirmDialog("Purge dead letters?", `Delete ${fmt.count(ids.length)} selected dead letter(s) from ${dlq}? This cannot be undone.`, "Purge")) await apply("purge", ids);
  }));
  buttons.purgeAll.addEventListener("click", () => act(buttons.purgeAll, async () => {
    if (await confirmDialog("Purge all dead letters?", `Delete every dead letter of ${sub.name} from ${dlq}? This cannot be undone.`, "Purge all")) await apply("purge", null);
  }));
  buttons.reload.addEventListener("click", () => act(buttons.reload, reload));
  const toolbar = h("div", { class: "toolbar" }, admin ? [
    readable ? [buttons.redriveSelected, buttons.purgeSelected] : null, buttons.redriveAll, buttons.purgeAll,
  ] : null, readable ? buttons.reload : null);
  selectionChanged();
  if (!readable) {
    replace(status, `Your token may not read ${dlq}, so its dead letters cannot be listed here.`);
    return h("div", {}, status, toolbar);
  }
  reload().catch((e) => ctx.problem(e));
  return h("div", {}, status, toolbar, admin ? h("p", { class: "hint" }, "Space or a click on the box selects; Enter or a click elsewhere opens.") : null,
    h("div", { class: "split" }, list.el, detail));
}
