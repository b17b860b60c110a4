// Device trust on the secretary's and technician's screen (secretary.html, ?tech too):
// the pairing window, every paired device with its last contact, revocation with a
// second tap, printable seat cards, and the box CA fingerprint. Polls every 2 s.
import { ApiError, get, post } from "./api.js";
import { el, fill, run, toast } from "./app.js";
import { t } from "./i18n.js";
import "./trust_i18n.js";

if (!document.querySelector('link[href="/ui/trust.css"]'))
  document.head.append(el("link", { rel: "stylesheet", href: "/ui/trust.css" }));

const box = document.getElementById("trust-devices");
let armed = null; // device id waiting for the confirming tap
let fingerprint = null;
let last = null;
let canSetRule = false; // the secretary (session.manage) sets the PIN-before-voting rule

function ago(now, then) {
  if (!then) return t("trust_never");
  const s = Math.max(0, Math.round(now - then));
  if (s < 90) return t("trust_ago_s", { n: s });
  if (s < 5400) return t("trust_ago_m", { n: Math.round(s / 60) });
  return t("trust_ago_h", { n: Math.round(s / 3600) });
}

function deviceRow(d, now) {
  const revoke = d.revoked
    ? el("span", { text: t("trust_revoked") })
    : el("button", {
        type: "button",
        class: armed === d.id ? "btn danger" : "btn",
        "data-testid": `revoke-${d.id}`,
        text: armed === d.id ? t("trust_revoke_confirm") : t("trust_revoke"),
        onclick: (ev) => {
          if (armed !== d.id) {
            armed = d.id;
            render(last);
            return;
          }
          armed = null;
          run(ev.currentTarget, async () => {
            await post(`/api/pairing/devices/${encodeURIComponent(d.id)}/revoke`);
            toast(t("trust_revoked_toast", { name: d.name }), "ok");
            await refresh();
          });
        },
      });
  return el(
    "tr",
    { class: d.revoked ? "trust-row-revoked" : "", "data-testid": `device-${d.id}` },
    el("td", { text: d.seat ?? "—" }),
    el("td", {}, el("div", { text: d.name }), el("div", { class: "muted small", text: t(`role_${d.role}`) })),
    el("td", { text: ago(now, d.last_seen) }),
    el("td", {}, el("span", { class: "trust-dot", "data-live": String(d.connected) }), d.connected ? t("trust_live") : t("trust_offline")),
    el("td", { text: d.has_key ? t("trust_key_yes") : t("trust_key_no") }),
    el("td", { class: d.refused_without_key ? "trust-alarm" : "", text: String(d.refused_without_key || 0) }),
    el("td", {}, revoke),
  );
}

function render(data) {
  if (!data) return;
  const w = data.window;
  const windowLine = el("div", {
    class: "trust-window",
    "data-open": String(w.open),
    "data-testid": "pairing-window",
    text: w.open ? t("trust_window_open", { m: Math.floor(w.seconds_left / 60), s: w.seconds_left % 60 }) : t("trust_window_closed"),
  });
  const actions = el(
    "div",
    { class: "trust-actions" },
    w.open
      ? el("button", { type: "button", class: "btn", text: t("trust_close_window"), onclick: (ev) => run(ev.currentTarget, () => post("/api/pairing/window/close").then(refresh)) })
      : el("button", { type: "button", class: "btn primary", "data-testid": "open-window", text: t("trust_open_window"), onclick: (ev) => run(ev.currentTarget, () => post("/api/pairing/window", { minutes: 10 }).then(refresh)) }),
    el("button", { type: "button", class: "btn", "data-testid": "print-cards", text: t("trust_print_cards"), title: t("trust_cards_note"), onclick: (ev) => run(ev.currentTarget, printCards) }),
  );
  const rows = data.devices.map((d) => deviceRow(d, data.now));
  fill(
    box,
    el("div", { class: "trust-head" }, el("h2", { text: t("trust_title") }), actions),
    windowLine,
    canSetRule ? ruleToggle(data.vote_pin_required) : null,
    w.pairing_locked_s > 0 ? el("p", { class: "trust-locked", role: "alert", text: t("trust_locked", { m: Math.ceil(w.pairing_locked_s / 60) }) }) : null,
    rows.length
      ? el(
          "div",
          { class: "table-wrap" },
          el(
            "table",
            { class: "table", "data-testid": "trust-table" },
            el("thead", {}, el("tr", {}, ...["trust_col_seat", "trust_col_who", "trust_col_last", "trust_col_live", "trust_col_key", "trust_col_alarm", "actions"].map((k) => el("th", { text: t(k) })))),
            el("tbody", {}, rows),
          ),
        )
      : el("p", { class: "muted", text: t("trust_none") }),
    fingerprint ? el("p", { class: "trust-ca muted small" }, `${t("trust_ca")}: `, el("code", { text: fingerprint })) : null,
  );
}

function ruleToggle(required) {
  const box = el("input", { type: "checkbox", checked: required, "data-testid": "vote-pin-rule" });
  box.addEventListener("change", () =>
    run(box, () => post("/api/pairing/vote-pin-rule", { required: box.checked }).then(refresh)),
  );
  return el("label", { class: "trust-rule check" }, box, el("span", { text: t("trust_vote_pin_rule") }));
}

async function printCards() {
  const res = await post("/api/pairing/cards", {});
  let sheet = document.querySelector(".seat-cards");
  if (!sheet) {
    sheet = el("section", { class: "seat-cards", "aria-label": t("trust_print_title") });
    document.body.append(sheet);
  }
  const cards = res.cards.map((c) => {
    const qr = el("div", { class: "seat-card-qr" });
    qr.innerHTML = c.qr_svg; // SVG drawn by the box (segno), not user text
    const svg = qr.querySelector("svg");
    if (svg && !svg.getAttribute("viewBox")) {
      // Scale, never crop: the print size comes from the stylesheet.
      svg.setAttribute("viewBox", `0 0 ${svg.getAttribute("width")} ${svg.getAttribute("height")}`);
      svg.removeAttribute("width");
      svg.removeAttribute("height");
    }
    return el(
      "article",
      { class: "seat-card", "data-testid": "seat-card" },
      el("div", { class: "seat-card-seat", text: c.seat ? `${t("trust_col_seat")} ${c.seat}` : "" }),
      el("div", { class: "seat-card-name", text: c.name }),
      el("div", { class: "muted", text: c.title || t(`role_${c.role}`) }),
      qr,
      el("div", { class: "seat-card-note", text: `${t("trust_card_code")}: ${c.code.replace(/(.{4})(?=.)/g, "$1 ")}` }),
      el("div", { class: "seat-card-note", text: t("trust_card_scan") }),
    );
  });
  fill(sheet, cards);
  document.body.classList.add("printing-cards");
  const done = () => document.body.classList.remove("printing-cards");
  window.addEventListener("afterprint", done, { once: true });
  if (!navigator.webdriver) window.print();
}

async function refresh() {
  try {
    last = await get("/api/pairing/devices");
    box.hidden = false;
    render(last);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      box.hidden = true;
      return;
    }
    throw err;
  }
}

async function start() {
  if (!box) return;
  // The technician's screen leads with devices; the secretary's keeps its own work first.
  if (!new URLSearchParams(location.search).has("tech")) box.parentElement.append(box);
  try {
    canSetRule = (await get("/api/me")).permissions.includes("session.manage");
  } catch {
    canSetRule = false;
  }
  try {
    const info = await get("/api/tls/info");
    fingerprint = info.enabled ? info.fingerprint : null;
  } catch {
    fingerprint = null;
  }
  await refresh().catch(() => {});
  setInterval(() => refresh().catch(() => {}), 2000);
}

start();
