// The ballot panel of a delegate (the chair votes from the console with the same panel).
// Tap an answer, confirm, and the ballot goes out once; a cast ballot is final.
import { api, ApiError } from "./api.js";
import { answerLabel, el, errorText, isDelegateRole, toast } from "./app.js";
import { t } from "./i18n.js";
import { Live } from "./live.js";
import { livePartial, pollKicker, pollProgress } from "./result.js";

const pending = new Map(); // poll id -> chosen answer (or {candidate: answer}) awaiting confirmation
const justVoted = new Set(); // poll ids voted from this page (before the live update arrives)
const correcting = new Set(); // public polls opened with correction allowed, being re-answered
let rerender = () => {};

const choiceKey = (pollId) => `phs.choice.${pollId}`;

function rememberChoice(poll, choice) {
  // Only public ballots are remembered on the tablet; a secret choice leaves no trace.
  if (poll.method !== "public") return;
  try {
    localStorage.setItem(choiceKey(poll.id), JSON.stringify(choice));
  } catch {
    /* ignore */
  }
}

function recalledChoice(poll) {
  if (poll.method !== "public") return null;
  try {
    return JSON.parse(localStorage.getItem(choiceKey(poll.id)) || "null");
  } catch {
    return null;
  }
}

function choiceText(state, choice) {
  if (typeof choice === "string") return answerLabel(state, choice);
  if (choice && typeof choice === "object")
    return Object.entries(choice).map(([name, a]) => `${name}: ${answerLabel(state, a)}`).join("; ");
  return "";
}

export function hasVoted(state, poll) {
  return justVoted.has(poll.id) || (state?.me?.voted || []).includes(poll.id);
}

function ballotId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Send a ballot on the open live socket (no HTTP round trip in a burst); without a socket or
 * an ack in time, by HTTP with the same id as Idempotency-Key — the server counts it once.
 */
async function sendBallot(poll, body) {
  const id = ballotId();
  if (Live.current) {
    let ack = null;
    try {
      ack = await Live.current.ask({ type: "vote", id, poll_id: poll.id, ...body });
    } catch {
      ack = null; // no socket or no answer: HTTP below
    }
    if (ack?.ok) return;
    if (ack) throw new ApiError(409, { code: ack.code, message: ack.message, message_en: ack.message_en });
  }
  await api("POST", `/api/polls/${encodeURIComponent(poll.id)}/ballots`, body, id);
}

async function cast(state, poll, choice, button) {
  button.disabled = true;
  const body = typeof choice === "string" ? { answer: choice } : { answers: choice };
  try {
    await sendBallot(poll, body);
    justVoted.add(poll.id);
    rememberChoice(poll, choice);
    pending.delete(poll.id);
    correcting.delete(poll.id);
  } catch (err) {
    if (err instanceof ApiError && err.code === "already_voted") {
      justVoted.add(poll.id);
      pending.delete(poll.id);
    }
    toast(errorText(err));
  } finally {
    button.disabled = false;
    rerender();
  }
}

function header(state, poll) {
  return el(
    "div",
    { class: "vote-head" },
    pollKicker(poll),
    el("h2", { class: "vote-question", "data-testid": "vote-question", text: poll.question }),
  );
}

function motionButtons(state, poll) {
  return el(
    "div",
    { class: "vote-buttons" },
    (poll.answers || []).map((code) =>
      el("button", {
        type: "button",
        class: `vote-btn ans-${code.replace("_", "-")}`,
        "data-answer": code,
        text: answerLabel(state, code),
        onclick: () => {
          pending.set(poll.id, code);
          rerender();
        },
      }),
    ),
  );
}

function candidateButtons(state, poll) {
  const draft = typeof pending.get(poll.id) === "object" ? pending.get(poll.id) : {};
  // An election chooses at most K: once K are "for", the other "for" buttons rest.
  const chosen = (poll.candidates || []).filter((n) => draft[n] === "for").length;
  const full = poll.kind === "election" && poll.choose && chosen >= poll.choose;
  const rows = (poll.candidates || []).map((name) =>
    el(
      "div",
      { class: "candidate-row" },
      el("div", { class: "candidate-name", text: name }),
      el("div", { class: "candidate-answers" },
        (poll.answers || []).map((code) =>
          el("button", {
            type: "button",
            class: `vote-btn small ans-${code.replace("_", "-")}${draft[name] === code ? " chosen" : ""}`,
            "aria-pressed": draft[name] === code ? "true" : "false",
            "data-candidate": name,
            "data-answer": code,
            disabled: full && code === "for" && draft[name] !== "for",
            text: answerLabel(state, code),
            onclick: () => {
              const next = { ...draft, [name]: code };
              pending.set(poll.id, { ...next, __draft: true });
              rerender();
            },
          }),
        )),
    ),
  );
  // An election ballot may leave names out (they count as abstentions); an assessment rates everyone.
  const answered = (poll.candidates || []).filter((n) => draft[n]).length;
  const complete = poll.kind === "election" ? answered > 0 : answered === (poll.candidates || []).length;
  return el(
    "div",
    { class: "candidate-ballot" },
    poll.choose ? el("p", { class: "muted", text: t("choose_up_to", { n: poll.choose }) }) : null,
    poll.choose ? el("p", { class: "chosen-count", "data-testid": "chosen-count", text: t("chosen_of", { n: chosen, k: poll.choose }) }) : null,
    poll.kind === "election" ? el("p", { class: "muted", text: t("ballot_left_out") }) : null,
    rows,
    el("button", {
      type: "button",
      class: "btn primary big",
      "data-testid": "candidate-submit",
      disabled: !complete,
      text: t("candidate_submit"),
      onclick: () => {
        const clean = { ...draft };
        delete clean.__draft;
        pending.set(poll.id, clean);
        rerender();
      },
    }),
  );
}

/**
 * The vote panel for the open poll, or null when there is nothing to show.
 * `onChange` re-renders the page (to move between choose, confirm and done).
 */
export function votePanel(state, me, poll, onChange) {
  rerender = onChange;
  const panel = el("section", { class: "vote-panel", "data-testid": "vote-panel", "data-poll": poll.id }, header(state, poll));
  const note = el("p", { class: "vote-note", text: poll.method === "secret" ? t("secret_note") : t("public_note") });

  if (!isDelegateRole(me.role)) {
    panel.append(...[el("p", { class: "vote-note", text: t("cannot_vote") }), pollProgress(state, poll)].filter(Boolean));
    return panel;
  }
  if (hasVoted(state, poll) && !correcting.has(poll.id)) {
    const choice = recalledChoice(poll);
    const canCorrect = poll.allow_correction && poll.method === "public";
    panel.classList.add("voted");
    panel.append(
      el("div", { class: "vote-done", "data-testid": "vote-done" },
        el("div", { class: "vote-done-mark", "aria-hidden": "true", text: "✓" }),
        el("div", { class: "vote-done-text", text: choice ? t("voted_with", { label: choiceText(state, choice) }) : t("voted") })),
      canCorrect
        ? el("button", { type: "button", class: "btn big", "data-testid": "correct-vote", text: t("change_choice"),
            onclick: () => {
              correcting.add(poll.id);
              rerender();
            } })
        : el("p", { class: "vote-note", text: t("ballot_final") }),
      // livePartial is null for a secret poll: append() would print "null".
      ...[pollProgress(state, poll), livePartial(state, poll)].filter(Boolean),
    );
    return panel;
  }
  if (state?.me && state.me.present === false) {
    panel.append(el("p", { class: "vote-warning", text: t("not_present_vote") }));
  }
  const choice = pending.get(poll.id);
  const isCandidate = (poll.candidates || []).length > 0;
  if (choice && !(typeof choice === "object" && choice.__draft)) {
    const confirmBtn = el("button", {
      type: "button",
      class: "btn primary big confirm-vote",
      "data-testid": "confirm-vote",
      text: t("confirm_vote"),
      onclick: () => cast(state, poll, choice, confirmBtn),
    });
    panel.append(
      el("div", { class: "vote-confirm" },
        el("div", { class: `vote-choice ${typeof choice === "string" ? `ans-${choice.replace("_", "-")}` : ""}`,
          text: t("your_choice", { label: choiceText(state, choice) }) }),
        el("p", { class: "vote-note", text: t("ballot_final") }),
        el("div", { class: "confirm-row" },
          el("button", {
            type: "button",
            class: "btn big",
            text: t("change_choice"),
            onclick: () => {
              pending.delete(poll.id);
              rerender();
            },
          }),
          confirmBtn)),
    );
    return panel;
  }
  panel.append(
    el("p", { class: "vote-instruction", text: t("choose_answer") }),
    isCandidate ? candidateButtons(state, poll) : motionButtons(state, poll),
    note,
  );
  return panel;
}
