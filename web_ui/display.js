// The hall display (1920×1080, no interaction): the item, speakers with timers, the queue,
// attendance, live vote progress (never partial results) and the result once closed.
import { serverNow } from "./api.js";
import {
  $, boot, currentItem, el, fill, formatDuration, lastClosedPoll, openPoll, personName, sittingStatusLabel,
} from "./app.js";
import { displayView, speakerCards } from "./floor.js";
import { conclusionsStage } from "./groups_chair.js";
import { getLang, t } from "./i18n.js";
import { livePartial, pollKicker, pollProgress, resultCard } from "./result.js";

function renderHeader(state) {
  $("#body-name").textContent = state.body?.name || t("app_name");
  $("#session-line").textContent = [state.session?.title, state.sitting?.title].filter(Boolean).join(" · ");
  const badge = $("#sitting-status");
  badge.textContent = sittingStatusLabel(state.sitting);
  badge.dataset.status = state.sitting?.status || "none";
  $("#rehearsal").hidden = !state.session?.rehearsal;
  $("#rehearsal").textContent = t("rehearsal");
}

function renderItem(state) {
  const item = currentItem(state);
  fill(
    $("#item"),
    item
      ? [el("div", { class: "display-kicker", text: `${t("current_item")} · ${t("item_n", { n: item.n })}` }),
         el("h1", { class: "display-item-title", "data-testid": "current-item", text: item.title })]
      : [el("div", { class: "display-kicker", text: t("current_item") }),
         el("h1", { class: "display-item-title muted", text: state.sitting?.status === "open" ? t("no_current_item") : t("display_waiting") })],
  );
}

function renderStage(state) {
  const poll = openPoll(state);
  const stage = $("#stage");
  const closedNow = lastClosedPoll(state);
  document.body.classList.toggle("stage-busy",
    Boolean(poll || (closedNow && (closedNow.item == null || closedNow.item === state.sitting?.current_item))));
  if (poll) {
    fill(stage,
      el("section", { class: "display-poll", "data-testid": "display-poll" },
        pollKicker(poll),
        el("h2", { class: "display-question", text: poll.question }),
        pollProgress(state, poll),
        livePartial(state, poll))); // partial results only when the chair opened a public vote with them
    return;
  }
  const conclusions = conclusionsStage(state); // the chair presents the groups' conclusions
  if (conclusions) {
    fill(stage, conclusions);
    return;
  }
  const closed = lastClosedPoll(state);
  // A result stays up until the chair moves to another item.
  const cur = state.sitting?.current_item;
  if (closed && (closed.item == null || closed.item === cur)) {
    fill(stage, resultCard(state, closed));
    return;
  }
  // Nothing to vote on: the hall sees the agenda, the current item marked.
  fill(stage, el("div", { class: "display-card" },
    el("h2", { text: t("agenda") }),
    el("ol", { class: "display-agenda" },
      (state.agenda || []).map((it) => el("li", { class: it.n === cur ? "current" : "" },
        el("span", { class: "agenda-n", text: String(it.n) }),
        el("span", { text: it.title }))))));
}

function renderSpeakers(state) {
  fill($("#speakers"), el("h2", { text: t("speaking") }), speakerCards(state));
}

function renderQueue(state) {
  const queue = state.floor?.queue || [];
  fill($("#queue"),
    el("h2", { text: t("queue") }),
    queue.length
      ? el("ol", { class: "display-queue" },
          queue.slice(0, 8).map((q) => el("li", {},
            el("span", { text: personName(state, q.participant_id) }),
            q.kind === "rebuttal" ? el("span", { class: "kind-badge kind-rebuttal", text: t("kind_rebuttal") }) : null)))
      : el("p", { class: "muted", text: t("queue_empty") }));
}

function renderAttendance(state) {
  const a = state.attendance || {};
  const ok = Boolean(a.quorum);
  fill($("#attendance"),
    el("h2", { text: t("quorum") }),
    el("div", { class: `quorum ${ok ? "quorum-ok" : "quorum-no"}` },
      el("div", { class: "quorum-numbers" },
        el("span", { class: "quorum-present", text: String(a.present ?? 0) }),
        el("span", { class: "quorum-total", text: `/${a.total ?? 0}` })),
      el("div", { class: "quorum-text" },
        el("div", { class: "quorum-word", text: ok ? t("quorum_ok") : t("quorum_no") }),
        el("div", { class: "muted", text: t("needed", { needed: a.needed ?? "—" }) }))));
}

function render(state) {
  renderHeader(state);
  renderItem(state);
  renderStage(state);
  renderSpeakers(state);
  renderQueue(state);
  renderAttendance(state);
}

function tick() {
  const now = serverNow();
  for (const node of document.querySelectorAll(".timer[data-since]"))
    node.textContent = formatDuration(now - Number(node.dataset.since));
  $("#clock").textContent = new Date(now * 1000).toLocaleTimeString(getLang() === "vi" ? "vi-VN" : "en-GB",
    { hour: "2-digit", minute: "2-digit" });
}
setInterval(tick, 1000);
tick();

displayView();
boot({ render });
