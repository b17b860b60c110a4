// The secretary's switch for the body's setting `chair_sees_group_messages`: whether the
// chair may read the discussion groups' messages (off by default). Setting it needs
// `session.manage`, which the chair does not hold; the chair's card only says how it stands.
import { get, post } from "./api.js";
import { el, fill, run, toast } from "./app.js";
import "./groups_i18n.js";
import { t } from "./i18n.js";
import { Live } from "./live.js";

if (!document.querySelector('link[href="/ui/groups.css"]'))
  document.head.append(el("link", { rel: "stylesheet", href: "/ui/groups.css" }));

function card() {
  let node = document.getElementById("groups-settings");
  if (!node) {
    node = el("section", { class: "card content-only", id: "groups-settings", "data-testid": "groups-settings" });
    (document.querySelector("main") || document.body).append(node);
  }
  return node;
}

let shown = null;
let allowed = null; // only a device holding session.manage sees the switch


function render(state) {
  const board = state?.groups;
  if (!board || !allowed) return;
  const key = JSON.stringify([board.chair_sees_group_messages, document.documentElement.lang]);
  if (key === shown) return;
  shown = key;
  const box = el("input", { type: "checkbox", role: "switch", "data-testid": "chair-sees-group-messages",
    checked: Boolean(board.chair_sees_group_messages) });
  box.addEventListener("change", () => run(box, async () => {
    try {
      await post("/api/group-settings", { chair_sees_group_messages: box.checked });
      toast(t("group_settings_saved"), "ok");
    } catch (err) {
      box.checked = !box.checked; // as the server still has it
      throw err;
    }
  }));
  fill(card(),
    el("h2", { text: t("group_settings_title") }),
    el("label", { class: "group-settings-switch" }, box, t("group_chair_sees")),
    el("p", { class: "muted", text: t("group_chair_sees_help") }));
}

/** Follow the page's live channel once it exists (boot() opens it). */
function attach() {
  const live = Live.current;
  if (!live) {
    setTimeout(attach, 100);
    return;
  }
  const previous = live.onState;
  live.onState = (state, changed) => {
    previous(state, changed);
    if (!changed || changed.includes("groups")) render(state);
  };
  if (live.state) render(live.state);
}
get("/api/me").then((me) => {
  allowed = (me.permissions || []).includes("session.manage");
  if (allowed) attach();
}, () => {});
document.addEventListener("click", (ev) => {
  if (ev.target.closest?.("[data-lang-toggle]")) setTimeout(() => { shown = null; render(Live.current?.state); }, 0);
});
