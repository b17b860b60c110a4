// Printable seat labels (the name card on each desk) and, with ?cards, check-in cards
// with a QR the entrance tablet scans. Opened from the secretary's seating editor.
import { ApiError, get } from "./api.js";
import { $, el, fill, roleLabel } from "./app.js";
import { applyI18n, t } from "./i18n.js";
import "./seating_i18n.js";

const CARDS = new URLSearchParams(location.search).has("cards");

/** Our own server's QR (an SVG string), kept to the SVG element alone. */
function qrNode(svgText) {
  const doc = new DOMParser().parseFromString(svgText || "", "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName.toLowerCase() !== "svg") return null;
  for (const bad of svg.querySelectorAll("script, foreignObject")) bad.remove();
  const node = document.importNode(svg, true);
  if (!node.getAttribute("viewBox")) {
    const w = parseFloat(node.getAttribute("width"));
    const h = parseFloat(node.getAttribute("height"));
    if (w && h) node.setAttribute("viewBox", `0 0 ${w} ${h}`);
  }
  node.removeAttribute("width");
  node.removeAttribute("height");
  node.setAttribute("class", "qr-svg");
  return node;
}

async function main() {
  applyI18n();
  const title = CARDS ? t("checkin_cards_print") : t("seat_labels_title");
  $("#labels-title").textContent = title;
  document.title = `${title} — Phòng họp số`;
  $("#labels-print").textContent = t("seat_labels_print");
  $("#labels-print").addEventListener("click", () => window.print());
  try {
    if (CARDS) {
      const { cards } = await get("/api/attendance/cards");
      fill($("#labels"), cards.map((c) => el("div", { class: "label-card", "data-testid": `card-${c.participant_id}` },
        el("div", { class: "label-seat", text: c.seat != null ? t("seat_n", { n: c.seat }) : "" }),
        el("div", { class: "label-name", text: c.name }),
        qrNode(c.qr_svg),
        el("div", { class: "label-code", text: c.code }))));
      return;
    }
    const state = await get("/api/state");
    const seated = (state.participants || []).filter((p) => p.seat != null).sort((a, b) => a.seat - b.seat);
    fill($("#labels"), seated.map((p) => el("div", { class: "label-card", "data-testid": `label-${p.seat}` },
      el("div", { class: "label-seat", text: t("seat_n", { n: p.seat }) }),
      el("div", { class: "label-name", text: p.name }),
      el("div", { class: "label-title", text: p.title || roleLabel(p.role) }))));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) location.replace("/ui/index.html");
    else fill($("#labels"), el("p", { class: "form-error", text: err.message }));
  }
}

main();
