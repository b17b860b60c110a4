// The PIN before voting (when the body asks it): while a poll is open and this tablet has
// not given its delegate's PIN for it, a PIN pad covers the screen. The box checks the
// PIN (the delegate's check-in PIN) and then takes this tablet's ballot for that poll.
import { ApiError, get, post } from "./api.js";
import { el, errorText } from "./app.js";
import { applyI18n, t } from "./i18n.js";
import "./trust_i18n.js";

if (!document.querySelector('link[href="/ui/trust.css"]'))
  document.head.append(el("link", { rel: "stylesheet", href: "/ui/trust.css" }));

let overlay = null;
let asking = null; // poll id the pad is asking for

function close() {
  overlay?.remove();
  overlay = null;
  asking = null;
}

function ask(pollId) {
  if (asking === pollId) return;
  close();
  asking = pollId;
  const input = el("input", { id: "vote-pin", type: "password", inputmode: "numeric", autocomplete: "off", maxlength: "8", class: "code-input", "aria-label": t("vote_pin_label") });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", class: "btn primary big", text: t("vote_pin_submit") });
  const form = el(
    "form",
    { class: "card vote-pin-card" },
    el("h2", { text: t("vote_pin_title") }),
    el("p", { class: "lead", text: t("vote_pin_lead") }),
    input,
    error,
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    try {
      const res = await post("/api/pairing/vote-pin", { poll_id: pollId, pin: input.value.trim() });
      if (res.unlocked.includes(pollId)) close();
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
      input.select();
    } finally {
      submit.disabled = false;
    }
  });
  overlay = el("div", { class: "vote-pin-overlay", "data-testid": "vote-pin" }, form);
  document.body.append(overlay);
  input.focus();
}

async function check() {
  let status;
  try {
    status = await get("/api/pairing/vote-pin");
  } catch (err) {
    if (err instanceof ApiError && (err.status === 403 || err.status === 401)) return false; // cannot vote here
    return true;
  }
  const waiting = status.required ? status.open.find((id) => !status.unlocked.includes(id)) : undefined;
  if (waiting) ask(waiting);
  else close();
  return true;
}

async function loop() {
  applyI18n();
  if (await check()) setInterval(check, 2000);
}

loop();
