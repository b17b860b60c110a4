// The ballot panel of a delegate (the chair votes from the console with the same panel).
// Tap an answer, confirm, and the ballot goes out once; a cast ballot is final.
import { ApiError, post } from "./api.js";
import { answerLabel, el, errorText, isDelegateRole, toast } from "./app.js";
import { t } from "./i18n.js";
import { methodLabel, pollProgress } from "./result.js";

const pending = new Map(); // poll id -> chosen answer (or {candidate: answer}) awaiting confirmation
const justVoted = new Set(); // poll ids voted from this page (before the live update arrives)
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

async function cast(state, poll, choice, button) {
  button.disabled = true;
  const body = typeof choice === "string" ? { answer: choice } : { answers: choice };
  try {
    await post(`/api/polls/${encodeURIComponent(poll.id)}/ballots`, body);
    justVoted.add(poll.id);
    rememberChoice(poll, choice);
    pending.delete(poll.id);
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
    el("div", { class: "vote-kicker" }, el("span", { text: t("poll_open_title") }),
      el("span", { class: `method-badge method-${poll.method}`, text: methodLabel(poll) })),
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
  const complete = (poll.candidates || []).every((n) => draft[n]);
  return el(
    "div",
    { class: "candidate-ballot" },
    poll.choose ? el("p", { class: "muted", text: t("choose_up_to", { n: poll.choose }) }) : null,
    rows,
    el("button", {
      type: "button",
      class: "btn primary big",
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
    panel.append(el("p", { class: "vote-note", text: t("cannot_vote") }), pollProgress(state, poll));
    return panel;
  }
  if (hasVoted(state, poll)) {
    const choice = recalledChoice(poll);
    panel.classList.add("voted");
    panel.append(
      el("div", { class: "vote-done", "data-testid": "vote-done" },
        el("div", { class: "vote-done-mark", "aria-hidden": "true", text: "✓" }),
        el("div", { class: "vote-done-text", text: choice ? t("voted_with", { label: choiceText(state, choice) }) : t("voted") })),
      el("p", { class: "vote-note", text: t("ballot_final") }),
      pollProgress(state, poll),
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
