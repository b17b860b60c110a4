// A delegate's discussion groups: a card listing one's groups (status, countdown, unread)
// and a side panel with the discussion, the convener's notes and the conclusions.
// Messages go through an outbox kept in localStorage with a stable key, so a message typed
// during a Wi-Fi drop is sent once when the network is back. A message travels on the open
// live socket ({"type": "post", "id": key}); without a socket or an ack in time, by HTTP with
// the same key as Idempotency-Key — the server posts it once either way.
import { ApiError, api, serverNow } from "./api.js";
import { el, errorText, fill, formatDuration, formatTime, personName, run, toast } from "./app.js";
import "./groups_i18n.js";
import { t } from "./i18n.js";
import { Live } from "./live.js";

const OUTBOX = "phs.group-outbox";
let hooks = { currentPage: () => null, openPage: () => {} };
let latest = null;
let openId = null;
let tab = "chat";
let attach = null; // {doc, page} to send with the next message
let panel = null; // {gid, lang, nodes...} — built once per opened group so typing survives updates
const seen = new Map(JSON.parse(sessionStorage.getItem("phs.group-seen") || "[]"));
// Every message a tablet has of each group, by id. The live section carries only the
// newest few (so a post costs little to send to fifty members); they are merged here, and
// when the count says some are missing (joined late, or updates coalesced while away)
// the whole list is read once from the box.
const history = new Map(); // group id -> Map(message id -> message)
const fetching = new Set();

function mergeMessages(gid, messages) {
  const known = history.get(gid) || new Map();
  for (const m of messages || []) known.set(m.id, m);
  history.set(gid, known);
  return known;
}

function messagesOf(g) {
  const known = mergeMessages(g.id, g.messages);
  if (known.size < (g.message_count || 0) && !fetching.has(g.id)) {
    fetching.add(g.id);
    api("GET", `/api/groups/${encodeURIComponent(g.id)}/messages`)
      .then((body) => { mergeMessages(g.id, body.messages); renderPanel(); })
      .catch(() => {})
      .finally(() => fetching.delete(g.id));
  }
  return [...known.values()].sort((a, b) => (a.at - b.at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function outbox() {
  try {
    return JSON.parse(localStorage.getItem(OUTBOX) || "[]");
  } catch {
    return [];
  }
}
function saveOutbox(items) {
  localStorage.setItem(OUTBOX, JSON.stringify(items));
}
function newKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return "msg-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Post one outbox item: on the live socket when it is up, else (or with no ack) by HTTP. */
async function postItem(item) {
  if (Live.current) {
    let ack = null;
    try {
      ack = await Live.current.ask({ type: "post", id: item.key, group_id: item.group, text: item.text, ref: item.ref });
    } catch {
      ack = null; // no socket or no answer in time: HTTP below, same key
    }
    if (ack?.ok) return;
    if (ack) throw new ApiError(409, { code: ack.code, message: ack.message, message_en: ack.message_en });
  }
  await api("POST", `/api/groups/${encodeURIComponent(item.group)}/messages`, { text: item.text, ref: item.ref }, item.key);
}

let flushing = false;
/** Send what waits in the outbox, oldest first; network failures stay queued. */
export async function flushOutbox() {
  if (flushing || !navigator.onLine) return; // offline: the outbox keeps the order for later
  flushing = true;
  try {
    for (const item of outbox()) {
      try {
        await postItem(item);
      } catch (err) {
        if (err instanceof ApiError && err.code === "network") break; // still offline: keep order
        toast(errorText(err));
      }
      saveOutbox(outbox().filter((x) => x.key !== item.key));
    }
  } finally {
    flushing = false;
    if (latest) renderPanel();
  }
}
setInterval(() => outbox().length && flushOutbox(), 2500);
window.addEventListener("online", () => outbox().length && flushOutbox());

function send(gid, text) {
  const item = { key: newKey(), group: gid, text, ref: attach, at: Date.now() / 1000 };
  saveOutbox([...outbox(), item]);
  attach = null;
  renderPanel();
  flushOutbox();
}

function statusOf(g) {
  if (g.status !== "open") return { key: "closed", text: t("group_closed") };
  if (g.closes_at && serverNow() >= g.closes_at) return { key: "time_up", text: t("group_time_up") };
  return { key: "open", text: t("group_open") };
}

function countdown(g) {
  if (g.status !== "open" || !g.closes_at) return null;
  return el("span", { class: "group-countdown", "data-closes": String(g.closes_at), text: formatDuration(g.closes_at - serverNow()) });
}

function docTitle(doc) {
  return latest?.state?.documents?.[doc]?.title || doc;
}

function messageNode(m, me, pending = false) {
  const mine = m.author === me;
  return el("li", { class: `group-msg${mine ? " mine" : ""}${pending ? " pending" : ""}`, "data-testid": pending ? "group-pending" : "group-message" },
    el("div", { class: "group-msg-head" },
      el("span", { class: "group-msg-author", text: personName(latest.state, m.author) }),
      el("span", { class: "muted", text: pending ? t("group_pending") : formatTime(m.at) })),
    el("div", { class: "group-msg-text", text: m.text }),
    m.ref ? el("button", { type: "button", class: "group-ref", "data-note": m.ref.note || null,
      text: `${m.ref.note ? "✎" : "▸"} ${t(m.ref.note ? "group_ref_note" : "group_ref", { title: docTitle(m.ref.doc), page: m.ref.page })}`,
      onclick: () => hooks.openPage(m.ref.doc, m.ref.page) }) : null);
}

function buildPanel(g) {
  const list = el("ol", { class: "group-messages", "data-testid": "group-messages" });
  const input = el("textarea", { class: "group-input", rows: "2", "data-testid": "group-input", placeholder: t("group_write"), "aria-label": t("group_write") });
  const attachBtn = el("button", { type: "button", class: "btn group-attach", text: `+ ${t("group_attach_page")}` });
  const sendBtn = el("button", { type: "submit", class: "btn primary", "data-testid": "group-send", text: t("group_send") });
  const form = el("form", { class: "group-compose" }, input, el("div", { class: "group-compose-row" }, attachBtn, el("span", { class: "group-attached muted" }), sendBtn));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(g.id, text);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  attachBtn.addEventListener("click", () => {
    attach = attach ? null : hooks.currentPage();
    renderPanel();
  });
  const notes = el("div", { class: "group-notes" });
  const conclusions = el("div", { class: "group-conclusions" });
  const tabs = el("div", { class: "group-tabs", role: "tablist" });
  const head = el("div", { class: "group-panel-head" });
  const body = el("div", { class: "group-panel-body" });
  const root = el("aside", { class: "group-panel", "data-testid": "group-panel", "aria-label": t("groups") }, head, tabs, body);
  return { gid: g.id, root, head, tabs, body, list, form, input, attachBtn, notes, conclusions, listKey: "", notesKey: "", conclKey: "" };
}

function renderNotes(g, me) {
  const key = JSON.stringify([g.notes, g.comments, g.convener, g.status]);
  if (key === panel.notesKey) return;
  panel.notesKey = key;
  const convener = g.convener === me;
  const parts = [];
  if (convener) {
    const area = el("textarea", { class: "group-notes-edit", rows: "8", "data-testid": "group-notes-edit" });
    area.value = g.notes || "";
    parts.push(area, el("button", { type: "button", class: "btn primary", text: t("group_notes_save"),
      onclick: (e) => run(e.currentTarget, async () => {
        await api("POST", `/api/groups/${encodeURIComponent(g.id)}/notes`, { text: area.value });
        toast(t("group_notes_saved"), "ok");
      }) }));
  } else {
    parts.push(el("div", { class: "group-notes-text", text: g.notes || t("group_notes_empty") }));
  }
  parts.push(el("ul", { class: "group-comments" }, (g.comments || []).map((c) =>
    el("li", {}, el("b", { text: `${personName(latest.state, c.author)}: ` }), c.text))));
  const box = el("input", { type: "text", class: "group-comment-input", placeholder: t("group_comment") });
  parts.push(el("form", { class: "group-compose-row", onsubmit: (ev) => {
    ev.preventDefault();
    const text = box.value.trim();
    if (text) run(ev.submitter, () => api("POST", `/api/groups/${encodeURIComponent(g.id)}/comments`, { text }).then(() => { box.value = ""; }));
  } }, box, el("button", { type: "submit", class: "btn", text: t("group_comment_send") })));
  fill(panel.notes, parts);
}

function renderConclusions(g, me) {
  const key = JSON.stringify([g.conclusions, g.convener]);
  if (key === panel.conclKey) return;
  panel.conclKey = key;
  const parts = [el("div", { class: "group-notes-text", "data-testid": "group-conclusions", text: g.conclusions || t("group_conclusions_none") })];
  if (g.convener === me) {
    const area = el("textarea", { rows: "6", class: "group-notes-edit", placeholder: t("group_conclusions_write") });
    area.value = g.conclusions || "";
    parts.push(area, el("button", { type: "button", class: "btn primary", text: t("group_conclusions_submit"),
      onclick: (e) => run(e.currentTarget, async () => {
        await api("POST", `/api/groups/${encodeURIComponent(g.id)}/conclusions`, { text: area.value });
        toast(t("group_conclusions_sent"), "ok");
      }) }));
  }
  fill(panel.conclusions, parts);
}

/** The group's own documents (access "group:<id>": only members receive them). */
function groupDocs(g) {
  const docs = Object.values(latest?.state?.documents || {}).filter((d) => d.access === `group:${g.id}`);
  return el("div", { class: "group-docs", "data-testid": "group-docs" },
    docs.length
      ? el("ul", { class: "group-comments" }, docs.map((d) => el("li", {},
          el("button", { type: "button", class: "group-ref", text: `▸ ${d.title} · ${t("group_doc_pages", { n: d.pages })}`,
            onclick: () => hooks.openPage(d.id, 1) }))))
      : el("p", { class: "muted", text: t("group_docs_none") }));
}

function renderPanel() {
  const host = document.querySelector("#group-panel-host");
  const g = (latest?.state?.groups?.groups || []).find((x) => x.id === openId && x.member);
  if (!host) return;
  if (!g) {
    host.hidden = true;
    fill(host);
    panel = null;
    return;
  }
  const me = latest.me.participant?.id;
  if (!panel || panel.gid !== g.id || panel.lang !== t("group_send")) {
    panel = buildPanel(g);
    panel.lang = t("group_send");
    fill(host, panel.root);
  }
  host.hidden = false;
  const st = statusOf(g);
  fill(panel.head,
    el("div", {},
      el("h2", { text: g.name }),
      el("div", { class: "muted" }, t("group_members", { n: g.members.length }), " · ",
        g.convener === me ? t("group_you_convene") : `${t("group_convener")}: ${personName(latest.state, g.convener)}`)),
    el("div", { class: "group-head-right" },
      el("span", { class: `group-status group-${st.key}`, text: st.text }), countdown(g),
      el("button", { type: "button", class: "btn", "aria-label": t("group_close_panel"), text: "✕", onclick: () => { openId = null; renderPanel(); } })));
  fill(panel.tabs, ["chat", "notes", "docs", "conclusions"].map((name) =>
    el("button", { type: "button", role: "tab", class: `group-tab${tab === name ? " active" : ""}`, "aria-selected": String(tab === name),
      text: name === "chat" ? `${t("group_tab_chat")} (${g.message_count ?? 0})` : t(`group_tab_${name}`),
      onclick: () => { tab = name; renderPanel(); } })));
  const pending = outbox().filter((x) => x.group === g.id);
  const all = messagesOf(g);
  const listKey = JSON.stringify([g.message_count, all.length, pending.map((p) => p.key), all.at(-1)?.id]);
  if (listKey !== panel.listKey) {
    panel.listKey = listKey;
    const items = all.map((m) => messageNode(m, me));
    for (const p of pending) items.push(messageNode({ author: me, text: p.text, ref: p.ref, at: p.at }, me, true));
    fill(panel.list, items.length ? items : el("li", { class: "muted group-empty", text: t("group_no_messages") }));
    panel.list.scrollTop = panel.list.scrollHeight;
  }
  const writable = st.key === "open";
  panel.input.disabled = !writable;
  panel.form.querySelector("[type=submit]").disabled = !writable;
  panel.attachBtn.disabled = !writable || !hooks.currentPage();
  panel.attachBtn.classList.toggle("active", Boolean(attach));
  panel.form.querySelector(".group-attached").textContent = attach ? t("group_attached", { title: docTitle(attach.doc), page: attach.page }) : "";
  const closedNote = writable ? null : el("p", { class: "group-closed-note", text: t("group_closed_note") });
  seen.set(g.id, g.message_count || 0);
  sessionStorage.setItem("phs.group-seen", JSON.stringify([...seen]));
  if (tab === "chat") {
    if (panel.body.firstChild !== panel.list || panel.body.children.length !== (closedNote ? 3 : 2)) fill(panel.body, panel.list, closedNote, panel.form);
  } else if (tab === "notes") {
    renderNotes(g, me);
    if (panel.body.firstChild !== panel.notes) fill(panel.body, panel.notes);
  } else if (tab === "docs") {
    fill(panel.body, groupDocs(g));
  } else {
    renderConclusions(g, me);
    if (panel.body.firstChild !== panel.conclusions) fill(panel.body, panel.conclusions);
  }
}

function renderCard(state) {
  const card = document.querySelector("#groups-card");
  if (!card) return;
  const mine = (state.groups?.groups || []).filter((g) => g.member);
  card.hidden = !mine.length;
  fill(card, el("h2", { text: t("groups") }), mine.map((g) => {
    const st = statusOf(g);
    const unread = Math.max(0, (g.message_count || 0) - (seen.get(g.id) ?? 0));
    return el("div", { class: "group-row" },
      el("div", { class: "group-row-main" },
        el("div", { class: "group-row-name", text: g.name }),
        el("div", { class: "group-row-meta" },
          el("span", { class: `group-status group-${st.key}`, text: st.text }), countdown(g),
          unread && g.id !== openId ? el("span", { class: "group-unread", text: t("group_unread", { n: unread }) }) : null)),
      el("button", { type: "button", class: `btn${g.id === openId ? "" : " primary"}`, "data-testid": `open-group-${g.id}`, text: t("group_open_btn"),
        onclick: () => { openId = g.id; tab = "chat"; renderPanel(); renderCard(latest.state); } }));
  }));
}

/** Call on every render of the delegate's screen. */
export function renderGroups(state, me, options = {}) {
  hooks = { ...hooks, ...options };
  latest = { state, me };
  renderCard(state);
  renderPanel();
}

setInterval(() => {
  for (const node of document.querySelectorAll(".group-countdown[data-closes]"))
    node.textContent = formatDuration(Number(node.dataset.closes) - serverNow());
}, 1000);
