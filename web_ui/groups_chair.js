// The chair's discussion groups card: form groups for the current item (from the delegate
// teams, by hand — names, members, conveners — or evenly by seat, with a time limit),
// close and reopen them, read the conclusions side by side and put them on the hall display.
// The chair never sees the discussions unless the body allows it (the secretary's switch,
// web_ui/groups_settings.js; the server decides, the card shows what it is given).
import { post, serverNow } from "./api.js";
import { el, fill, formatDuration, personName, run, toast } from "./app.js";
import "./groups_i18n.js";
import { manualGroups, manualPart, manualState, resetManual } from "./groups_manual.js";
import { getLang, t } from "./i18n.js";

let form = null;
let formLang = null;

function buildForm() {
  const mode = el("select", { name: "mode", "data-testid": "group-mode" },
    el("option", { value: "teams", text: t("group_mode_teams") }),
    el("option", { value: "manual", text: t("group_mode_manual") }),
    el("option", { value: "split", text: t("group_mode_split") }));
  const count = el("input", { type: "number", name: "count", min: "1", max: "100", value: "4" });
  const minutes = el("input", { type: "number", name: "minutes", min: "1", max: "480", value: "15" });
  const manual = manualPart();
  const countLabel = el("label", {}, t("group_count"), count);
  const f = el("form", { class: "group-form" },
    el("label", {}, t("group_mode"), mode),
    countLabel,
    el("label", {}, t("group_minutes"), minutes),
    manual,
    el("button", { type: "submit", class: "btn primary", "data-testid": "create-groups", text: t("group_create_btn") }));
  const showMode = () => {
    countLabel.hidden = mode.value !== "split";
    manual.hidden = mode.value !== "manual";
  };
  mode.addEventListener("change", showMode);
  showMode();
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { mode: mode.value, duration_s: Math.round(Number(minutes.value || 15) * 60) };
    if (mode.value === "split") body.count = Number(count.value || 2);
    if (mode.value === "manual") body.groups = manualGroups();
    const item = f.dataset.item ? Number(f.dataset.item) : null;
    if (item) body.item = item;
    run(f.querySelector("[type=submit]"), async () => {
      const made = await post("/api/groups", body);
      toast(t("group_created", { n: made.groups.length }), "ok");
      if (mode.value === "manual") resetManual();
      f.closest("details")?.removeAttribute("open");
    });
  });
  return f;
}

function groupRow(state, g) {
  const open = g.status === "open" && !(g.closes_at && serverNow() >= g.closes_at);
  const status = g.status !== "open" ? t("group_closed") : open ? t("group_open") : t("group_time_up");
  return el("div", { class: "group-chair-row", "data-testid": `chair-group-${g.id}` },
    el("div", { class: "group-row-name", text: g.name }),
    el("div", { class: "group-row-meta" },
      el("span", { class: `group-status group-${g.status !== "open" ? "closed" : open ? "open" : "time_up"}`, text: status }),
      g.status === "open" && g.closes_at
        ? el("span", { class: "group-countdown", "data-closes": String(g.closes_at), text: formatDuration(g.closes_at - serverNow()) })
        : null,
      el("span", { class: "muted", text: t("group_members", { n: g.members.length }) }),
      el("span", { class: "muted", text: `${t("group_convener")}: ${personName(state, g.convener)}` }),
      g.message_count !== undefined ? el("span", { class: "muted", text: t("group_messages_n", { n: g.message_count }) }) : null),
    g.conclusions ? el("div", { class: "group-chair-conclusions", text: g.conclusions }) : null,
    el("div", { class: "group-chair-actions" },
      g.status === "open"
        ? el("button", { type: "button", class: "btn", text: t("group_close_btn"),
            onclick: (e) => run(e.currentTarget, () => post(`/api/groups/${encodeURIComponent(g.id)}/close`, {})) })
        : el("button", { type: "button", class: "btn", text: t("group_reopen_btn"),
            onclick: (e) => run(e.currentTarget, () => post(`/api/groups/${encodeURIComponent(g.id)}/reopen`, {})) })));
}

/** Render into #groups-chair on every update of the console. */
export function renderGroupsChair(state) {
  const card = document.querySelector("#groups-chair");
  if (!card) return;
  if (!form || formLang !== getLang()) {
    form = buildForm();
    formLang = getLang();
  }
  form.dataset.item = state.sitting?.current_item ? String(state.sitting.current_item) : "";
  manualState(state);
  const board = state.groups || { groups: [] };
  const groups = board.groups || [];
  const presenting = Boolean(board.present_conclusions);
  const anyConclusions = groups.some((g) => g.conclusions);
  const details = card.querySelector("details") || el("details", { class: "group-create" }, el("summary", { text: t("group_create") }));
  if (form.parentNode !== details) {
    details.querySelector("form")?.remove(); // the form of the previous language
    details.querySelector("summary").textContent = t("group_create");
    details.append(form);
  }
  details.open = details.open || !groups.length;
  fill(card,
    el("h2", { text: t("groups") }),
    details,
    groups.length ? groups.map((g) => groupRow(state, g)) : el("p", { class: "muted", text: t("group_none") }),
    el("p", { class: "muted group-chair-setting", "data-testid": "chair-sees-setting",
      text: t(board.chair_sees_group_messages ? "group_chair_sees_on" : "group_chair_sees_off") }),
    anyConclusions || presenting
      ? el("button", { type: "button", class: `btn wide${presenting ? "" : " primary"}`, "data-testid": "present-conclusions",
          text: presenting ? t("group_unpresent") : t("group_present"),
          onclick: (e) => run(e.currentTarget, () => post("/api/group-conclusions/present", { show: !presenting })) })
      : null);
}

/** The hall display's stage when the chair presents the conclusions, else null. */
export function conclusionsStage(state) {
  const board = state.groups;
  if (!board?.present_conclusions || !(board.presented || []).length) return null;
  return el("section", { class: "display-card display-conclusions", "data-testid": "display-conclusions" },
    el("h2", { text: t("group_conclusions_title") }),
    el("div", { class: "display-conclusions-grid" },
      board.presented.map((g) => el("article", { class: "display-conclusion" }, el("h3", { text: g.name }), el("p", { text: g.conclusions })))));
}

setInterval(() => {
  for (const node of document.querySelectorAll(".groups-chair .group-countdown[data-closes]"))
    node.textContent = formatDuration(Number(node.dataset.closes) - serverNow());
}, 1000);
