// The box's own setup status (cấu hình bằng USB): the box's fingerprint, the organisation
// key it trusts, and the progress and outcome of the last USB bundle. Read from the public
// GET /api/provisioning/box (public keys and a stage only, nothing of the sitting), so an
// unpaired hall display and the pairing page show it before anyone is paired.
//
// Mounts into #box-status when the page has one (pairing page, technician page): always
// visible. On the hall display (no #box-status) it appears as an overlay only while a
// bundle is being applied, and for a minute after its outcome.
// On the pairing page it also offers the administrators' sign-in (POST /api/login).
import { get, post } from "./api.js";
import { $, el, errorText, fill, pageForRole } from "./app.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  vi: {
    box_title: "Thiết lập hộp bằng USB",
    box_fp: "Dấu vân tay của hộp",
    box_trusted: "Khóa ký của đơn vị (đã tin cậy)",
    box_trusted_none: "Chưa có — gói đầu tiên sẽ được tin cậy",
    box_compare: "So sánh với tệp org.key.pub trên máy tính của bạn.",
    box_stage_idle: "Chờ cắm USB có gói cấu hình",
    box_stage_verifying: "Đang kiểm tra gói {bundle}…",
    box_stage_ingesting: "Đang nạp tài liệu {done}/{total}…",
    box_stage_applying: "Đang áp dụng cấu hình…",
    box_stage_done: "Đã nạp xong gói {bundle}",
    box_stage_refused: "Gói {bundle} bị từ chối — cấu hình không thay đổi",
    box_not_configured: "Hộp chưa được cấu hình",
    login_title: "Đăng nhập quản trị",
    login_lead: "Tài khoản quản trị (kỹ thuật, thư ký) có trong gói cấu hình.",
    login_user: "Tên đăng nhập",
    login_password: "Mật khẩu",
    login_submit: "Đăng nhập",
  },
  en: {
    box_title: "Box set-up by USB",
    box_fp: "This box's fingerprint",
    box_trusted: "Organisation signing key (trusted)",
    box_trusted_none: "None yet — the first bundle will be trusted",
    box_compare: "Compare it with org.key.pub on your laptop.",
    box_stage_idle: "Waiting for a USB stick with a bundle",
    box_stage_verifying: "Checking bundle {bundle}…",
    box_stage_ingesting: "Loading documents {done}/{total}…",
    box_stage_applying: "Applying the configuration…",
    box_stage_done: "Bundle {bundle} applied",
    box_stage_refused: "Bundle {bundle} refused — nothing was changed",
    box_not_configured: "This box is not configured yet",
    login_title: "Administrator sign-in",
    login_lead: "Administrator accounts (technician, secretary) come with the bundle.",
    login_user: "User name",
    login_password: "Password",
    login_submit: "Sign in",
  },
});

const ACTIVE = new Set(["verifying", "ingesting", "applying"]);
// The secretary's desk shares its page with the technician's (?tech): the panel is the technician's.
const techOnly = $("#box-status")?.dataset.techOnly !== undefined;
const mount = techOnly && !new URLSearchParams(location.search).has("tech") ? null : $("#box-status");
if (techOnly && !mount) $("#box-status")?.remove();
const quiet = techOnly && !mount; // not the technician: no panel, no overlay
let overlay = null;
let firstSeen = null;
let changedAt = 0;

function stageText(s) {
  return t(`box_stage_${s.stage}`, { bundle: s.bundle || "", done: s.done ?? 0, total: s.total ?? 0 });
}

function row(label, value, testid) {
  return el("div", { class: "box-row" }, el("div", { class: "box-label", text: label }), el("div", { class: "box-fp", text: value, "data-testid": testid }));
}

function panel(s) {
  const children = [
    el("h2", { text: t("box_title") }),
    el("div", { class: `box-stage box-${s.stage}`, text: stageText(s), "data-testid": "box-stage" }),
  ];
  if (s.stage === "ingesting" || s.stage === "done" || s.stage === "refused") {
    if (s.total) {
      const fillBar = el("div", { class: "box-bar-fill" });
      fillBar.style.width = `${Math.round((100 * (s.done || 0)) / s.total)}%`;
      children.push(el("div", { class: "box-bar", role: "progressbar", "aria-valuenow": String(s.done || 0), "aria-valuemax": String(s.total) }, fillBar));
    }
  }
  if (s.stage === "refused" && s.outcome) {
    children.push(el("p", { class: "form-error", text: `${s.outcome.code}: ${s.outcome.message || ""} / ${s.outcome.message_en || ""}`, "data-testid": "box-refusal" }));
  }
  if (!s.configured && s.stage !== "done") children.push(el("p", { class: "muted", text: t("box_not_configured") }));
  children.push(row(t("box_fp"), s.box_fingerprint, "box-fp"));
  children.push(row(t("box_trusted"), s.trusted_fingerprint || t("box_trusted_none"), "box-trusted"));
  children.push(el("p", { class: "muted", text: t("box_compare") }));
  return children;
}

function showOverlay(s) {
  const signature = `${s.stage}|${s.bundle}|${s.done}`;
  if (firstSeen === null) firstSeen = signature;
  else if (signature !== firstSeen) {
    firstSeen = signature;
    changedAt = Date.now();
  }
  const visible = ACTIVE.has(s.stage) || (changedAt && Date.now() - changedAt < 60_000);
  if (!visible) {
    if (overlay) overlay.hidden = true;
    return;
  }
  if (!overlay) {
    overlay = el("section", { class: "box-overlay card", "data-testid": "box-overlay" });
    document.body.append(overlay);
  }
  overlay.hidden = false;
  fill(overlay, panel(s));
}

async function refresh() {
  try {
    const s = await get("/api/provisioning/box");
    if (mount) fill(mount, panel(s));
    else showOverlay(s);
  } catch {
    /* the server restarts after an update: try again on the next tick */
  }
}

function loginForm() {
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const user = el("input", { id: "login-user", name: "username", autocomplete: "username", required: true });
  const password = el("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = el("button", { type: "submit", class: "btn primary", text: t("login_submit") });
  const form = el(
    "form",
    { class: "card login-card", id: "login-form" },
    el("h2", { text: t("login_title") }),
    el("p", { class: "muted", text: t("login_lead") }),
    el("label", { for: "login-user", class: "field-label", text: t("login_user") }),
    user,
    el("label", { for: "login-password", class: "field-label", text: t("login_password") }),
    password,
    error,
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const res = await post("/api/login", { username: user.value.trim(), password: password.value });
      location.replace(pageForRole(res.role));
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

if (mount?.dataset.login !== undefined) mount.after(loginForm());
if (!quiet) {
  refresh();
  setInterval(() => {
    if (!document.hidden) refresh();
  }, 1500);
}
