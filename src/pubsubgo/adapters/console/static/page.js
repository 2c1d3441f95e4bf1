// What a page owns while it is shown: its timers and requests, ended when it is left.

import { h, replace } from "./dom.js";

export class PageContext {
  constructor(main) {
    this.main = main;
    this.controller = new AbortController();
    this.cleanups = [];
    this.banner = h("div", { class: "banner", role: "alert", hidden: true });
  }

  /** Aborted when the page is left: pass it to every request of the page. */
  get signal() {
    return this.controller.signal;
  }

  get disposed() {
    return this.controller.signal.aborted;
  }

  /** Set the document's title. */
  title(text) {
    document.title = `${text} · PubSubGo console`;
  }

  /**
   * Run `task` now and then every `ms` milliseconds while the page is shown (skipped while
   * the tab is hidden, and never two at once). A failure shows in the page's banner until a
   * later run succeeds.
   */
  every(ms, task) {
    let running = false;
    const run = async () => {
      if (running || this.disposed || document.hidden) return;
      running = true;
      try {
        await task();
        this.clearProblem();
      } catch (error) {
        this.problem(error);
      } finally {
        running = false;
      }
    };
    const timer = setInterval(run, ms);
    this.onDispose(() => clearInterval(timer));
    return run();
  }

  /** Show what went wrong (aborted requests of a page being left are not problems). */
  problem(error) {
    if (this.disposed || error.name === "AbortError") return;
    if (error.status === 401) return; // the sign-in form takes over
    replace(this.banner, `Could not refresh: ${error.message}`);
    this.banner.hidden = false;
  }

  clearProblem() {
    this.banner.hidden = true;
  }

  onDispose(cleanup) {
    this.cleanups.push(cleanup);
  }

  dispose() {
    this.controller.abort();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }
}

/** Run an async action of a button; errors go to `onError` (default: a toast). */
export async function act(button, action, onError) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } catch (error) {
    if (error.name !== "AbortError") (onError || ((e) => notify(e.message, "error")))(error);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** A short message in the live region (read out by screen readers), gone after a while. */
export function notify(text, kind = "info") {
  const region = document.getElementById("toasts");
  const close = h("button", { type: "button", class: "plain", "aria-label": "Dismiss" }, "×");
  const toast = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", {}, text), close);
  close.addEventListener("click", () => toast.remove());
  region.append(toast);
  setTimeout(() => toast.remove(), kind === "error" ? 12000 : 6000);
}
