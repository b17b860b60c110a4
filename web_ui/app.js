// Shared page plumbing: DOM helpers, the header, the language toggle, toasts, and
// `boot()` which checks the credential, opens the live channel and re-renders.
import { wipeOffline } from "./offline.js";
import { ApiError, get } from "./api.js";
import { applyI18n, getLang, setLang, t } from "./i18n.js";
import { Live } from "./live.js";

/** Build an element. attrs: class, text, dataset via data-*, on* handlers, other attributes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "disabled" || k === "checked" || k === "selected") node[k] = Boolean(v);
    else if (k === "value") node.value = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** Replace a container's children. */
export function fill(container, ...children) {
  container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

export function pageForRole(role) {
  switch (role) {
    case "chair":
    case "vice_chair":
      return "/ui/chair.html";
    case "secretary":
      return "/ui/secretary.html";
    case "technician":
      return "/ui/secretary.html?tech";
    case "display":
      return "/ui/display.html";
    default:
      return "/ui/delegate.html";
  }
}

export function participantsById(state) {
  const map = new Map();
  for (const p of state?.participants || []) map.set(p.id, p);
  return map;
}

export function personName(state, id) {
  return participantsById(state).get(id)?.name || id || t("none");
}

export const roleLabel = (role) => t(`role_${role}`);

const DEFAULT_ANSWER_KEYS = new Set(["for", "against", "abstain", "not_voted", "high", "trust", "low", "no_trust"]);

/** An answer code's label: the body's own labels in Vietnamese, our dictionary otherwise. */
export function answerLabel(state, code) {
  const labels = state?.body?.labels || {};
  if (getLang() === "vi" && labels[code]) return labels[code];
  if (DEFAULT_ANSWER_KEYS.has(code)) return t(`ans_${code}`);
  return labels[code] || code;
}

export function isDelegateRole(role) {
  return role === "chair" || role === "vice_chair" || role === "delegate";
}

export function sittingStatusLabel(sitting) {
  if (!sitting) return t("sitting_none");
  return t(`sitting_${sitting.status}`);
}

export function formatTime(epochSeconds) {
  if (!epochSeconds) return "";
  const d = new Date(epochSeconds * 1000);
  return d.toLocaleTimeString(getLang() === "vi" ? "vi-VN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const mm = String(m % 60).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

// ---- toasts -------------------------------------------------------------------------

export function toast(message, kind = "error") {
  let box = $("#toasts");
  if (!box) {
    box = el("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const item = el("div", { class: `toast toast-${kind}`, text: message });
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 7000 : 3500);
}

export function errorText(err) {
  return err instanceof ApiError ? err.text() : t("error_generic");
}

/** Run an async action from a button: disabled while running, errors shown as toasts. */
export async function run(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (err) {
    toast(errorText(err));
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- header and language -----------------------------------------------------------

export function wireLangToggle(onChange) {
  for (const btn of document.querySelectorAll("[data-lang-toggle]")) {
    btn.addEventListener("click", () => {
      setLang(getLang() === "vi" ? "en" : "vi");
      applyI18n();
      onChange?.();
    });
  }
}

function setConnection(online) {
  const badge = $("#conn");
  if (!badge) return;
  badge.hidden = online;
  badge.textContent = t("offline");
}

/**
 * Start a screen: check the credential (unpaired -> pairing page), open the live channel
 * and call render(state, me, changed) on every change and on a language switch.
 */
export async function boot({ render, allowRoles = null }) {
  const lang = new URLSearchParams(location.search).get("lang");
  if (lang === "vi" || lang === "en") setLang(lang); // a kiosk display is started with ?lang=
  applyI18n();
  let me;
  try {
    me = await get("/api/me");
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.code === "not_paired")) {
      await wipeOffline(); // an unpaired tablet keeps no page of the sitting
      location.replace("/ui/index.html");
      return null;
    }
    toast(errorText(err));
    setTimeout(() => location.reload(), 5000);
    return null;
  }
  if (allowRoles && !allowRoles.includes(me.role)) {
    location.replace(pageForRole(me.role));
    return null;
  }
  const live = new Live({
    onState: (state, changed) => safeRender(render, state, me, changed),
    onStatus: setConnection,
    onUnpaired: () => wipeOffline().finally(() => location.replace("/ui/index.html")),
    // A refused WebSocket looks like any drop; after a few, ask whether we are still paired.
    onRetry: (n) => {
      if (n >= 3 && n % 3 === 0)
        get("/api/me").catch((err) => {
          if (err instanceof ApiError && err.status === 401) wipeOffline().finally(() => location.replace("/ui/index.html"));
        });
    },
  });
  wireLangToggle(() => live.state && safeRender(render, live.state, me, null));
  live.start();
  return { me, live };
}

function safeRender(render, state, me, changed) {
  try {
    render(state, me, changed);
  } catch (err) {
    console.error(err);
  }
}

/** The poll currently open, if any (the newest). */
export function openPoll(state) {
  const polls = state?.polls || [];
  for (let i = polls.length - 1; i >= 0; i--) if (polls[i].status === "open") return polls[i];
  return null;
}

/** The most recently closed poll, if any. */
export function lastClosedPoll(state) {
  const polls = state?.polls || [];
  for (let i = polls.length - 1; i >= 0; i--) if (polls[i].status === "closed" && polls[i].result) return polls[i];
  return null;
}

export function currentItem(state) {
  const n = state?.sitting?.current_item;
  if (!n) return null;
  return (state.agenda || []).find((it) => it.n === n) || null;
}

/** Delegates of the body (they vote and count toward quorum). */
export function bodyTotal(state) {
  return state?.attendance?.total ?? state?.body?.total_delegates ?? 0;
}
