// The chair's console: the sitting, attendance and quorum, the agenda, the floor, votes.
import { post, serverNow } from "./api.js";
import {
  $, boot, bodyTotal, el, fill, formatDuration, isDelegateRole, lastClosedPoll, openPoll, roleLabel, run,
  sittingStatusLabel,
} from "./app.js";
import { renderFloorChair } from "./floor.js";
import { renderGroupsChair } from "./groups_chair.js";
import { getLang, t } from "./i18n.js";
import { annulBox, chairPollForm, preparedList } from "./polls_chair.js";
import { livePartial, pollKicker, pollProgress, resultCard } from "./result.js";
import { votePanel } from "./vote.js";

let latest = null;

/** A button that asks once more before acting: the first tap arms it, the second acts. */
const CLOCK_APART_S = 300; // as the server's CLOCK_JUMP_LIMIT_S (appliance/meeting/sitting_record.py)

export function confirmButton(attrs, confirmText, action) {
  let armed = false;
  let timer = null;
  const label = attrs.text;
  const btn = el("button", {
    ...attrs,
    type: "button",
    onclick: () => {
      if (!armed) {
        armed = true;
        btn.textContent = confirmText;
        btn.classList.add("arming");
        timer = setTimeout(() => {
          armed = false;
          btn.textContent = label;
          btn.classList.remove("arming");
        }, 5000);
        return;
      }
      clearTimeout(timer);
      armed = false;
      btn.classList.remove("arming");
      btn.textContent = label;
      run(btn, action);
    },
  });
  return btn;
}

function renderHeader(state, me) {
  $("#body-name").textContent = state.body?.name || t("app_name");
  $("#sitting-title").textContent = [state.session?.title, state.sitting?.title].filter(Boolean).join(" · ");
  const badge = $("#sitting-status");
  badge.textContent = sittingStatusLabel(state.sitting);
  badge.dataset.status = state.sitting?.status || "none";
  $("#rehearsal").hidden = !state.session?.rehearsal;
  $("#rehearsal").textContent = t("rehearsal");
  const p = (state.participants || []).find((x) => x.id === me.participant?.id) || me.participant || {};
  $("#me-name").textContent = p.name || "";
  $("#me-seat").textContent = roleLabel(me.role);
  const old = $("#sitting-toggle");
  const status = state.sitting?.status;
  let btn;
  if (status === "open") {
    btn = confirmButton({ id: "sitting-toggle", class: "btn danger", text: t("close_sitting") }, t("confirm_close_sitting"),
      () => post("/api/sitting/close", {}));
  } else {
    // The box has no internet time. The chair confirms a time: the box's own when this
    // console agrees with it, else the console's (a tablet keeps network time), and the
    // server records the jump in the sitting's record instead of silently applying it.
    const locale = getLang() === "vi" ? "vi-VN" : "en-GB";
    const fmt = (s) => new Date(s * 1000).toLocaleString(locale);
    const short = (s) => new Date(s * 1000).toLocaleString(locale, { hour: "2-digit", minute: "2-digit", day: "numeric", month: "numeric" });
    const mine = Date.now() / 1000;
    const apart = Math.abs(serverNow() - mine) > CLOCK_APART_S;
    const text = apart ? t("confirm_time_apart", { box: short(serverNow()), here: short(mine) }) : t("confirm_time", { time: fmt(serverNow()) });
    btn = confirmButton({ id: "sitting-toggle", class: "btn primary", text: t("open_sitting"), disabled: !state.sitting || status === "closed" },
      text, () => post("/api/sitting/open", { confirmed_wall: apart ? Date.now() / 1000 : serverNow() }));
  }
  if (!old.classList.contains("arming")) old.replaceWith(btn);
  const ci = $("#check-in");
  const present = Boolean(state.me?.present);
  ci.hidden = !isDelegateRole(me.role);
  ci.textContent = present ? `✓ ${t("checked_in")}` : t("check_in");
  ci.classList.toggle("done", present);
  ci.disabled = present;
}

function renderQuorum(state) {
  const a = state.attendance || {};
  const ok = Boolean(a.quorum);
  fill(
    $("#quorum-card"),
    el("h2", { text: t("quorum") }),
    el("div", { class: `quorum ${ok ? "quorum-ok" : "quorum-no"}` },
      el("div", { class: "quorum-numbers" },
        el("span", { class: "quorum-present", "data-testid": "present", text: String(a.present ?? 0) }),
        el("span", { class: "quorum-total", text: `/${a.total ?? bodyTotal(state)}` })),
      el("div", { class: "quorum-text" },
        el("div", { class: "quorum-word", text: ok ? t("quorum_ok") : t("quorum_no") }),
        el("div", { class: "muted", text: t("needed", { needed: a.needed ?? "—" }) }))),
  );
}

function renderAgenda(state) {
  const cur = state.sitting?.current_item;
  const items = state.agenda || [];
  if (!items.length) {
    fill($("#agenda"), el("li", { class: "muted", text: t("agenda_empty") }));
    return;
  }
  fill(
    $("#agenda"),
    items.map((it) =>
      el("li", { class: `agenda-row${it.n === cur ? " current" : ""}` },
        el("span", { class: "agenda-n", text: String(it.n) }),
        el("div", { class: "agenda-title" }, el("div", { text: it.title }),
          it.n === cur ? el("span", { class: "now-badge", text: t("now_discussing") }) : null),
        it.n === cur
          ? null
          : el("button", { type: "button", class: "btn", text: t("start_item"), "data-item": String(it.n),
              onclick: (e) => run(e.currentTarget, () => post("/api/agenda/current", { item: it.n })) })),
    ),
  );
}

function renderPoll(state, me) {
  const card = $("#poll-card");
  const poll = openPoll(state);
  if (poll) {
    const parts = [
      pollKicker(poll),
      el("h2", { class: "vote-question", text: poll.question }),
      poll.rule ? el("div", { class: "muted", text: `${t("poll_rule")}: ${t(`rule_${poll.rule}`)}` }) : null,
      pollProgress(state, poll),
      livePartial(state, poll),
      confirmButton({ class: "btn danger big wide", "data-testid": "close-poll", text: t("poll_close") }, t("confirm_close_poll"),
        () => post(`/api/polls/${encodeURIComponent(poll.id)}/close`, {})),
    ];
    if (isDelegateRole(me.role)) parts.push(votePanel(state, me, poll, () => render(latest.state, latest.me)));
    const typing = document.activeElement?.dataset?.testid === "annul-reason" && card.contains(document.activeElement);
    if (!card.querySelector(".arming") && !typing) {
      parts.push(annulBox(poll));
      fill(card, parts);
    } else {
      // Keep the armed button and the reason being typed; refresh only the figures.
      card.querySelector(".poll-progress")?.replaceWith(pollProgress(state, poll));
      const live = livePartial(state, poll);
      if (live) card.querySelector(".result-partial")?.replaceWith(live);
    }
    fill(preparedSlot(), preparedList(state, { pollOpen: true }));
    return;
  }
  const form = chairPollForm(state);
  if (form.parentNode !== card || card.children.length !== 1) fill(card, form);
  fill(preparedSlot(), preparedList(state, { pollOpen: false }));
  const closed = lastClosedPoll(state);
  const slot = $("#result-slot");
  const typing = document.activeElement?.dataset?.testid === "annul-reason" && slot.contains(document.activeElement);
  if ((typing || slot.querySelector(".arming")) && slot.querySelector(`[data-poll="${closed?.id}"]`)) return; // a reason is being typed
  fill(slot, closed ? [resultCard(state, closed, { perDelegate: closed.method === "public" }), annulBox(closed)] : null);
}

/** Where the prepared polls of the current item go: above the poll card. */
function preparedSlot() {
  let slot = $("#prepared-slot");
  if (!slot) {
    slot = el("div", { id: "prepared-slot" });
    $("#poll-card").before(slot);
  }
  return slot;
}

function render(state, me) {
  latest = { state, me };
  renderHeader(state, me);
  renderQuorum(state);
  renderAgenda(state);
  renderFloorChair(state);
  renderPoll(state, me);
  renderGroupsChair(state);
  if (openPoll(state)) fill($("#result-slot"));
}

setInterval(() => {
  for (const node of document.querySelectorAll(".timer[data-since]"))
    node.textContent = formatDuration(serverNow() - Number(node.dataset.since));
}, 1000);

$("#check-in").addEventListener("click", (e) => run(e.currentTarget, () => post("/api/attendance/check-in", {})));

boot({ render, allowRoles: ["chair", "vice_chair"] });
