// The hall display's seating view (display.html?view=seating, the view `phs devices`
// assigns to an output): the plan with who is present, speaking and waiting, live. After
// a PUBLIC poll closes, each seat takes the colour of its delegate's answer; a secret
// poll's result carries no per-delegate answers, so it can never colour a seat.
import { get } from "./api.js";
import { $, answerLabel, el, fill, isDelegateRole, lastClosedPoll } from "./app.js";
import { t } from "./i18n.js";
import { onLiveState, planBox, seatedBy, shortName } from "./seating_common.js";
import "./seating_i18n.js";

const VIEW = new URLSearchParams(location.search).get("view");

// The live `polls` section carries no per-delegate lists (500 names to every tablet at each
// close); the view loads the list of the poll it colours from GET /api/polls/{id}, once: a
// closed result never changes. null: the poll has no list (a paper poll), it colours nothing.
const perDelegateRows = new Map(); // poll id -> rows | null
const loading = new Set(); // poll ids being fetched
let latest = null; // the newest live state, to redraw with once a list arrives

/** The closed public poll whose answers colour the seats, if any (the one shown on the hall view). */
export function colouringPoll(state) {
  const poll = lastClosedPoll(state);
  if (!poll || poll.method !== "public" || poll.annulled) return null;
  const cur = state.sitting?.current_item;
  if (poll.item != null && poll.item !== cur) return null;
  return poll;
}

/** The poll's per-delegate rows: in the result itself, already loaded, or undefined (not yet). */
function votesOf(poll) {
  if (Array.isArray(poll.result?.per_delegate)) return poll.result.per_delegate;
  return perDelegateRows.get(poll.id);
}

function loadVotes(poll) {
  if (perDelegateRows.has(poll.id) || loading.has(poll.id)) return;
  loading.add(poll.id);
  get(`/api/polls/${encodeURIComponent(poll.id)}`).then((body) => {
    const rows = body?.poll?.result?.per_delegate;
    perDelegateRows.set(poll.id, Array.isArray(rows) ? rows : null);
    if (latest) render(latest);
  }).catch((err) => {
    console.error(err); // not cached: the next live update tries again
  }).finally(() => loading.delete(poll.id));
}

/** Each seat's state: speaking, waiting, present, absent, or empty; plus a vote. */
export function seatStates(state) {
  const present = new Set(state.attendance?.present_ids || []);
  const speaking = new Set((state.floor?.speaking || []).map((s) => s.participant_id));
  const waiting = new Set((state.floor?.queue || []).map((q) => q.participant_id));
  let poll = colouringPoll(state);
  const rows = poll ? votesOf(poll) : null;
  if (poll && rows === undefined) loadVotes(poll);
  if (!Array.isArray(rows)) poll = null; // seats show presence until the list is here
  const votes = new Map((rows || []).map((v) => [v.participant_id, v.answer]));
  const out = new Map();
  for (const [seat, p] of seatedBy(state)) {
    const status = speaking.has(p.id) ? "speaking" : waiting.has(p.id) ? "waiting" : present.has(p.id) ? "present" : "absent";
    out.set(seat, { p, status: isDelegateRole(p.role) || status !== "absent" ? status : "guest", vote: poll ? votes.get(p.id) || "not_voted" : null });
  }
  return { seats: out, poll };
}

function render(state) {
  latest = state;
  const main = $("#seating-view");
  if (!main) return;
  const seating = state.seating || { seats: [] };
  const { seats, poll } = seatStates(state);
  const a = state.attendance || {};
  const legend = ["present", "absent", "speaking", "waiting", "empty"].map((k) =>
    el("span", { class: "seat-legend-item" }, el("span", { class: `seat-swatch seat-state-${k}` }), t(`seat_legend_${k}`)));
  const answers = poll ? [...(poll.answers || []), "not_voted"] : [];
  fill(main,
    el("div", { class: "seat-view-head" },
      el("h1", { text: t("seat_plan") }),
      el("div", { class: `seat-quorum ${a.quorum ? "seat-quorum-ok" : "seat-quorum-no"}`, "data-testid": "seat-view-quorum",
        text: `${a.present ?? 0}/${a.total ?? 0} · ${a.quorum ? t("quorum_ok") : t("quorum_no")}` })),
    seating.seats?.length
      ? planBox(seating, (seat) => {
          const info = seats.get(seat.n);
          const cls = info ? (info.vote ? `seat-vote-${info.vote}` : `seat-state-${info.status}`) : "seat-state-empty";
          return el("div", { class: `seat seat-${seat.kind} ${cls}`, "data-testid": `view-seat-${seat.n}`,
            "data-state": info ? info.status : "empty", "data-vote": info?.vote || "" },
            el("span", { class: "seat-n", text: String(seat.n) }),
            info ? el("span", { class: "seat-name", text: shortName(info.p.name) }) : null);
        }, { "data-testid": "seat-view-plan" })
      : el("p", { class: "muted", text: t("seat_empty_plan") }),
    el("div", { class: "seat-legend" },
      poll
        ? [el("span", { class: "seat-legend-title", text: t("seat_votes_of", { q: poll.question }) }),
           ...answers.map((k) => el("span", { class: "seat-legend-item" }, el("span", { class: `seat-swatch seat-vote-${k}` }), answerLabel(state, k)))]
        : legend));
}

if (VIEW === "seating") {
  document.body.classList.add("display-seating");
  const main = el("main", { id: "seating-view", class: "seating-view", "data-testid": "seating-view" });
  const existing = document.querySelector(".display-main");
  if (existing) existing.hidden = true;
  (existing?.parentNode || document.body).insertBefore(main, existing || null);
  if (!document.querySelector('link[href="/ui/seating.css"]'))
    document.head.append(el("link", { rel: "stylesheet", href: "/ui/seating.css" }));
  onLiveState((state) => render(state));
}
