// The console's entry point: sign in when the broker asks for a token, then show the page
// the URL's fragment names (#/, #/topics/NAME, #/subscriptions/NAME, #/tail/NAME).

import { clearToken, get, setToken, token } from "./api.js";
import { current, identify } from "./auth.js";
import { h, replace, field } from "./dom.js";
import { renderOverview } from "./overview.js";
import { PageContext } from "./page.js";
import { renderSubscription } from "./subscription.js";
import { renderTail } from "./tail.js";
import { renderTopic } from "./topic.js";

const HEALTH_MS = 10000;
const main = document.getElementById("main");
const ROUTES = [
  [/^#?\/?$/, renderOverview],
  [/^#\/topics\/([^/]+)$/, renderTopic],
  [/^#\/subscriptions\/([^/]+)$/, renderSubscription],
  [/^#\/tail(?:\/([^/]+))?$/, renderTail],
];
let page = null;

async function show() {
  if (page) page.dispose();
  page = new PageContext(main);
  const context = page;
  main.replaceChildren();
  const hash = location.hash || "#/";
  for (const link of document.querySelectorAll("nav a")) {
    const here = link.getAttribute("href") === "#/" ? hash === "#/" : hash.startsWith(link.getAttribute("href"));
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const route = ROUTES.find(([pattern]) => pattern.test(hash));
  if (!route) {
    context.title("Not found");
    main.append(h("h1", { tabindex: "-1" }, "No such page"), h("p", {}, h("a", { href: "#/" }, "Go to the overview")));
    return;
  }
  const params = hash.match(route[0]).slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p)));
  try {
    await route[1](main, context, ...params);
  } catch (error) {
    if (context.disposed || error.name === "AbortError" || error.status === 401) return;
    main.replaceChildren(h("h1", { tabindex: "-1" }, error.status === 404 ? "Not found" : "Something went wrong"),
      h("p", { role: "alert" }, error.message), h("p", {}, h("a", { href: "#/" }, "Go to the overview")));
  }
  const heading = main.querySelector("h1");
  if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
}

function showIdentity() {
  const who = current();
  const box = document.getElementById("identity");
  if (!who.authentication) {
    replace(box, h("span", { class: "muted" }, "Auth off"));
    return;
  }
  const out = h("button", { type: "button", class: "plain" }, "Sign out");
  out.addEventListener("click", () => {
    clearToken();
    location.reload();
  });
  replace(box, h("span", {}, "Token: ", h("strong", {}, who.name)), " ", out);
}

async function health() {
  const box = document.getElementById("health");
  let state = "ready";
  try {
    await get("/readyz");
  } catch (error) {
    // A proxy may keep /readyz to itself (404, 403): the broker still answered.
    state = { 503: "storage-unavailable", 0: "unreachable" }[error.status] || "answering";
  }
  const words = {
    ready: "Ready", "storage-unavailable": "Storage unavailable", unreachable: "Unreachable",
    answering: "Answering",
  };
  if (box.dataset.state !== state) {
    box.dataset.state = state;
    replace(box, h("span", { class: "dot", "aria-hidden": "true" }), `Broker: ${words[state]}`);
  }
}

/** The sign-in form; resolves once a valid token is kept. */
function signIn(reason) {
  if (page) page.dispose();
  page = null;
  document.title = "Sign in · PubSubGo console";
  return new Promise((resolve) => {
    const input = h("input", { type: "password", name: "token", autocomplete: "off", required: true, spellcheck: "false" });
    const error = h("p", { class: "form-error", role: "alert", hidden: !reason }, reason || "");
    const form = h("form", { class: "card sign-in", "aria-labelledby": "sign-in-title" },
      h("h1", { id: "sign-in-title", tabindex: "-1" }, "Sign in"),
      h("p", {}, "This broker asks for a bearer token. It is kept in this tab only (session storage) and sent with every request."),
      error, field("Token", input), h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await identify(input.value.trim());
        setToken(input.value.trim());
        resolve();
      } catch (failure) {
        replace(error, failure.status === 401 ? "That token is not valid." : failure.message);
        error.hidden = false;
        input.focus();
      }
    });
    main.replaceChildren(form);
    input.focus();
  });
}

async function start() {
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  health();
  setInterval(health, HEALTH_MS);
  try {
    await identify();
  } catch (error) {
    if (error.status !== 401) throw error;
    if (token()) clearToken();
    await signIn();
  }
  showIdentity();
  window.addEventListener("pubsubgo:unauthenticated", async () => {
    clearToken();
    await signIn("The token is no longer valid; sign in again.");
    showIdentity();
    show();
  });
  window.addEventListener("hashchange", show);
  await show();
}

start().catch((error) => {
  main.replaceChildren(h("h1", {}, "The console could not start"), h("p", { role: "alert" }, error.message));
});
