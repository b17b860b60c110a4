// Shared by the seating editor and the hall display's seating view: join the page's one
// live channel (no second WebSocket) and draw the plan as positioned seats.
import { el } from "./app.js";
import { Live } from "./live.js";

/** Call cb(state, changed) on every live update of the page's channel, once it exists. */
export function onLiveState(cb) {
  const attach = () => {
    const live = Live.current;
    if (!live) {
      setTimeout(attach, 100);
      return;
    }
    const previous = live.onState;
    live.onState = (state, changed) => {
      previous(state, changed);
      try {
        cb(state, changed);
      } catch (err) {
        console.error(err);
      }
    };
    if (live.state) cb(live.state, null);
  };
  attach();
}

/** Participants by seat number. */
export function seatedBy(state) {
  const map = new Map();
  for (const p of state.participants || []) if (p.seat != null) map.set(p.seat, p);
  return map;
}

/** A short label for a seat: the given name (the last word of a Vietnamese name). */
export function shortName(name) {
  const words = String(name || "").replace(/[()[\],.;]/g, " ").trim().split(/\s+/);
  return words.length ? words[words.length - 1] : "";
}

/**
 * The plan: a box keeping the plan's proportions, each seat positioned in percent.
 * seatNode(seat) returns the element for a seat; it gets its position here.
 */
export function planBox(seating, seatNode, attrs = {}) {
  const w = Math.max(1, seating.width || 1);
  const h = Math.max(1, seating.height || 1);
  const box = el("div", { class: "seat-plan", ...attrs });
  box.style.aspectRatio = `${w} / ${h}`; // CSSOM, not a style attribute: the CSP allows no inline styles
  box.style.setProperty("--ratio", String(w / h)); // the stylesheet caps the width so seats stay square
  for (const seat of seating.seats || []) {
    const node = seatNode(seat);
    node.style.left = `${(seat.x / w) * 100}%`;
    node.style.top = `${(seat.y / h) * 100}%`;
    node.style.width = `${(1 / w) * 100}%`;
    node.style.height = `${(1 / h) * 100}%`;
    box.append(node);
  }
  return box;
}
