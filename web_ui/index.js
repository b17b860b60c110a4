// Pairing / start page: a paired device goes straight to its screen; otherwise the
// delegate types the 6-digit code (or arrives with ?code= from the QR card).
import { ApiError, get, post } from "./api.js";
import { keepDeviceKey, makeDeviceKey } from "./device_key.js";
import { $, errorText, pageForRole, wireLangToggle } from "./app.js";
import { applyI18n, t } from "./i18n.js";

const form = $("#pair-form");
const input = $("#code");
const error = $("#pair-error");
const status = $("#pair-status");
const submit = $("#pair-submit");

function showError(msg) {
  error.textContent = msg;
  error.hidden = !msg;
}

function showForm() {
  status.hidden = true;
  form.hidden = false;
  input.focus();
}

const CARD = /^[A-Z2-9]{16}$/; // a seat card's one-time code (pairing/cards.py)

async function pair(code) {
  showError("");
  if (!/^[0-9]{6}$/.test(code) && !CARD.test(code)) {
    showError(t("pair_need_6"));
    return;
  }
  submit.disabled = true;
  submit.textContent = t("pair_working");
  try {
    // A key made here and kept only on this tablet: the box then refuses this credential
    // from anywhere else (device_key.js).
    const made = await makeDeviceKey();
    const res = await post("/api/pair", made ? { code, device_key: made.publicKey } : { code });
    await keepDeviceKey(made);
    status.hidden = false;
    status.textContent = t("pair_done", { name: res.participant?.name || "" });
    form.hidden = true;
    location.replace(pageForRole(res.role || res.participant?.role));
  } catch (err) {
    showForm();
    showError(errorText(err));
    input.select();
  } finally {
    submit.disabled = false;
    submit.textContent = t("pair_submit");
  }
}

async function start() {
  applyI18n();
  wireLangToggle();
  const params = new URLSearchParams(location.search);
  const card = (params.get("card") || "").toUpperCase().replace(/[^A-Z0-9]/g, "");
  const code = card || (params.get("code") || "").replace(/\D/g, "");
  if (code) {
    // Drop the code from the address bar: it is single-use and should not linger.
    history.replaceState(null, "", location.pathname);
    input.value = card ? "" : code;
    await pair(code);
    return;
  }
  try {
    const me = await get("/api/me");
    location.replace(pageForRole(me.role));
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) showError(errorText(err));
    showForm();
  }
}

input.addEventListener("input", () => {
  const digits = input.value.replace(/\D/g, "").slice(0, 6);
  if (digits !== input.value) input.value = digits;
  showError("");
});
form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  pair(input.value.trim());
});

start();
