// The chair's "by hand" group form (chia nhóm thủ công): name each group, put each delegate
// of the participant list in one, pick its convener (tổ trưởng). The plan lives in this
// module, so a live update or a language switch never loses what the chair has picked.
import { el, fill, isDelegateRole } from "./app.js";
import "./groups_i18n.js";
import { t } from "./i18n.js";

const plan = { rows: [{ name: "", convener: "" }, { name: "", convener: "" }], assign: new Map() }; // pid -> row index
let people = [];
let peopleKey = "";
let root = null;

const defaultName = (i) => t("group_manual_default", { n: i + 1 });
const nameOf = (i) => plan.rows[i].name.trim() || defaultName(i);
const membersOf = (i) => people.filter((p) => plan.assign.get(p.id) === i).map((p) => p.id);

function groupRow(i) {
  const row = plan.rows[i];
  const members = membersOf(i);
  if (row.convener && !members.includes(row.convener)) row.convener = "";
  const name = el("input", { type: "text", maxlength: "200", value: row.name, placeholder: defaultName(i),
    "aria-label": t("group_manual_name"), "data-testid": `manual-name-${i + 1}` });
  name.addEventListener("input", () => {
    row.name = name.value;
    // Relabel in place: rebuilding would take the field from under the chair's fingers.
    for (const option of root.querySelectorAll(`option[data-row="${i}"]`)) option.textContent = nameOf(i);
  });
  const convener = el("select", { "aria-label": t("group_convener"), "data-testid": `manual-convener-${i + 1}` },
    el("option", { value: "", text: t("group_manual_first") }),
    people.filter((p) => members.includes(p.id)).map((p) => el("option", { value: p.id, text: p.name, selected: p.id === row.convener })));
  convener.addEventListener("change", () => { row.convener = convener.value; });
  return el("div", { class: "group-manual-row", "data-testid": `manual-group-${i + 1}` },
    el("label", {}, t("group_manual_name"), name),
    el("label", {}, `${t("group_convener")} · ${t("group_members", { n: members.length })}`, convener),
    el("button", { type: "button", class: "btn", text: "✕", disabled: plan.rows.length <= 1,
      "aria-label": t("group_manual_remove", { name: nameOf(i) }),
      onclick: () => {
        plan.rows.splice(i, 1);
        for (const [pid, at] of plan.assign) {
          if (at === i) plan.assign.delete(pid);
          else if (at > i) plan.assign.set(pid, at - 1);
        }
        render();
      } }));
}

function personRow(p) {
  const at = plan.assign.get(p.id);
  const pick = el("select", { "aria-label": t("group_manual_pick", { name: p.name }), "data-testid": `manual-assign-${p.id}` },
    el("option", { value: "", text: t("group_manual_none") }),
    plan.rows.map((_, i) => el("option", { value: String(i), "data-row": String(i), text: nameOf(i), selected: at === i })));
  pick.addEventListener("change", () => {
    if (pick.value === "") plan.assign.delete(p.id);
    else plan.assign.set(p.id, Number(pick.value));
    render();
  });
  return el("li", { class: `group-manual-person${at === undefined ? "" : " picked"}` },
    el("span", { class: "group-manual-who" },
      el("b", { text: p.name }),
      el("span", { class: "muted", text: [p.seat ? t("group_manual_seat", { n: p.seat }) : "", p.team || ""].filter(Boolean).join(" · ") })),
    pick);
}

function render() {
  if (!root) return;
  const unplaced = people.filter((p) => !plan.assign.has(p.id)).length;
  fill(root,
    el("div", { class: "group-manual-rows" }, plan.rows.map((_, i) => groupRow(i))),
    el("button", { type: "button", class: "btn", "data-testid": "manual-add-group", text: `+ ${t("group_manual_add")}`,
      onclick: () => { plan.rows.push({ name: "", convener: "" }); render(); } }),
    el("div", { class: "group-manual-head" },
      el("b", { text: t("group_manual_people") }),
      el("span", { class: "muted", text: t("group_manual_unplaced", { n: unplaced }) })),
    el("ul", { class: "group-manual-people" }, people.map(personRow)));
}

/** The manual part of the form (built once per form). */
export function manualPart() {
  root = el("div", { class: "group-manual", "data-testid": "group-manual" });
  render();
  return root;
}

/** Follow the participant list (delegates only: groups are made of delegates). */
export function manualState(state) {
  const next = (state.participants || []).filter((p) => isDelegateRole(p.role));
  const key = JSON.stringify(next.map((p) => [p.id, p.name, p.seat, p.team]));
  if (key === peopleKey) return;
  peopleKey = key;
  people = next;
  for (const pid of [...plan.assign.keys()]) if (!people.some((p) => p.id === pid)) plan.assign.delete(pid);
  render();
}

/** The `groups` field of `POST /api/groups` in mode "manual". */
export function manualGroups() {
  return plan.rows.map((row, i) => {
    const g = { name: nameOf(i), members: membersOf(i) };
    if (row.convener) g.convener = row.convener;
    return g;
  });
}

/** After the groups were formed: start the next plan empty. */
export function resetManual() {
  plan.rows = [{ name: "", convener: "" }, { name: "", convener: "" }];
  plan.assign.clear();
  render();
}
