// The floor on every screen: the chair's panel (queue, grant, end, extend, move, microphone
// mode), the speaker's own countdown on the delegate tablet, and the speaker cards with a
// countdown on the hall display. Countdowns run from the grant's wall time and the
// allowance the server sent (`since`, `limit_s`); the warning shows `warn_s` before the end.
import { post, serverNow } from "./api.js";
import { el, fill, formatDuration, personName, run } from "./app.js";
import "./floor_i18n.js";
import { getLang, t } from "./i18n.js";

if (!document.querySelector('link[href="/ui/floor.css"]'))
  document.head.append(el("link", { rel: "stylesheet", href: "/ui/floor.css" }));

const MODES = ["request", "open", "override", "chair_only"];

/** A countdown (or, without an allowance, the time spoken) that `tick` keeps current. */
export function countdown(speech, warnS, cls = "") {
  const node = el("span", {
    class: `floor-countdown timer ${cls}`.trim(),
    "data-testid": `countdown-${speech.participant_id}`,
    "data-start": String(speech.since),
    "data-limit": speech.limit_s == null ? "" : String(speech.limit_s),
    "data-warn": String(warnS ?? 30),
  });
  paint(node, serverNow());
  return node;
}

function paint(node, now) {
  const since = Number(node.dataset.start);
  const limit = node.dataset.limit === "" ? null : Number(node.dataset.limit);
  if (limit === null) {
    node.textContent = formatDuration(now - since);
    node.title = t("floor_no_limit");
    return;
  }
  const left = limit - (now - since);
  const over = left <= 0;
  node.textContent = over ? `−${formatDuration(-left)}` : formatDuration(Math.ceil(left));
  node.classList.toggle("over", over);
  node.classList.toggle("warn", !over && left <= Number(node.dataset.warn));
  node.title = over ? t("floor_over") : left <= Number(node.dataset.warn) ? t("floor_warn") : t("floor_left");
}

export function tick() {
  const now = serverNow();
  for (const node of document.querySelectorAll(".floor-countdown")) paint(node, now);
}
setInterval(tick, 250);

// ---- the chair's console ---------------------------------------------------------------

let micForm = null;
let micLang = null;

function buildMicForm() {
  const mode = el("select", { name: "mode", "data-testid": "mic-mode" },
    MODES.map((m) => el("option", { value: m, text: t(`mic_${m}`) })));
  const maxOpen = el("input", { type: "number", name: "max_open", min: "1", max: "25", value: "1", "data-testid": "max-open" });
  const form = el("form", { class: "floor-mic-form" },
    el("label", {}, t("floor_mic_mode"), mode),
    el("label", {}, t("floor_max_open"), maxOpen),
    el("button", { type: "submit", class: "btn", "data-testid": "mic-apply", text: t("floor_mic_apply") }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    form.dataset.dirty = "";
    run(form.querySelector("button"), () => post("/api/floor/mic-mode", { mode: mode.value, max_open: Number(maxOpen.value || 1) }));
  });
  for (const input of [mode, maxOpen]) input.addEventListener("input", () => { form.dataset.dirty = "1"; });
  return form;
}

function micPanel(floor) {
  if (!micForm || micLang !== getLang()) {
    micForm = buildMicForm();
    micLang = getLang();
  }
  if (!micForm.dataset.dirty) {  // the chair's unsaved choice survives live updates
    micForm.elements.mode.value = floor.mic_mode || "request";
    micForm.elements.max_open.value = String(floor.max_open || 1);
  }
  return micForm;
}

/** Fill the console's #speaking and #queue cards. */
export function renderFloorChair(state) {
  const floor = state.floor || {};
  const speaking = floor.speaking || [];
  const queue = floor.queue || [];
  fill($id("speaking"),
    speaking.length
      ? speaking.map((s) =>
          el("div", { class: "speaker-row floor-speaker-row", "data-testid": `speaker-${s.participant_id}` },
            el("div", { class: "speaker-name" }, el("span", { text: personName(state, s.participant_id) }),
              el("span", { class: `kind-badge kind-${s.kind}`, text: t(`kind_${s.kind}`) })),
            countdown(s, floor.warn_s),
            el("div", { class: "floor-row-actions" },
              el("button", { type: "button", class: "btn", text: t("floor_extend"), title: t("floor_extend_title"),
                "data-testid": `extend-${s.participant_id}`,
                onclick: (e) => run(e.currentTarget, () => post("/api/floor/extend", { to: s.participant_id, seconds: 60 })) }),
              el("button", { type: "button", class: "btn", text: t("end_speech"), "data-testid": `end-${s.participant_id}`,
                onclick: (e) => run(e.currentTarget, () => post("/api/floor/end", { to: s.participant_id })) }))))
      : el("p", { class: "muted", text: t("nobody_speaking") }),
    el("div", { class: "floor-chair-tools" },
      el("button", { type: "button", class: "btn", text: t("floor_speak_self"), "data-testid": "speak-self",
        onclick: (e) => run(e.currentTarget, () => post("/api/floor/grant", { to: "self" })) }),
      el("button", { type: "button", class: "btn danger", text: t("floor_all_off"), "data-testid": "all-off",
        disabled: !speaking.length,
        onclick: (e) => run(e.currentTarget, () => post("/api/floor/end", { to: "all" })) })),
    micPanel(floor));
  fill($id("queue"),
    el("button", { type: "button", class: "btn primary big wide", text: t("grant_next"), disabled: !queue.length,
      "data-testid": "grant-next",
      onclick: (e) => run(e.currentTarget, () => post("/api/floor/grant", { to: "next" })) }),
    queue.length
      ? el("ol", { class: "queue-list" },
          queue.map((q) => {
            const sameKind = queue.filter((x) => x.kind === q.kind);
            const k = sameKind.indexOf(q);
            return el("li", { class: "queue-row floor-queue-row", "data-testid": `queued-${q.participant_id}` },
              el("div", { class: "queue-who" },
                el("span", { class: "queue-name", text: personName(state, q.participant_id) }),
                el("span", { class: `kind-badge kind-${q.kind}`, text: t(`kind_${q.kind}`) })),
              el("div", { class: "floor-row-actions" },
                el("button", { type: "button", class: "btn small", text: "▲", title: t("floor_move_up"), disabled: k === 0,
                  "aria-label": t("floor_move_up"), "data-testid": `up-${q.participant_id}`,
                  onclick: (e) => run(e.currentTarget, () => post("/api/floor/move", { participant_id: q.participant_id, direction: "up" })) }),
                el("button", { type: "button", class: "btn small", text: "▼", title: t("floor_move_down"),
                  disabled: k === sameKind.length - 1, "aria-label": t("floor_move_down"), "data-testid": `down-${q.participant_id}`,
                  onclick: (e) => run(e.currentTarget, () => post("/api/floor/move", { participant_id: q.participant_id, direction: "down" })) }),
                el("button", { type: "button", class: "btn", text: t("grant"), "data-testid": `grant-${q.participant_id}`,
                  onclick: (e) => run(e.currentTarget, () => post("/api/floor/grant", { to: q.participant_id })) })));
          }))
      : el("p", { class: "muted", text: t("queue_empty") }));
}

function $id(id) {
  return document.getElementById(id);
}

// ---- the delegate's tablet --------------------------------------------------------------

/** The speaker's own card: the countdown and "end my speech"; null when not speaking. */
export function myFloorCard(state, myId) {
  const floor = state.floor || {};
  const mine = (floor.speaking || []).find((s) => s.participant_id === myId);
  if (!mine) return null;
  return el("div", { class: "floor-mine", "data-testid": "my-countdown" },
    el("div", { class: "muted", text: t("floor_your_time") }),
    countdown(mine, floor.warn_s, "floor-mine-timer"),
    el("button", { type: "button", class: "btn", text: t("floor_stop_mine"), "data-testid": "stop-speaking",
      onclick: (e) => run(e.currentTarget, () => post("/api/floor/stop", {})) }));
}

// ---- the hall display -------------------------------------------------------------------

/** Speaker cards with name, title, kind and a large countdown. */
export function speakerCards(state) {
  const floor = state.floor || {};
  const speaking = floor.speaking || [];
  if (!speaking.length) return el("p", { class: "muted", text: t("nobody_speaking") });
  return speaking.map((s) => {
    const p = (state.participants || []).find((x) => x.id === s.participant_id);
    return el("div", { class: "display-speaker floor-speaker-card", "data-testid": `speaker-card-${s.participant_id}` },
      el("div", { class: "display-speaker-name", text: personName(state, s.participant_id) }),
      el("div", { class: "muted", text: [p?.title, p?.seat ? t("seat", { seat: p.seat }) : "", t(`kind_${s.kind}`)].filter(Boolean).join(" · ") }),
      countdown(s, floor.warn_s, "display-timer"));
  });
}

/** A display started for one view (`?view=speaker` by `phs devices`) shows just that. */
export function displayView() {
  const view = new URLSearchParams(location.search).get("view") || "hall";
  document.body.dataset.view = view;
  return view;
}
