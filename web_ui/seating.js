// The secretary's seating editor (secretary.html): build the hall from sections, seat
// people by drag-and-drop (or tap a name, then a seat, on a touch screen), wire each seat
// to its microphone unit (tap a seat with no name picked), import the delegate list from
// Excel/CSV, and the check-in rules. Rules live on the server
// (appliance/meeting/seating.py); this module only sends what the secretary did.
import { api, post } from "./api.js";
import { $, el, errorText, fill, roleLabel, run, toast } from "./app.js";
import { t } from "./i18n.js";
import { onLiveState, planBox, seatedBy, shortName } from "./seating_common.js";
import "./seating_i18n.js";

if (!document.querySelector('link[href="/ui/seating.css"]'))
  document.head.append(el("link", { rel: "stylesheet", href: "/ui/seating.css" }));

const SEATABLE = new Set(["chair", "vice_chair", "delegate", "guest"]);
const FIELDS = {
  presidium: ["block", "seats"],
  rows: ["block", "rows", "per_row"],
  blocks: ["block", "blocks", "rows", "per_row"],
  arc: ["block", "rows", "per_row"],
};
let draft = null; // the sections being edited, before "Build the plan"
let selected = null; // participant id picked by a tap (touch screens have no drag)
let latest = null;
let dragging = false; // a live update must not replace the nodes under a drag in progress
let wiring = null; // {seat, value, error, node} while a seat's microphone unit is being set

function dragFrom(node, pid) {
  node.addEventListener("dragstart", (ev) => { dragging = true; ev.dataTransfer.setData("text/plain", pid); });
  node.addEventListener("dragend", () => { dragging = false; setTimeout(() => render(latest), 0); });
}

function seatable(p) {
  return SEATABLE.has(p.role) || String(p.role).startsWith("custom_");
}

async function assign(assignments) {
  try {
    await post("/api/seating/assign", { assignments });
  } catch (err) {
    toast(errorText(err));
  } finally {
    render(latest);
  }
}

/** Drop ``pid`` on ``seat``: an occupant swaps to the mover's old seat (or leaves it). */
function moveTo(state, pid, seat) {
  const bySeat = seatedBy(state);
  const mover = (state.participants || []).find((p) => p.id === pid);
  if (!mover || mover.seat === seat) return;
  const occupant = bySeat.get(seat);
  const moves = [{ participant_id: pid, seat }];
  if (occupant) moves.push({ participant_id: occupant.id, seat: mover.seat ?? null });
  assign(moves);
}

/** Seat number → unit for the seats wired to a unit other than their own number. */
function explicitUnits(seating) {
  const out = {};
  for (const seat of seating.seats || []) if (seat.unit && seat.unit !== String(seat.n)) out[String(seat.n)] = seat.unit;
  return out;
}

/** How many seats the draft's sections make; numbered 1..n once "start" is left out. */
function draftSeatCount(sections) {
  return sections.reduce((n, s) => n + (s.shape === "presidium" ? s.seats : (s.shape === "blocks" ? s.blocks : 1) * s.rows * s.per_row), 0);
}

async function saveUnit(seat, value) {
  const seating = latest?.seating || {};
  const units = explicitUnits(seating);
  if (value && value !== String(seat)) units[String(seat)] = value;
  else delete units[String(seat)]; // empty: the unit with the seat's own number
  try {
    // The same sections again: the plan keeps its seats, only the wiring changes.
    await post("/api/seating/plan", { sections: seating.sections, units });
    wiring = null;
    toast(t("seat_unit_saved", { n: seat, unit: value || String(seat) }), "info");
  } catch (err) {
    // A unit already wired to another seat, say: the server's own words, beside the field.
    if (wiring?.seat === seat) wiring = { ...wiring, value, error: errorText(err), node: null };
    else toast(errorText(err));
  }
  render(latest, true);
}

function unitForm() {
  if (wiring.node && wiring.node.dataset.lang === document.documentElement.lang) return wiring.node;
  const seat = wiring.seat;
  const input = el("input", { id: "seat-unit-input", "data-testid": "seat-unit-input", maxlength: "20", value: wiring.value,
    oninput: (ev) => { wiring.value = ev.currentTarget.value; } });
  const form = el("form", { class: "stack-form seat-unit-form", "data-testid": "seat-unit-form", "data-lang": document.documentElement.lang },
    el("h3", { text: t("seat_unit_of", { n: seat }) }),
    el("label", { class: "field-label", for: "seat-unit-input", text: t("seat_unit_label") }), input,
    el("div", { class: "form-row" },
      el("button", { type: "submit", class: "btn primary", "data-testid": "seat-unit-save", text: t("seat_unit_save") }),
      el("button", { type: "button", class: "btn", "data-testid": "seat-unit-cancel", text: t("seat_unit_cancel"),
        onclick: () => { wiring = null; render(latest, true); } })),
    wiring.error ? el("p", { class: "form-error", role: "alert", "data-testid": "seat-unit-error", text: wiring.error }) : null);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const button = form.querySelector("[type=submit]");
    run(button, () => saveUnit(seat, input.value.trim()));
  });
  wiring.node = form;
  setTimeout(() => input.focus(), 0);
  return form;
}

function openUnitForm(seat) {
  wiring = { seat: seat.n, value: seat.unit && seat.unit !== String(seat.n) ? seat.unit : "", error: "", node: null };
  render(latest, true);
}

function sectionRow(section, i) {
  const parts = FIELDS[section.shape].filter((f) => f !== "block").map((f) => `${t(`seat_${f === "seats" ? "count" : f}`)}: ${section[f]}`);
  return el("li", { class: "seat-section", "data-testid": `section-${i}` },
    el("span", { text: `${t(`seat_shape_${section.shape}`)}${section.block ? ` — ${section.block}` : ""} · ${parts.join(", ")}` }),
    el("button", { type: "button", class: "btn small", text: "✕", "aria-label": "remove",
      onclick: () => { draft.splice(i, 1); render(latest); } }));
}

function sectionForm() {
  const shape = el("select", { id: "seat-shape", "data-testid": "seat-shape" },
    Object.keys(FIELDS).map((s) => el("option", { value: s, text: t(`seat_shape_${s}`) })));
  const inputs = el("div", { class: "form-row seat-inputs" });
  const showInputs = () => {
    const keep = Object.fromEntries([...inputs.querySelectorAll("input")].map((i) => [i.name, i.value]));
    fill(inputs, FIELDS[shape.value].map((f) =>
      el("label", { class: "seat-field" },
        el("span", { class: "field-label", text: t(`seat_${f === "seats" ? "count" : f}`) }),
        el("input", { name: f, "data-testid": `seat-${f}`, inputmode: f === "block" ? "text" : "numeric",
          value: keep[f] ?? (f === "block" ? "" : f === "seats" ? "3" : f === "blocks" ? "2" : f === "rows" ? "3" : "8") }))));
  };
  shape.addEventListener("change", showInputs);
  showInputs();
  const form = el("form", { class: "stack-form", id: "seat-section-form" },
    el("label", { class: "field-label", text: t("seat_shape") }), shape, inputs,
    el("button", { type: "submit", class: "btn", "data-testid": "seat-add-section", text: t("seat_add_section") }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const section = { shape: shape.value };
    for (const input of inputs.querySelectorAll("input")) {
      if (input.name === "block") section.block = input.value.trim();
      else section[input.name] = Number(input.value);
    }
    draft.push(section);
    render(latest);
  });
  return form;
}

/** "Micro 40" on a seat wired to another unit than its number (the others need no label). */
function unitBadge(seat) {
  const badge = el("span", { class: "seat-unit muted", "data-testid": `seat-unit-${seat.n}`, text: t("seat_unit", { unit: seat.unit }) });
  badge.style.whiteSpace = "nowrap"; // CSSOM, not a style attribute: the CSP allows no inline styles
  badge.style.fontSize = "0.9em";
  return badge;
}

function seatNode(state, seat, occupant, present) {
  const node = el("div", {
    class: `seat seat-${seat.kind}${occupant ? " seat-taken" : ""}${occupant && present.has(occupant.id) ? " seat-present" : ""}`,
    "data-testid": `seat-${seat.n}`, "data-seat": String(seat.n), title: [t("seat_n", { n: seat.n }), occupant?.name, t("seat_unit", { unit: seat.unit })].filter(Boolean).join(" · "),
    draggable: occupant ? "true" : null,
  },
  el("span", { class: "seat-n", text: String(seat.n) }),
  occupant ? el("span", { class: "seat-name", text: shortName(occupant.name) }) : null,
  seat.unit && seat.unit !== String(seat.n) ? unitBadge(seat) : null);
  if (wiring?.seat === seat.n) node.classList.add("seat-over");
  if (occupant) dragFrom(node, occupant.id);
  node.addEventListener("dragover", (ev) => { ev.preventDefault(); node.classList.add("seat-over"); });
  node.addEventListener("dragleave", () => node.classList.remove("seat-over"));
  node.addEventListener("drop", (ev) => {
    ev.preventDefault();
    dragging = false; // dragend may come late (or, for a synthetic drag, not at all)
    node.classList.remove("seat-over");
    const pid = ev.dataTransfer.getData("text/plain");
    if (pid) moveTo(state, pid, seat.n);
  });
  node.addEventListener("click", () => {
    if (selected) {
      const pid = selected;
      selected = null;
      moveTo(state, pid, seat.n);
    } else {
      openUnitForm(seat);
    }
  });
  return node;
}

function unseatedList(state) {
  const people = (state.participants || []).filter((p) => seatable(p) && p.seat == null);
  const list = el("div", { class: "seat-unseated", "data-testid": "seat-unseated" },
    el("h3", { text: t("seat_unseated", { n: people.length }) }),
    people.length ? null : el("p", { class: "muted", text: t("seat_all_seated") }),
    el("ul", { class: "seat-chips" }, people.slice(0, 600).map((p) => {
      const chip = el("li", { class: `seat-chip${selected === p.id ? " selected" : ""}`, draggable: "true",
        "data-testid": `chip-${p.id}`, "data-participant": p.id, title: [p.title, roleLabel(p.role)].filter(Boolean).join(" · "),
        text: p.name });
      dragFrom(chip, p.id);
      chip.addEventListener("click", () => { selected = selected === p.id ? null : p.id; render(latest); });
      return chip;
    })));
  // Dropping a seated person back on the list unseats them.
  list.addEventListener("dragover", (ev) => ev.preventDefault());
  list.addEventListener("drop", (ev) => {
    ev.preventDefault();
    dragging = false;
    const pid = ev.dataTransfer.getData("text/plain");
    const p = (state.participants || []).find((x) => x.id === pid);
    if (p && p.seat != null) assign([{ participant_id: pid, seat: null }]);
  });
  return list;
}

function renderPlanCard(state) {
  const card = $("#seating-card");
  if (!card) return;
  const seating = state.seating || { seats: [] };
  if (draft === null) draft = (seating.sections || []).map((s) => ({ ...s }));
  const present = new Set(state.attendance?.present_ids || []);
  const bySeat = seatedBy(state);
  fill(card,
    el("div", { class: "card-head" },
      el("h2", { text: t("seat_plan") }),
      el("div", { class: "muted", "data-testid": "seat-total", text: seating.seats?.length ? t("seat_total", { n: seating.seats.length }) : "" })),
    el("div", { class: "seat-editor" },
      el("div", { class: "seat-sections" },
        el("h3", { text: t("seat_sections") }),
        el("ol", { class: "seat-section-list" }, draft.map(sectionRow)),
        sectionForm(),
        el("button", { type: "button", class: "btn primary", "data-testid": "seat-build", text: t("seat_build"), disabled: !draft.length,
          onclick: (ev) => run(ev.currentTarget, async () => {
            const sections = draft.map(({ start, ...rest }) => rest); // numbering follows the order
            // The wiring stays with the seat numbers the new plan still has.
            const count = draftSeatCount(sections);
            const units = Object.fromEntries(Object.entries(explicitUnits(seating)).filter(([n]) => Number(n) <= count));
            await post("/api/seating/plan", { sections, units });
            wiring = null;
          }) }),
        el("div", { class: "seat-actions" },
          el("button", { type: "button", class: "btn", "data-testid": "seat-auto", text: t("seat_auto"), disabled: !seating.seats?.length,
            onclick: (ev) => run(ev.currentTarget, () => post("/api/seating/auto", {})) }),
          el("a", { class: "btn", href: "/ui/seat-labels.html", target: "_blank", rel: "noopener", text: t("seat_print") }),
          el("a", { class: "btn", href: "/ui/seat-labels.html?cards", target: "_blank", rel: "noopener", text: t("checkin_cards_print") })),
        seating.seats?.length ? el("p", { class: "muted small", "data-testid": "seat-unit-hint", text: t("seat_unit_hint") }) : null),
      el("div", { class: "seat-canvas" },
        el("p", { class: "muted small", text: t("seat_hint") }),
        wiring && seating.seats?.some((s) => s.n === wiring.seat) ? unitForm() : null,
        unseatedList(state),
        seating.seats?.length
          ? planBox(seating, (seat) => seatNode(state, seat, bySeat.get(seat.n), present), { "data-testid": "seat-plan" })
          : el("p", { class: "muted", text: t("seat_empty_plan") }))));
}

// ---- import ----------------------------------------------------------------------------

let lastImport = null; // {file, result} of the last check, so questions can be answered

function importForm() {
  const file = el("input", { type: "file", name: "file", accept: ".xlsx,.csv", "data-testid": "import-file", required: true });
  const out = el("div", { class: "import-out", "data-testid": "import-out", role: "status" });
  const send = async (preview) => {
    if (!file.files?.length) return;
    const fd = new FormData();
    fd.append("file", file.files[0]);
    const answers = {};
    for (const input of out.querySelectorAll("input[type=radio]:checked")) answers[input.name.slice(2)] = input.value;
    if (Object.keys(answers).length) fd.append("answers", JSON.stringify(answers));
    if (preview) fd.append("preview", "1");
    try {
      const res = await api("POST", "/api/participants/import", fd);
      lastImport = null;
      fill(out, el("p", { class: "form-ok", text: preview ? t("import_preview_ok", { n: res.rows }) : t("import_ok", { n: res.imported }) }));
      if (!preview) file.value = "";
    } catch (err) {
      const detail = err?.detail || {};
      lastImport = detail;
      const problems = detail.problems || [];
      const questions = detail.questions || [];
      fill(out,
        problems.length ? [el("p", { class: "form-error", text: t("import_problems") }),
          el("ul", { class: "import-problems", "data-testid": "import-problems" },
            problems.map((p) => el("li", { "data-line": String(p.line) },
              el("b", { text: t("import_line", { line: p.line }) }), `: ${p.message} / ${p.message_en}`)))] : null,
        questions.length ? [el("p", { class: "form-error", text: t("import_questions") }),
          el("ul", { class: "import-questions", "data-testid": "import-questions" },
            questions.map((q) => el("li", {},
              el("div", { text: q.message }),
              el("label", { class: "check" }, el("input", { type: "radio", name: `q-${q.line}`, value: "same" }), t("import_same")),
              el("label", { class: "check" }, el("input", { type: "radio", name: `q-${q.line}`, value: "distinct" }), t("import_distinct")))))] : null,
        !problems.length && !questions.length ? el("p", { class: "form-error", text: errorText(err) }) : null);
    }
  };
  return el("div", { class: "stack-form" },
    el("p", { class: "muted small", text: t("import_hint") }), file,
    el("div", { class: "form-row" },
      el("button", { type: "button", class: "btn", "data-testid": "import-check", text: t("import_check"),
        onclick: (ev) => run(ev.currentTarget, () => send(true)) }),
      el("button", { type: "button", class: "btn primary", "data-testid": "import-do", text: t("import_do"),
        onclick: (ev) => run(ev.currentTarget, () => send(false)) })),
    out);
}

function renderImportCard(state) {
  const card = $("#import-card");
  if (!card || card.dataset.built === document.documentElement.lang) return;
  card.dataset.built = document.documentElement.lang; // built once per language: keeps the chosen file
  fill(card, el("h2", { text: t("import_title") }), importForm());
}

function renderRules(state) {
  const card = $("#checkin-rules-card");
  if (!card) return;
  const rules = state.check_in_rules || {};
  const toggle = (label, checked, testid, action) => el("label", { class: "check" },
    el("input", { type: "checkbox", "data-testid": testid, checked,
      onchange: (ev) => { const on = ev.currentTarget.checked; run(null, () => action(on)); } }), ` ${label}`);
  fill(card, el("h2", { text: t("checkin_rules") }),
    toggle(t("checkin_pin_required"), Boolean(rules.pin_required), "pin-required",
      (on) => post("/api/attendance/pin-rule", { required: on })),
    toggle(t("public_display_on"), Boolean(rules.public_display), "public-display",
      (on) => post("/api/public/enabled", { enabled: on })));
}

let drawn = ""; // what the cards were last drawn from: other sections' updates leave them alone

function render(state, force = false) {
  if (!state) return;
  latest = state;
  if (dragging) return; // drawn again on dragend
  const signature = JSON.stringify([state.seating, state.participants, state.attendance?.present_ids,
    state.check_in_rules, selected, draft, wiring?.seat, wiring?.error, document.documentElement.lang]);
  if (signature === drawn && !force) return;
  drawn = signature;
  renderPlanCard(state);
  renderImportCard(state);
  renderRules(state);
}

if (!new URLSearchParams(location.search).has("tech")) {
  onLiveState((state) => render(state));
  document.addEventListener("click", (ev) => {
    if (ev.target.closest?.("[data-lang-toggle]")) setTimeout(() => render(latest), 0);
  });
} else {
  for (const id of ["#seating-card", "#import-card", "#checkin-rules-card"]) if ($(id)) $(id).hidden = true;
}
