// Poll progress and result cards, shared by the chair, the delegates and the hall display.
// Numbers are shown exactly as the server computed them; nothing is recomputed here
// except bar widths, which come from the server's own shares.
import { get } from "./api.js";
import { answerLabel, bodyTotal, el, fill, personName } from "./app.js";
import { formatShare, t } from "./i18n.js";
import { countdown } from "./polls_common.js";

const ANSWER_CLASS = {
  for: "ans-for", against: "ans-against", abstain: "ans-abstain", not_voted: "ans-not-voted",
  high: "ans-for", trust: "ans-abstain", low: "ans-against", no_trust: "ans-against",
};

function bar(share, code) {
  const fill = el("div", { class: `bar-fill ${ANSWER_CLASS[code] || "ans-other"}` });
  const w = Math.max(0, Math.min(100, Number(share) || 0));
  fill.style.width = `${w}%`;
  return el("div", { class: "bar-track" }, fill);
}

/** "Đã biểu quyết: N/M" with a progress bar (never partial results). */
export function pollProgress(state, poll) {
  const total = bodyTotal(state);
  const voted = poll.voted ?? 0;
  const fill = el("div", { class: "bar-fill progress-fill" });
  fill.style.width = `${total ? Math.min(100, (voted / total) * 100) : 0}%`;
  return el(
    "div",
    { class: "poll-progress", "data-testid": "poll-progress" },
    el("div", { class: "progress-text", text: t("voted_count", { voted, total }) }),
    el("div", { class: "bar-track progress-track" }, fill),
  );
}

function baseWords(result) {
  const key = { total: "base_total", present: "base_present", cast: "base_cast" }[result.base_kind] || "base_total";
  return t(key, { base: result.base });
}

function verdict(result) {
  if (result.passed === true) return el("div", { class: "verdict verdict-pass", "data-testid": "verdict", text: t("passed") });
  if (result.passed === false) return el("div", { class: "verdict verdict-fail", "data-testid": "verdict", text: t("not_passed") });
  return null;
}

function answerOrder(poll, counts) {
  const order = [...(poll.answers || [])];
  for (const k of Object.keys(counts)) if (!order.includes(k) && k !== "not_voted") order.push(k);
  if ("not_voted" in counts) order.push("not_voted");
  return order;
}

function flagBadges(flags) {
  return (flags || []).map((f) => el("span", { class: "flag", "data-flag": f, text: t(`flag_${f}`) }));
}

function motionRows(state, poll, result) {
  const counts = result.counts || {};
  const shares = result.shares || {};
  // A single vote of confidence flags its outcome as a list.
  const flags = Array.isArray(result.flags) && result.flags.length
    ? el("div", { class: "result-flags", "data-testid": "flags" }, flagBadges(result.flags)) : null;
  return [...answerOrder(poll, counts).map((code) =>
    el(
      "div",
      { class: "result-row", "data-answer": code },
      el("div", { class: "result-label", text: answerLabel(state, code) }),
      bar(shares[code], code),
      el("div", { class: "result-count", "data-testid": `count-${code}`, text: String(counts[code] ?? 0) }),
      el("div", { class: "result-share", "data-testid": `share-${code}`, text: formatShare(shares[code]) }),
    ),
  ), flags];
}

function candidateTables(state, poll, result) {
  const answers = poll.answers || ["for", "against", "abstain"];
  const out = [];
  for (const [name, counts] of Object.entries(result.counts || {})) {
    const shares = result.shares?.[name] || {};
    const flags = result.flags?.[name] || [];
    out.push(
      el(
        "div",
        { class: "candidate-result", "data-candidate": name },
        el("div", { class: "candidate-name", text: name }, ...flagBadges(flags)),
        ...answerOrder({ answers }, counts).map((code) =>
          el(
            "div",
            { class: "result-row", "data-answer": code },
            el("div", { class: "result-label", text: answerLabel(state, code) }),
            bar(shares[code], code),
            el("div", { class: "result-count", text: String(counts[code] ?? 0) }),
            el("div", { class: "result-share", text: formatShare(shares[code]) }),
          ),
        ),
      ),
    );
  }
  if (Array.isArray(result.elected)) {
    out.push(
      el("div", {
        class: "elected",
        "data-testid": "elected",
        text: result.elected.length ? t("elected", { names: result.elected.join(", ") }) : t("nobody_elected"),
      }),
    );
  }
  if (result.tie) out.push(el("div", { class: "elected", "data-testid": "tie", text: t("tie") }));
  return out;
}

/** The result card of a closed poll. `opts.perDelegate` lists public ballots by name. */
export function resultCard(state, poll, opts = {}) {
  const result = poll.result;
  const isCandidate = Object.values(result.counts || {}).some((v) => typeof v === "object" && v !== null);
  const ruleText = poll.rule ? t(`rule_${poll.rule}`) : "";
  const partial = Boolean(opts.partial);
  const card = el(
    "section",
    { class: `result-card${partial ? " result-partial" : ""}${poll.annulled ? " result-annulled" : ""}`,
      "data-testid": partial ? "live-card" : "result-card", "data-poll": poll.id },
    el("div", { class: "result-head" },
      el("div", { class: "result-kicker", text: partial ? t("live_partial") : t("result") }),
      el("h2", { class: "result-question", text: poll.question })),
    poll.annulled
      ? el("div", { class: "annulled-banner", "data-testid": "annulled", text: t("annulled_banner", { reason: poll.annul_reason || "" }) })
      : null,
    el("div", { class: "result-base", "data-testid": "result-base", text: baseWords(result) }),
    el("div", { class: "result-rows" }, isCandidate ? candidateTables(state, poll, result) : motionRows(state, poll, result)),
    partial ? null : verdict(result),
    el("div", { class: "result-foot" },
      poll.rule && result.threshold != null
        ? el("span", { text: t("threshold", { n: result.threshold, rule: ruleText }) })
        : null,
      result.turnout != null ? el("span", { "data-testid": "turnout", text: t("turnout", { n: result.turnout }) }) : null,
      poll.source === "paper" ? el("span", { "data-testid": "paper", text: t("poll_paper_note") }) : null,
      result.invalid != null ? el("span", { "data-testid": "invalid", text: t("poll_invalid_count", { n: result.invalid }) }) : null,
      result.quorum_at_close === false && !partial ? el("span", { text: t("quorum_lost_note") }) : null),
  );
  if (opts.perDelegate && !partial && poll.method === "public" && poll.source !== "paper" && result.turnout > 0) {
    card.append(perDelegateBox(state, poll));
  }
  return card;
}

// The live channel leaves per-delegate lists out (500 names to every tablet at each close);
// a closed result never changes, so each list is fetched once, when someone opens it.
const perDelegateRows = new Map(); // poll id -> rows
const perDelegateOpen = new Set(); // poll ids whose list is open (re-renders keep it open)

function perDelegateBox(state, poll) {
  const list = el("ul", { class: "per-delegate", "data-testid": "per-delegate" });
  const show = (rows) => fill(list, rows.map((row) => {
    const ans = typeof row.answer === "string"
      ? answerLabel(state, row.answer)
      : Object.entries(row.answer || {}).map(([name, a]) => `${name}: ${answerLabel(state, a)}`).join("; ");
    return el("li", {}, el("span", { text: personName(state, row.participant_id) }), el("span", { text: ans }));
  }));
  const known = poll.result.per_delegate || perDelegateRows.get(poll.id);
  if (known) show(known);
  const box = el("details", { class: "per-delegate-box", open: perDelegateOpen.has(poll.id) },
    el("summary", { text: t("per_delegate") }), list);
  const load = () => {
    if (perDelegateRows.has(poll.id) || poll.result.per_delegate) return;
    get(`/api/polls/${encodeURIComponent(poll.id)}`).then((body) => {
      const rows = body?.poll?.result?.per_delegate || [];
      perDelegateRows.set(poll.id, rows);
      show(rows);
    }).catch(() => {});
  };
  box.addEventListener("toggle", () => {
    if (box.open) {
      perDelegateOpen.add(poll.id);
      load();
    } else perDelegateOpen.delete(poll.id);
  });
  if (box.open) load();
  return box;
}

/** Partial results of an open public poll the chair opened with "show live", or null. */
export function livePartial(state, poll) {
  if (poll.status !== "open" || !poll.live) return null;
  return resultCard(state, { ...poll, result: poll.live }, { partial: true });
}

/** Kicker line of an open poll: its kind, method and countdown. */
export function pollKicker(poll) {
  return el("div", { class: "vote-kicker" }, el("span", { text: t("poll_open_title") }),
    poll.kind && poll.kind !== "motion" ? el("span", { class: "kind-chip", text: t(`kind_${poll.kind}`) }) : null,
    el("span", { class: `method-badge method-${poll.method}`, text: methodLabel(poll) }),
    countdown(poll));
}

export function methodLabel(poll) {
  return poll.method === "secret" ? t("method_secret") : t("method_public");
}
