// The war room's little bit of behaviour: live refresh, decisions, chat.
// Everything shown comes from the server already escaped, or goes in through textContent.
"use strict";

const NAME_KEY = "triage.me";

// The page's language: the server puts its words for this script on <body data-words>.
function word(key) {
  const words = JSON.parse(document.body.dataset.words || "{}");
  return words[key] || key;
}

function me() {
  const field = document.getElementById("me");
  const name = field ? field.value.trim() : "";
  if (!name && field) {
    field.focus();
    field.classList.add("missing");
  }
  return name;
}

function say(text, isError) {
  let box = document.getElementById("flash");
  if (!box) {
    box = document.createElement("div");
    box.id = "flash";
    document.body.prepend(box);
  }
  box.textContent = text;
  box.className = isError ? "flash error" : "flash";
}

async function post(url, body) {
  const reply = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) {
    throw new Error(data.detail || `${reply.status} ${reply.statusText}`);
  }
  return data;
}

function editing(live) {
  const active = document.activeElement;
  if (active && live.contains(active) && active.matches("textarea, input, select")) {
    return true;
  }
  return live.querySelector("[data-dirty]") !== null;
}

async function refresh() {
  const live = document.getElementById("live");
  if (!live) return;
  const reply = await fetch(live.dataset.partial, { credentials: "same-origin" });
  if (reply.ok) {
    live.innerHTML = await reply.text();
    const stale = document.getElementById("stale");
    if (stale) stale.hidden = true;
  }
}

function listen() {
  const live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  const events = new EventSource(live.dataset.events);
  events.addEventListener("changed", (event) => {
    if (event.data === live.dataset.stamp) return;  // the page already shows this
    live.dataset.stamp = event.data;
    if (editing(live)) {
      const stale = document.getElementById("stale");
      if (stale) stale.hidden = false;
    } else {
      refresh();
    }
  });
}

function bodyFor(button) {
  const action = button.dataset.action;
  if (action === "retry") return {};  // queues the alert again; nobody decides anything
  const draft = button.closest("[data-draft]");
  const by = me();
  if (!by) return null;
  const language = button.dataset.language;
  if (language) return { by, language };  // a postmortem in this language
  if (!draft) return { by };  // a stage change: acknowledge, mitigate
  const select = draft.querySelector("select.role");
  const role = select ? select.value : null;
  // The revision this page shows: a draft redrafted since is refused, never decided unseen.
  const revision = Number(draft.dataset.revision) || null;
  if (action === "edit") return { by, role, revision, body: draft.querySelector("textarea").value };
  if (action === "reject") {
    const reason = draft.querySelector("input.reason").value.trim();
    if (!reason) { say(word("reason"), true); return null; }
    return { by, reason, revision };
  }
  return { by, role, revision };
}

async function act(button) {
  const body = bodyFor(button);
  if (!body) return;
  button.disabled = true;
  try {
    const result = await post(button.dataset.url, body);
    const state = result.draft ? `${result.draft.id}: ${word(result.draft.state)}`
      : result.markdown ? `${result.id}: ${word(result.state)}`
      : result.state ? `inbox #${result.id}: ${result.state}` : word("done");
    say(state, false);
    await refresh();
  } catch (error) {
    say(error.message, true);
    button.disabled = false;
  }
}

// A form this script sends (resolve, hand over command): its fields, signed by whoever is here.
async function send(form) {
  const by = me();
  if (!by) return;
  const fields = Object.fromEntries(new FormData(form).entries());
  if (!fields.change_id) delete fields.change_id;
  try {
    await post(form.dataset.url, { by, ...fields });
    say(word(form.dataset.action === "resolve" ? "resolved" : "command"), false);
    await refresh();
  } catch (error) {
    say(error.message, true);
  }
}

function chatLine(who, text, citations) {
  const log = document.getElementById("chat-log");
  const item = document.createElement("div");
  item.className = "chat-line";
  const head = document.createElement("strong");
  head.textContent = `${who}: `;
  const body = document.createElement("pre");
  body.textContent = text;
  item.append(head, body);
  if (citations && citations.length) {
    const cites = document.createElement("div");
    cites.className = "cites";
    cites.textContent = `${word("cites")}: ${citations.join(", ")}`;
    item.append(cites);
  }
  log.prepend(item);
}

async function chat(form) {
  const box = form.closest("[data-incident]");
  const input = document.getElementById("chat-text");
  const text = input.value.trim();
  const author = me();
  if (!text || !author) return;
  chatLine(author, text);
  input.value = "";
  try {
    const reply = await post(`/v1/incidents/${box.dataset.incident}/chat`, { author, text });
    const by = reply.fallback_reason ? `${word("fallback")}: ${reply.fallback_reason}` : word(reply.engine);
    chatLine(`${word("agent")} (${by})`, reply.answer, reply.citations);
    await refresh();
  } catch (error) {
    say(error.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const field = document.getElementById("me");
  if (field) {
    field.value = localStorage.getItem(NAME_KEY) || "";
    field.addEventListener("input", () => {
      localStorage.setItem(NAME_KEY, field.value.trim());
      field.classList.remove("missing");
    });
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) { event.preventDefault(); act(button); }
    if (event.target.closest("[data-refresh]")) refresh();
  });
  document.addEventListener("input", (event) => {
    if (event.target.matches("#live textarea")) event.target.setAttribute("data-dirty", "");
  });
  document.addEventListener("submit", (event) => {
    // Only the forms this script sends itself; any other (sign in, sign out) submits as usual.
    const form = event.target;
    if (["resolve", "command"].includes(form.dataset.action)) { event.preventDefault(); send(form); }
    if (form.id === "chat-form") { event.preventDefault(); chat(form); }
  });
  listen();
});
