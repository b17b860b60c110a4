// The chair's poll controls: a form for every kind (motion, election choosing up to K,
// confidence assessment, vote of confidence, opinion poll with free answers), countdown,
// correction and live results for public votes, paper ballot counts, prepared polls of the
// current item (one tap), and annul-and-repeat with a reason. Numbers are never computed
// here: the server judges every field and the result comes back whole.
import { post } from "./api.js";
import { el, fill, run, toast } from "./app.js";
import { getLang, t } from "./i18n.js";
import { lines } from "./polls_common.js";

const KINDS = ["motion", "election", "confidence", "confidence_vote", "opinion"];
const RULES = ["more_than_half_of_total", "two_thirds_of_total", "more_than_half_of_present", "more_than_half_of_cast"];
const MOTION_ANSWERS = ["for", "against", "abstain"];
const FIXED = { election: MOTION_ANSWERS, confidence: ["high", "trust", "low"], confidence_vote: ["trust", "no_trust"] };
// Elections, dismissals and confidence assessments are secret ballots (docs/RULES.md).
const SECRET_BY_DEFAULT = new Set(["election", "confidence", "confidence_vote"]);
const WITH_RULE = new Set(["motion", "election"]);

/** A button that acts on the second tap within 5 s (the console's guard against slips). */
export function twoTap(attrs, confirmText, action) {
  let armed = null;
  const label = attrs.text;
  const btn = el("button", {
    ...attrs,
    type: "button",
    onclick: () => {
      if (!armed) {
        btn.textContent = confirmText;
        btn.classList.add("arming");
        armed = setTimeout(() => {
          armed = null;
          btn.textContent = label;
          btn.classList.remove("arming");
        }, 5000);
        return;
      }
      clearTimeout(armed);
      armed = null;
      btn.classList.remove("arming");
      btn.textContent = label;
      run(btn, action);
    },
  });
  return btn;
}

function radios(name, values, labelOf, checked, cls) {
  return el("div", { class: cls, role: "radiogroup" },
    values.map((v) => el("label", { class: "seg" },
      el("input", { type: "radio", name, value: v, checked: v === checked }),
      el("span", { text: labelOf(v) }))));
}

function section(label, ...children) {
  return el("div", { class: "form-section" }, label ? el("div", { class: "field-label", text: label }) : null, ...children);
}

/** Read a count the secretary or chair typed: a blank stays blank (null) so the server refuses it. */
function countValue(input) {
  const raw = input.value.trim();
  return raw === "" ? null : Number(raw);
}

/**
 * The new-poll form, built once per language so typing survives live updates.
 * `mode: "chair"` opens the vote; `mode: "prepare"` (the secretary) stores it for an agenda
 * item. Both can record a paper ballot's counts instead. Returns {node, refresh(state)}.
 */
export function pollForm({ mode = "chair" } = {}) {
  const preparing = mode === "prepare";
  const item = el("select", { id: "poll-item", name: "item" });
  const amend = el("select", { id: "poll-amend", name: "amend" });
  const amendTitle = el("input", { type: "text", id: "poll-amend-title", name: "amend_title", maxlength: "500" });
  const kind = radios("kind", KINDS, (k) => t(`kind_${k}`), "motion", "segmented kinds");
  const question = el("textarea", { id: "poll-question", name: "question", rows: "2", required: true });
  question.value = t("poll_question_default");
  const method = radios("method", ["public", "secret"], (m) => t(`method_${m}`), "public", "segmented");
  const rule = el("select", { id: "poll-rule", name: "rule" }, RULES.map((r) => el("option", { value: r, text: t(`rule_${r}`) })));
  const answers = el("div", { class: "answer-checks" },
    MOTION_ANSWERS.map((a) => el("label", { class: "check" },
      el("input", { type: "checkbox", name: "answers", value: a, checked: true }), el("span", { text: t(`ans_${a}`) }))));
  const free = el("textarea", { id: "poll-free-answers", name: "free", rows: "3" });
  const candidates = el("textarea", { id: "poll-candidates", name: "candidates", rows: "4" });
  const candidatesLabel = el("div", { class: "field-label" });
  const choose = el("input", { id: "poll-choose", name: "choose", type: "number", min: "1", step: "1" });
  const duration = el("input", { id: "poll-duration", name: "duration_s", type: "number", min: "1", max: "3600", step: "1" });
  const correction = el("input", { type: "checkbox", name: "allow_correction", id: "poll-correction" });
  const showLive = el("input", { type: "checkbox", name: "show_live", id: "poll-show-live" });
  const paper = el("input", { type: "checkbox", name: "paper", id: "poll-paper" });
  const paperBox = el("div", { class: "paper-box", "data-testid": "paper-box" });
  const openLabel = preparing ? t("poll_prepare_submit") : t("poll_open");
  const submit = el("button", { type: "submit", class: "btn primary big wide", "data-testid": "open-poll", text: openLabel });

  const parts = {
    rule: section(t("poll_rule"), rule),
    answers: section(t("poll_answers"), answers),
    free: section(t("poll_free_answers"), free),
    candidates: el("div", { class: "form-section" }, candidatesLabel, candidates),
    choose: section(t("poll_choose"), choose),
    duration: section(t("poll_duration"), duration),
    item: section(t("poll_item"), item),
    amend: el("div", { class: "form-section" }, el("div", { class: "field-label", text: t("poll_amend") }), amend,
      el("label", { class: "field-label", for: "poll-amend-title", text: t("poll_amend_title") }), amendTitle),
    publicOpts: el("div", { class: "opt-row" },
      el("label", { class: "check" }, correction, el("span", { text: t("poll_allow_correction") })),
      el("label", { class: "check" }, showLive, el("span", { text: t("poll_show_live") })),
      el("span", { class: "hint", text: t("poll_public_only") })),
  };
  const form = el("form", { class: "poll-form", id: "poll-form" },
    el("h2", { text: preparing ? t("poll_prepare") : t("poll_new") }),
    preparing ? parts.item : null,
    section(t("poll_kind"), kind),
    el("label", { class: "field-label", for: "poll-question", text: t("poll_question") }), question,
    section(t("poll_method"), method),
    parts.rule, parts.answers, parts.free, parts.candidates, parts.choose, parts.amend, parts.duration, parts.publicOpts,
    el("label", { class: "check" }, paper, el("span", { text: t("poll_paper") })),
    paperBox,
    submit);

  const current = () => new FormData(form).get("kind") || "motion";
  const isSecret = () => new FormData(form).get("method") === "secret";

  function spec() {
    const k = current();
    const body = { kind: k, question: question.value.trim(), method: new FormData(form).get("method") };
    if (WITH_RULE.has(k)) body.rule = rule.value;
    if (k === "motion") body.answers = new FormData(form).getAll("answers");
    if (k === "opinion") body.answers = lines(free.value);
    if (k === "election" || k === "confidence" || (k === "confidence_vote" && lines(candidates.value).length))
      body.candidates = lines(candidates.value);
    if (k === "election" && choose.value.trim()) body.choose = Number(choose.value);
    if (preparing && item.value) body.item = Number(item.value);
    return body;
  }

  function answerCodes(body) {
    return body.answers && body.answers.length ? body.answers : FIXED[body.kind] || MOTION_ANSWERS;
  }

  function rebuildPaper() {
    if (!paper.checked) {
      fill(paperBox);
      return;
    }
    const kept = new Map([...paperBox.querySelectorAll("input[data-key]")].map((i) => [i.dataset.key, i.value]));
    const body = spec();
    const codes = answerCodes(body);
    const cell = (key) => el("input", { type: "number", min: "0", step: "1", "data-key": key, value: kept.get(key) ?? "",
      "aria-label": key });
    const grid = el("div", { class: "paper-grid", style: `grid-template-columns: minmax(120px, 1.4fr) repeat(${codes.length}, 1fr)` },
      el("span", {}), codes.map((c) => el("span", { class: "paper-head", text: answerText(c) })));
    if (body.candidates && body.candidates.length) {
      for (const name of body.candidates) grid.append(el("span", { text: name }), ...codes.map((c) => cell(`${name}\u0000${c}`)));
    } else {
      grid.append(el("span", { text: t("poll_paper_counts") }), ...codes.map((c) => cell(c)));
    }
    fill(paperBox,
      grid,
      body.candidates && body.candidates.length
        ? el("label", { class: "field-label" }, t("poll_paper_valid"), cell("__valid"))
        : null,
      el("label", { class: "field-label" }, t("poll_paper_invalid"), cell("__invalid")));
  }

  function paperBody() {
    const body = spec();
    const value = (key) => {
      const input = [...paperBox.querySelectorAll("input[data-key]")].find((i) => i.dataset.key === key);
      return input ? countValue(input) : null;
    };
    const codes = answerCodes(body);
    if (body.candidates && body.candidates.length) {
      body.counts = Object.fromEntries(body.candidates.map((n) => [n, Object.fromEntries(codes.map((c) => [c, value(`${n}\u0000${c}`)]))]));
      body.valid = value("__valid");
    } else {
      body.counts = Object.fromEntries(codes.map((c) => [c, value(c)]));
    }
    body.invalid = value("__invalid");
    return body;
  }

  function sync() {
    const k = current();
    parts.rule.hidden = !WITH_RULE.has(k);
    parts.answers.hidden = k !== "motion";
    parts.free.hidden = k !== "opinion";
    parts.candidates.hidden = !(k === "election" || k === "confidence" || k === "confidence_vote");
    candidatesLabel.textContent = t(k === "confidence" ? "poll_officials" : k === "confidence_vote" ? "poll_confidence_vote_people" : "poll_candidates");
    parts.choose.hidden = k !== "election";
    parts.amend.hidden = k !== "motion" || paper.checked;
    amendTitle.hidden = !amend.value;
    parts.duration.hidden = paper.checked;
    parts.publicOpts.hidden = isSecret() || paper.checked;
    correction.disabled = showLive.disabled = isSecret();
    submit.textContent = paper.checked ? t("poll_paper_submit") : openLabel;
    submit.dataset.testid = paper.checked ? "paper-submit" : "open-poll";
    rebuildPaper();
  }

  form.addEventListener("change", (ev) => {
    if (ev.target.name === "kind") {
      // Elections and confidence votes are secret by law; a motion starts public.
      const secret = SECRET_BY_DEFAULT.has(current());
      form.querySelector(`input[name=method][value=${secret ? "secret" : "public"}]`).checked = true;
      // The law allows no public election or confidence vote: the server refuses one too.
      form.querySelector("input[name=method][value=public]").disabled = secret;
    }
    if (!ev.target.dataset.key) sync();
  });
  form.addEventListener("input", (ev) => {
    if (ev.target === candidates || ev.target === free) sync();
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (paper.checked) {
      run(submit, async () => {
        await post("/api/polls/paper", paperBody());
        paper.checked = false;
        sync();
      });
      return;
    }
    const body = spec();
    if (duration.value.trim()) body.duration_s = Number(duration.value);
    if (body.kind === "motion" && amend.value) {
      // Bổ sung, điều chỉnh chương trình: applied to the agenda when the motion passes.
      body.amend = amend.value === "add"
        ? { action: "add", title: amendTitle.value.trim() }
        : { action: "change", item: Number(amend.value), title: amendTitle.value.trim() };
    }
    if (!isSecret()) {
      if (correction.checked) body.allow_correction = true;
      if (showLive.checked) body.show_live = true;
    }
    run(submit, async () => {
      await post(preparing ? "/api/polls/prepared" : "/api/polls", body);
      if (preparing) toast(t("poll_prepared_ok"), "ok");
    });
  });

  /** Agenda items change during a sitting: keep the item and amendment choices current. */
  function refresh(state) {
    const items = state?.agenda || [];
    const sig = JSON.stringify(items.map((it) => [it.n, it.title]));
    if (form.dataset.agenda === sig) return;
    form.dataset.agenda = sig;
    const keepItem = item.value || String(state?.sitting?.current_item || "");
    const keepAmend = amend.value;
    fill(item, el("option", { value: "", text: t("poll_item_none") }),
      items.map((it) => el("option", { value: String(it.n), text: `${it.n}. ${it.title}` })));
    item.value = keepItem;
    fill(amend, el("option", { value: "", text: t("poll_amend_none") }), el("option", { value: "add", text: t("poll_amend_add") }),
      items.map((it) => el("option", { value: String(it.n), text: t("poll_amend_change", { n: it.n, title: it.title }) })));
    amend.value = keepAmend;
  }
  sync();
  return { node: form, refresh };
}

function answerText(code) {
  const key = `ans_${code}`;
  const text = t(key);
  return text === key ? code : text;
}

/** Prepared polls of the current item (and those for no item): one tap opens one. */
export function preparedList(state, { pollOpen }) {
  const cur = state.sitting?.current_item ?? null;
  const rows = (state.prepared || []).filter((p) => p.item == null || p.item === cur);
  if (!(state.prepared || []).length) return null;
  // A series is voted in order: a step waits until the step before it stands closed.
  const closed = (id) => (state.polls || []).some((x) => x.id === id && x.status === "closed" && !x.annulled);
  const waiting = (p) => {
    if (!p.series || p.step <= 1) return false;
    const before = (state.prepared || []).find((q) => q.series === p.series && q.step === p.step - 1);
    return Boolean(before) && !before.used_by.some(closed);
  };
  return el("section", { class: "card prepared-card", "data-testid": "prepared" },
    el("h2", { text: t("prepared_title") }),
    rows.length
      ? el("ul", { class: "prepared-list" },
          rows.map((p) => el("li", { class: `prepared-row${p.used ? " used" : ""}`, "data-prepared": p.id },
            el("div", {},
              el("div", { text: p.question }),
              el("div", { class: "prepared-meta", text: [
                t(`kind_${p.kind || "motion"}`), t(`method_${p.method || "public"}`),
                p.series ? t("prepared_step", { n: p.step }) : null, p.item ? t("prepared_for_item", { n: p.item }) : null,
              ].filter(Boolean).join(" · ") })),
            p.used
              ? el("span", { class: "muted", text: t("prepared_used") })
              : el("button", { type: "button", class: "btn primary", text: t("prepared_open"), disabled: pollOpen || waiting(p),
                  "data-testid": "open-prepared",
                  onclick: (e) => run(e.currentTarget, () => post(`/api/polls/prepared/${encodeURIComponent(p.id)}/open`, {})) }))))
      : el("p", { class: "muted", text: t("prepared_none") }));
}

/** Annul a poll with a reason; an electronic poll is voted again at once, a paper one is re-entered. */
export function annulBox(poll) {
  if (poll.annulled) return null;
  const repeat = poll.source !== "paper";
  const reason = el("input", { type: "text", "data-testid": "annul-reason", placeholder: t("annul_reason"), maxlength: "1000" });
  return el("div", { class: "annul-box" },
    el("label", { class: "field-label", text: t("annul_reason") }), reason,
    twoTap({ class: "btn danger", "data-testid": "annul", text: repeat ? t("annul") : t("annul_only") }, t("annul_confirm"), async () => {
      if (!reason.value.trim()) {
        toast(t("annul_reason_needed"));
        return;
      }
      await post(`/api/polls/${encodeURIComponent(poll.id)}/annul`, { reason: reason.value.trim(), repeat });
    }));
}

const built = new Map(); // mode -> {form, lang}

/** The form of a mode, rebuilt only when the language changes; refreshed with the agenda. */
export function chairPollForm(state, mode = "chair") {
  let entry = built.get(mode);
  if (!entry || entry.lang !== getLang()) {
    entry = { form: pollForm({ mode }), lang: getLang() };
    built.set(mode, entry);
  }
  entry.form.refresh(state);
  return entry.form.node;
}
