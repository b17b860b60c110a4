// The chair's warning (chair.html): quorum lost while a poll is open. The poll goes on
// (the rule is judged at close, with `quorum_at_close`), but the chair must know at once.
import { el, openPoll } from "./app.js";
import { t } from "./i18n.js";
import { onLiveState } from "./seating_common.js";
import "./seating_i18n.js";

if (!document.querySelector('link[href="/ui/seating.css"]'))
  document.head.append(el("link", { rel: "stylesheet", href: "/ui/seating.css" }));

/** The warning text, or null: a poll is open and present delegates fell below quorum. */
export function quorumWarning(state) {
  const a = state?.attendance || {};
  if (!openPoll(state) || a.quorum || !a.total) return null;
  return t("quorum_lost_poll", { present: a.present ?? 0, needed: a.needed ?? "—" });
}

let banner = null;
onLiveState((state) => {
  const text = quorumWarning(state);
  if (!text) {
    banner?.remove();
    banner = null;
    return;
  }
  if (!banner) {
    banner = el("div", { class: "quorum-alert", role: "alert", "data-testid": "quorum-alert" });
    const header = document.querySelector("header");
    header ? header.after(banner) : document.body.prepend(banner);
  }
  banner.textContent = text;
});
