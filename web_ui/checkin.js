// The entrance tablet (/ui/checkin.html, a secretary's device): a check-in card's QR held
// up to the camera, its code typed, or a keyboard-emulating USB card reader typing it
// into the focused field followed by Enter — each checks that delegate in. The camera's
// frames are decoded by checkin_qr.js (BarcodeDetector, else the vendored jsQR).
import { ApiError, get, post } from "./api.js";
import { $, el, errorText, fill } from "./app.js";
import { applyI18n, t } from "./i18n.js";
import "./seating_i18n.js";
import { readQr } from "./checkin_qr.js";

const PREFIX = "PHSDD"; // appliance/web/controllers/checkin.py
let busy = false;
let outlet = null; // where results are shown, once main() has built the page
const recent = new Map(); // code -> time: a card held in front of the camera is read many times

async function submit(code, out) {
  const text = String(code || "").trim();
  if (!text || busy || Date.now() - (recent.get(text) || 0) < 5000) return;
  busy = true;
  recent.set(text, Date.now());
  try {
    const res = await post("/api/attendance/card", { code: text });
    fill(out, el("p", { class: "form-ok", "data-testid": "checkin-ok",
      text: t("checkin_card_ok", { name: res.participant.name, seat: res.participant.seat ?? "—" }) }));
  } catch (err) {
    fill(out, el("p", { class: "form-error", text: errorText(err) }));
  } finally {
    busy = false;
  }
}

/** Read one frame (the camera's video, or any image element) and check in every card in it. */
export async function readFrame(source, out = outlet) {
  const codes = (await readQr(source)).filter((code) => code.startsWith(PREFIX));
  for (const code of codes) await submit(code, out);
  return codes;
}

async function camera(video, out) {
  if (!navigator.mediaDevices?.getUserMedia) {
    fill(out, el("p", { class: "muted", text: t("checkin_card_hint") }));
    return;
  }
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  await video.play();
  const scan = async () => {
    try {
      await readFrame(video, out);
    } catch { /* a frame that could not be read */ }
    setTimeout(scan, 300);
  };
  scan();
}

async function main() {
  applyI18n();
  try {
    await get("/api/me");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) location.replace("/ui/index.html");
  }
  const out = el("div", { role: "status", "data-testid": "checkin-result" });
  outlet = out;
  const input = el("input", { id: "card-code", "data-testid": "card-code", autocomplete: "off", autofocus: true });
  const video = el("video", { class: "checkin-video", muted: true, playsinline: true });
  const form = el("form", { class: "stack-form" },
    el("label", { class: "field-label", for: "card-code", text: t("checkin_card_code") }), input,
    el("button", { type: "submit", class: "btn primary", text: t("check_in") }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(input.value, out).then(() => { input.value = ""; input.focus(); });
  });
  fill($("#checkin"), el("h1", { text: t("checkin_card_title") }), el("p", { class: "muted", text: t("checkin_card_hint") }),
    form, el("button", { type: "button", class: "btn", text: t("checkin_camera"), onclick: () => camera(video, out).catch((e) => fill(out, el("p", { class: "form-error", text: String(e) }))) }),
    video, out);
  input.focus();
}

main();
