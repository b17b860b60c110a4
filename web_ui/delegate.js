// A delegate's tablet: agenda, documents of the item, attendance, the floor and voting.
import { post } from "./api.js";
import {
  $, boot, currentItem, el, fill, lastClosedPoll, openPoll, personName, run, sittingStatusLabel,
} from "./app.js";
import { DocViewer } from "./docs.js";
import { myFloorCard } from "./floor.js";
import { renderGroups } from "./groups.js";
import { t } from "./i18n.js";
import { resultCard } from "./result.js";
import { votePanel } from "./vote.js";
import { keepPagesOffline, startOffline, wipeOffline } from "./offline.js";

const viewer = new DocViewer($("#viewer"));
viewer.openElsewhere = (doc, page) => openPage(doc, page); // search hits and "follow me" across items
let browsing = null; // agenda item number picked by the delegate (null = follow the chair)
let lastCurrent = null;
const dismissed = new Set(JSON.parse(sessionStorage.getItem("phs.dismissed") || "[]"));
let latest = null;

function dismiss(pollId) {
  dismissed.add(pollId);
  sessionStorage.setItem("phs.dismissed", JSON.stringify([...dismissed]));
  render(latest.state, latest.me);
}

export function renderHeader(state, me) {
  $("#body-name").textContent = state.body?.name || t("app_name");
  $("#sitting-title").textContent = [state.session?.title, state.sitting?.title].filter(Boolean).join(" · ");
  const badge = $("#sitting-status");
  badge.textContent = sittingStatusLabel(state.sitting);
  badge.dataset.status = state.sitting?.status || "none";
  const reh = $("#rehearsal");
  reh.hidden = !state.session?.rehearsal;
  reh.textContent = t("rehearsal");
  const p = (state.participants || []).find((x) => x.id === me.participant?.id) || me.participant || {};
  $("#me-name").textContent = p.name || "";
  $("#me-seat").textContent = [p.seat ? t("seat", { seat: p.seat }) : "", p.title].filter(Boolean).join(" · ");
  const btn = $("#check-in");
  const present = Boolean(state.me?.present);
  btn.textContent = present ? `✓ ${t("checked_in")}` : t("check_in");
  btn.classList.toggle("done", present);
  // Check-in only counts in an open sitting: before that the button waits, greyed out.
  btn.disabled = present || state.sitting?.status !== "open";
  btn.title = state.sitting?.status === "open" ? "" : t("sitting_not_open_hint");
  btn.hidden = me.role === "guest";
}

function renderAgenda(state) {
  const cur = state.sitting?.current_item;
  const items = state.agenda || [];
  const shown = browsing ?? cur ?? (items.find((it) => (it.documents || []).length)?.n ?? null);
  if (!items.length) {
    fill($("#agenda"), el("li", { class: "muted", text: t("agenda_empty") }));
    return;
  }
  fill(
    $("#agenda"),
    items.map((it) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: `agenda-item${it.n === cur ? " current" : ""}${it.n === shown ? " shown" : ""}`,
            "aria-current": it.n === cur ? "step" : null,
            onclick: () => {
              browsing = it.n === cur ? null : it.n;
              render(latest.state, latest.me);
            },
          },
          el("span", { class: "agenda-n", text: String(it.n) }),
          el("span", { class: "agenda-title", text: it.title }),
          it.n === cur ? el("span", { class: "now-badge", text: t("now_discussing") }) : null,
          (it.documents || []).length ? el("span", { class: "doc-count", text: t("pages_docs", { n: it.documents.length }) }) : null,
        ),
      ),
    ),
  );
}

function renderFloor(state, me) {
  const floor = state.floor || { queue: [], speaking: [] };
  const myId = me.participant?.id;
  const speaking = (floor.speaking || []).some((s) => s.participant_id === myId);
  const idx = (floor.queue || []).findIndex((q) => q.participant_id === myId);
  const box = $("#floor");
  if (me.role === "guest") {
    fill(box);
    $("#floor-card").hidden = true;
    return;
  }
  const parts = [];
  if (speaking) parts.push(el("div", { class: "floor-status speaking", text: t("you_are_speaking") }), myFloorCard(state, myId));
  else if (idx >= 0) parts.push(el("div", { class: "floor-status queued", "data-testid": "queue-position", text: t("queue_position", { n: idx + 1 }) }));
  const actions = el("div", { class: "floor-actions" });
  if (idx >= 0) {
    actions.append(el("button", { type: "button", class: "btn big", text: t("withdraw"),
      onclick: (e) => run(e.currentTarget, () => post("/api/floor/withdraw", {})) }));
  } else if (!speaking) {
    actions.append(
      el("button", { type: "button", class: "btn primary big", text: t("request_speak"),
        onclick: (e) => run(e.currentTarget, () => post("/api/floor/request", { kind: "speak" })) }),
      el("button", { type: "button", class: "btn big", text: t("request_rebuttal"),
        onclick: (e) => run(e.currentTarget, () => post("/api/floor/request", { kind: "rebuttal" })) }),
    );
  }
  parts.push(actions);
  const now = (floor.speaking || []).filter((s) => s.participant_id !== myId);
  if (now.length)
    parts.push(el("div", { class: "muted small-gap", text: `${t("speaking")}: ${now.map((s) => personName(state, s.participant_id)).join(", ")}` }));
  fill(box, parts);
}

function renderDocs(state) {
  const cur = state.sitting?.current_item ?? null;
  if (cur !== lastCurrent) {
    browsing = null; // the chair moved on: follow
    lastCurrent = cur;
  }
  // Before the chair starts an item, show the first one that has documents to read ahead.
  const firstWithDocs = (state.agenda || []).find((it) => (it.documents || []).length)?.n ?? null;
  const shownN = browsing ?? cur ?? firstWithDocs;
  const item = (state.agenda || []).find((it) => it.n === shownN) || null;
  $("#doc-heading").textContent = item ? `${t("item_n", { n: item.n })}: ${item.title}` : t("no_current_item");
  viewer.update(state, item, latest?.me);
}

function renderOverlay(state, me) {
  const overlay = $("#overlay");
  const poll = openPoll(state);
  if (poll) {
    overlay.hidden = false;
    fill(overlay, el("div", { class: "overlay-box" }, votePanel(state, me, poll, () => render(latest.state, latest.me))));
    return;
  }
  const closed = lastClosedPoll(state);
  if (closed && !dismissed.has(closed.id)) {
    overlay.hidden = false;
    fill(
      overlay,
      el("div", { class: "overlay-box" },
        resultCard(state, closed, { perDelegate: closed.method === "public" }),
        el("button", { type: "button", class: "btn big", text: t("close"), onclick: () => dismiss(closed.id) })),
    );
    return;
  }
  overlay.hidden = true;
  fill(overlay);
}

let wiped = false;

/** Pages stay on the tablet while the sitting runs; a closed sitting leaves none behind. */
function keepOrWipe(state) {
  if (state.sitting?.status === "closed") {
    if (!wiped) wipeOffline();
    wiped = true;
    return;
  }
  wiped = false;
  keepPagesOffline(state, navigator.onLine);
}

function render(state, me) {
  latest = { state, me };
  keepOrWipe(state);
  renderHeader(state, me);
  renderAgenda(state);
  renderFloor(state, me);
  renderDocs(state);
  renderOverlay(state, me);
  renderGroups(state, me, { currentPage: () => (viewer.docId ? { doc: viewer.docId, page: viewer.page } : null), openPage });
}

/** A group message points at a page: show that document's item, then the page. */
function openPage(doc, page) {
  const item = (latest.state.agenda || []).find((it) => (it.documents || []).includes(doc));
  if (!item) return;
  browsing = item.n;
  render(latest.state, latest.me);
  viewer.docId = doc;
  viewer.page = Math.max(1, Math.min(viewer.doc()?.pages || 1, page));
  viewer.render();
}

$("#check-in").addEventListener("click", (e) => run(e.currentTarget, () => post("/api/attendance/check-in", {})));

startOffline();
window.addEventListener("online", () => latest && keepPagesOffline(latest.state, true));
boot({ render, allowRoles: ["delegate", "guest", "chair", "vice_chair"] });
