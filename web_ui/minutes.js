// After the sitting. On the secretary's desk: the minutes (biên bản) of a sitting — the
// chair's conclusions and the place, absence reasons, downloads (Word, PDF, signature)
// and finalising with a second tap. On the technician's page: archive sync progress,
// receipts and when each sitting's key is destroyed (ids, sizes and times only).
import { ApiError, api, get, serverNow } from "./api.js";
import { $, el, errorText, fill, isDelegateRole, run, toast } from "./app.js";
import { addStrings, getLang, t } from "./i18n.js";

addStrings({
  vi: {
    mn_title: "Biên bản phiên họp",
    mn_sitting: "Phiên họp",
    mn_place: "Địa điểm",
    mn_conclusions: "Kết luận của chủ tọa (thư ký biên tập)",
    mn_save: "Lưu kết luận",
    mn_saved: "Đã lưu kết luận.",
    mn_absence: "Đại biểu vắng mặt có lý do",
    mn_absence_reason: "Lý do vắng mặt",
    mn_absence_save: "Ghi lý do",
    mn_absence_saved: "Đã ghi lý do vắng mặt.",
    mn_download: "Tải biên bản",
    mn_docx: "Bản Word (.docx)",
    mn_pdf: "Bản PDF",
    mn_sig: "Chữ ký số của hộp (.sig)",
    mn_draft_note: "Dự thảo được lập lại từ nhật ký mỗi lần tải.",
    mn_token_pin: "Mã PIN chữ ký số của thư ký (USB token)",
    mn_finalise: "Hoàn thành biên bản",
    mn_finalise_confirm: "Chạm lần nữa: sau khi hoàn thành không sửa được nữa",
    mn_finalise_closed_only: "Chỉ hoàn thành được sau khi bế mạc phiên họp.",
    mn_final: "Biên bản đã hoàn thành lúc {time}. Mã băm SHA-256: {hash}…",
    mn_receipts: "Kho lưu trữ đã nhận: {list}",
    ar_title: "Lưu trữ và đồng bộ",
    ar_upstream: "Kho lưu trữ S3",
    ar_key: "Khóa công khai của kho lưu trữ",
    ar_yes: "đã cấu hình",
    ar_no: "chưa cấu hình",
    ar_retention: "Giữ dữ liệu {days} ngày sau khi kho lưu trữ xác nhận",
    ar_archives: "Tệp lưu trữ chờ gửi",
    ar_none: "Không có tệp nào.",
    ar_file: "Tệp",
    ar_size: "Dung lượng",
    ar_state: "Trạng thái",
    ar_progress: "Tiến độ",
    ar_sittings: "Phiên họp và thời hạn lưu giữ",
    ar_finalised: "Biên bản",
    ar_receipt: "Biên nhận",
    ar_erase: "Xóa khóa dữ liệu",
    ar_state_waiting: "Đang chờ",
    ar_state_uploading: "Đang tải lên",
    ar_state_uploaded: "Đã tải lên, chờ ghi biên nhận",
    ar_state_reported: "Đã có biên nhận",
    ar_state_failed: "Lỗi",
    ar_err_credentials: "sai khóa truy cập",
    ar_err_bucket_missing: "không có bucket",
    ar_err_unreachable: "không kết nối được",
    ar_err_checksum: "sai mã kiểm tra",
    ar_done: "đã hoàn thành",
    ar_not_done: "chưa",
    ar_no_receipt: "chưa có",
    ar_wait_receipt: "chờ biên nhận",
    ar_erased: "đã xóa (không còn đọc được)",
    ar_erase_at: "lúc {when}",
    ar_uplink: "Đường truyền ra ngoài",
    ar_uplink_up: "có (kiểm tra lúc {when})",
    ar_uplink_down: "không có — đang chờ đường truyền (kiểm tra lúc {when})",
    ar_sync_idle: "chương trình đồng bộ chưa chạy",
    ar_last_round: "Lần gửi gần nhất: {when}",
    ar_last_errors: "lỗi: {list}",
  },
  en: {
    mn_title: "Minutes of the sitting",
    mn_sitting: "Sitting",
    mn_place: "Place",
    mn_conclusions: "The chair's conclusions (edited by the secretary)",
    mn_save: "Save conclusions",
    mn_saved: "Conclusions saved.",
    mn_absence: "Delegates absent with a reason",
    mn_absence_reason: "Reason for absence",
    mn_absence_save: "Record reason",
    mn_absence_saved: "Absence reason recorded.",
    mn_download: "Download the minutes",
    mn_docx: "Word (.docx)",
    mn_pdf: "PDF",
    mn_sig: "The box's signature (.sig)",
    mn_draft_note: "The draft is rebuilt from the journal on every download.",
    mn_token_pin: "The secretary's signature token PIN",
    mn_finalise: "Finalise the minutes",
    mn_finalise_confirm: "Tap again: once final they can no longer change",
    mn_finalise_closed_only: "The minutes can be finalised once the sitting is closed.",
    mn_final: "Minutes finalised at {time}. SHA-256: {hash}…",
    mn_receipts: "Received by the archive: {list}",
    ar_title: "Archive and sync",
    ar_upstream: "S3 archive store",
    ar_key: "Archive public key",
    ar_yes: "configured",
    ar_no: "not configured",
    ar_retention: "Data kept {days} days after the archive confirms",
    ar_archives: "Archives to ship",
    ar_none: "None.",
    ar_file: "File",
    ar_size: "Size",
    ar_state: "State",
    ar_progress: "Progress",
    ar_sittings: "Sittings and retention",
    ar_finalised: "Minutes",
    ar_receipt: "Receipt",
    ar_erase: "Data key destroyed",
    ar_state_waiting: "Waiting",
    ar_state_uploading: "Uploading",
    ar_state_uploaded: "Uploaded, receipt pending",
    ar_state_reported: "Receipt recorded",
    ar_state_failed: "Failed",
    ar_err_credentials: "credentials refused",
    ar_err_bucket_missing: "no such bucket",
    ar_err_unreachable: "unreachable",
    ar_err_checksum: "checksum mismatch",
    ar_done: "final",
    ar_not_done: "not yet",
    ar_no_receipt: "none",
    ar_wait_receipt: "waits for a receipt",
    ar_erased: "erased (no longer readable)",
    ar_erase_at: "at {when}",
    ar_uplink: "Uplink",
    ar_uplink_up: "up (checked at {when})",
    ar_uplink_down: "down — waiting for the uplink (checked at {when})",
    ar_sync_idle: "the sync program has not run yet",
    ar_last_round: "Last round: {when}",
    ar_last_errors: "errors: {list}",
  },
});

let view = null; // the secretary's card, built once per sitting and language so typing survives updates
let archiveTimer = null;
let lastState = null;

const locale = () => (getLang() === "vi" ? "vi-VN" : "en-GB");
const when = (s) => (s ? new Date(s * 1000).toLocaleString(locale(), { dateStyle: "short", timeStyle: "short" }) : "");

/** Mount point #after-sitting: the minutes for the secretary, the archive for the technician. */
export function renderMinutes(state, me, tech) {
  const host = $("#after-sitting");
  if (!host) return;
  lastState = state;
  if (tech) {
    if (!archiveTimer) {
      refreshArchive();
      archiveTimer = setInterval(refreshArchive, 3000);
    } else if (host.dataset.lang !== getLang()) refreshArchive();
    return;
  }
  const sittings = state.sittings || [];
  host.hidden = !sittings.length; // nothing to write minutes of before the session is set up
  if (!sittings.length) {
    fill(host);
    view = null;
    return;
  }
  const chosen = view?.sid && sittings.some((s) => s.id === view.sid) ? view.sid : state.sitting?.id || sittings[0].id;
  if (!view || view.sid !== chosen || view.lang !== getLang()) build(host, state, chosen);
  updateSittingBits(state);
}

function sittingOf(state, sid) {
  return (state.sittings || []).find((s) => s.id === sid) || null;
}

function build(host, state, sid) {
  const select = el("select", { id: "mn-sitting", "data-testid": "minutes-sitting" },
    (state.sittings || []).map((s) => el("option", { value: s.id, text: s.title, selected: s.id === sid })));
  select.addEventListener("change", () => build(host, lastState, select.value));
  const place = el("input", { id: "mn-place", "data-testid": "minutes-place", autocomplete: "off" });
  const conclusions = el("textarea", { id: "mn-conclusions", "data-testid": "minutes-conclusions", rows: "6" });
  const saveOk = el("p", { class: "form-ok", role: "status", hidden: true });
  const save = el("button", { type: "button", class: "btn primary", "data-testid": "minutes-save", text: t("mn_save") });
  save.addEventListener("click", () => run(save, async () => {
    try {
      await api("PUT", `/api/minutes/${encodeURIComponent(sid)}/conclusions`, { conclusions: conclusions.value, place: place.value });
      saveOk.textContent = t("mn_saved");
      saveOk.hidden = false;
      await loadStatus();
    } catch (err) {
      toast(errorText(err));
    }
  }));
  const who = el("select", { id: "mn-absent", "data-testid": "absence-who" });
  const reason = el("input", { id: "mn-reason", "data-testid": "absence-reason", autocomplete: "off" });
  const absences = el("ul", { class: "muted small", "data-testid": "absence-list" });
  const absenceBtn = el("button", { type: "button", class: "btn", "data-testid": "absence-save", text: t("mn_absence_save") });
  absenceBtn.addEventListener("click", () => run(absenceBtn, async () => {
    try {
      await api("PUT", `/api/minutes/${encodeURIComponent(sid)}/absences`, { participant_id: who.value, reason: reason.value });
      reason.value = "";
      toast(t("mn_absence_saved"), "ok");
      await loadStatus();
    } catch (err) {
      toast(errorText(err));
    }
  }));
  const link = (fmt, label) => {
    const btn = el("button", { type: "button", class: "btn", "data-testid": `minutes-${fmt}`, text: label });
    btn.addEventListener("click", () => run(btn, () => download(`/api/minutes/${encodeURIComponent(sid)}/draft/${fmt}`)));
    return btn;
  };
  const sigLink = link("sig", t("mn_sig"));
  const finalNote = el("p", { class: "form-ok", "data-testid": "minutes-final", role: "status", hidden: true });
  const receipts = el("p", { class: "muted small", "data-testid": "minutes-receipts", hidden: true });
  const hint = el("p", { class: "muted small", text: t("mn_finalise_closed_only") });
  const pin = el("input", { id: "mn-pin", type: "password", autocomplete: "off", inputmode: "numeric", "data-testid": "minutes-token-pin" });
  const pinRow = el("div", { hidden: true }, el("label", { class: "field-label", for: "mn-pin", text: t("mn_token_pin") }), pin);
  const finalise = twoTap({ class: "btn danger", "data-testid": "minutes-finalise", text: t("mn_finalise") }, t("mn_finalise_confirm"),
    async () => {
      const body = view?.status?.token ? { token_pin: pin.value } : {};
      pin.value = ""; // the PIN goes to the token once and is not kept here either
      await api("POST", `/api/minutes/${encodeURIComponent(sid)}/finalise`, body);
      await loadStatus();
    });
  fill(host,
    el("div", { class: "card-head" }, el("h2", { text: t("mn_title") }),
      el("label", { class: "muted" }, `${t("mn_sitting")}: `, select)),
    el("div", { class: "stack-form" },
      el("label", { class: "field-label", for: "mn-place", text: t("mn_place") }), place,
      el("label", { class: "field-label", for: "mn-conclusions", text: t("mn_conclusions") }), conclusions,
      saveOk, save,
      el("div", { class: "form-row" },
        el("div", {}, el("label", { class: "field-label", for: "mn-absent", text: t("mn_absence") }), who),
        el("div", {}, el("label", { class: "field-label", for: "mn-reason", text: t("mn_absence_reason") }), reason)),
      absenceBtn, absences,
      el("h3", { text: t("mn_download") }),
      el("div", { class: "row-actions" }, link("docx", t("mn_docx")), link("pdf", t("mn_pdf")), sigLink),
      el("p", { class: "muted small", text: t("mn_draft_note") }),
      finalNote, receipts, hint, pinRow, finalise));
  host.dataset.lang = getLang();
  const before = view && view.sid === sid && view.loaded ? view : null; // a language switch keeps what was typed
  if (before) {
    place.value = before.place.value;
    conclusions.value = before.conclusions.value;
    reason.value = before.reason.value;
  }
  view = { sid, lang: getLang(), place, conclusions, save, who, reason, absenceBtn, absences, sigLink, finalNote, receipts, hint,
    finalise, pinRow, status: before?.status || null, loaded: Boolean(before) };
  loadStatus();
}

/**
 * Fetch a file with this device's credential (and its request proof, where the box asks
 * for one) and hand it to the browser as a download; a refusal is shown, not saved.
 */
async function download(path) {
  const headers = {};
  try {
    const keys = await import("./device_key.js");
    const proof = await keys.proofFor("GET", new URL(path, location.href).pathname, serverNow() * 1000);
    if (proof) headers["X-PHS-Proof"] = proof;
  } catch {
    // no device keys on this box: the cookie alone is the credential
  }
  let res;
  try {
    res = await fetch(path, { credentials: "same-origin", cache: "no-store", headers });
  } catch {
    toast(t("error_network"));
    return;
  }
  if (!res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    toast(errorText(new ApiError(res.status, body)));
    return;
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "")?.[1] || "bien-ban";
  const url = URL.createObjectURL(await res.blob());
  const a = el("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A button that asks once more before acting (the chair console's pattern). */
function twoTap(attrs, confirmText, action) {
  let armed = false;
  let timer = null;
  const btn = el("button", { ...attrs, type: "button" });
  btn.addEventListener("click", () => {
    if (!armed) {
      armed = true;
      btn.textContent = confirmText;
      btn.classList.add("arming");
      timer = setTimeout(() => {
        armed = false;
        btn.textContent = attrs.text;
        btn.classList.remove("arming");
      }, 5000);
      return;
    }
    clearTimeout(timer);
    armed = false;
    btn.textContent = attrs.text;
    btn.classList.remove("arming");
    run(btn, async () => {
      try {
        await action();
      } catch (err) {
        toast(errorText(err));
      }
    });
  });
  return btn;
}

async function loadStatus() {
  if (!view) return;
  const mine = view;
  try {
    const status = await get(`/api/minutes/${encodeURIComponent(mine.sid)}`);
    if (view !== mine) return;
    mine.status = status;
    if (!mine.loaded) {
      mine.place.value = status.place || "";
      mine.conclusions.value = status.conclusions || "";
      mine.loaded = true;
    }
    updateSittingBits(lastState);
  } catch (err) {
    toast(errorText(err));
  }
}

function updateSittingBits(state) {
  if (!view || !state) return;
  const status = view.status;
  const sitting = sittingOf(state, view.sid);
  const final = status?.final || null;
  const closed = sitting?.status === "closed";
  for (const node of [view.place, view.conclusions, view.save, view.who, view.reason, view.absenceBtn]) node.disabled = Boolean(final);
  view.finalise.hidden = Boolean(final);
  view.pinRow.hidden = Boolean(final) || !status?.token;
  view.finalise.disabled = !closed || !status;
  view.hint.hidden = closed || Boolean(final);
  view.sigLink.hidden = !final;
  view.finalNote.hidden = !final;
  if (final) view.finalNote.textContent = t("mn_final", { time: when(final.at), hash: final.pdf_sha256.slice(0, 16) });
  const got = status?.receipts || [];
  view.receipts.hidden = !got.length;
  view.receipts.textContent = t("mn_receipts", { list: got.map((r) => `${r.target.toUpperCase()} ${when(r.at)}`).join(", ") });
  const names = new Map((state.participants || []).map((p) => [p.id, p.name]));
  const delegates = (state.participants || []).filter((p) => isDelegateRole(p.role));
  if (view.who.dataset.count !== String(delegates.length)) {
    const chosen = view.who.value;
    fill(view.who, delegates.map((p) => el("option", { value: p.id, text: p.name })));
    if (chosen) view.who.value = chosen;
    view.who.dataset.count = String(delegates.length);
  }
  fill(view.absences, Object.entries(status?.absences || {}).map(([pid, why]) =>
    el("li", { "data-absent": pid, text: `${names.get(pid) || pid}: ${why}` })));
}

function uplinkText(body) {
  const up = body.uplink;
  let text = `${t("ar_uplink")}: ${!up ? t("ar_sync_idle") : t(up.up ? "ar_uplink_up" : "ar_uplink_down", { when: when(up.at) })}`;
  const last = body.last_round;
  if (last) {
    text += ` · ${t("ar_last_round", { when: when(last.at) })}`;
    if (last.errors?.length) text += ` (${t("ar_last_errors", { list: last.errors.map((c) => t(`ar_err_${c}`)).join(", ") })})`;
  }
  return text;
}

async function refreshArchive() {
  const host = $("#after-sitting");
  if (!host) return;
  let body;
  try {
    body = await get("/api/archive/status");
  } catch (err) {
    fill(host, el("h2", { text: t("ar_title") }), el("p", { class: "form-error", text: errorText(err) }));
    return;
  }
  host.dataset.lang = getLang();
  const titles = new Map((lastState?.sittings || []).map((s) => [s.id, s.title]));
  const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;
  const stateText = (a) => t(`ar_state_${a.state}`) + (a.error ? ` (${t(`ar_err_${a.error}`)})` : "");
  const archives = body.archives.length
    ? el("table", { class: "table", "data-testid": "archive-files" },
        el("thead", {}, el("tr", {}, ...["ar_file", "ar_size", "ar_state", "ar_progress"].map((k) => el("th", { text: t(k) })))),
        el("tbody", {}, body.archives.map((a) => el("tr", { "data-archive": a.file, "data-state": a.state },
          el("td", {}, el("code", { text: a.file })), el("td", { text: mb(a.size) }), el("td", { text: stateText(a) }),
          el("td", {}, el("progress", { max: String(a.size || 1), value: String(a.sent_bytes || 0) }),
            ` ${Math.round((100 * (a.sent_bytes || 0)) / (a.size || 1))}%`)))))
    : el("p", { class: "muted", text: t("ar_none") });
  const eraseText = (s) => (s.erased ? t("ar_erased") : s.erase_after ? t("ar_erase_at", { when: when(s.erase_after) }) : t("ar_wait_receipt"));
  const sittings = el("table", { class: "table", "data-testid": "archive-sittings" },
    el("thead", {}, el("tr", {}, ...["mn_sitting", "ar_finalised", "ar_receipt", "ar_erase"].map((k) => el("th", { text: t(k) })))),
    el("tbody", {}, body.sittings.map((s) => el("tr", { "data-sitting": s.sitting_id },
      el("td", { text: titles.get(s.sitting_id) || s.sitting_id }),
      el("td", { text: s.finalised ? t("ar_done") : t("ar_not_done") }),
      el("td", { text: s.receipts.length ? s.receipts.map((r) => `${r.target.toUpperCase()} ${when(r.at)}`).join(", ") : t("ar_no_receipt") }),
      el("td", { text: eraseText(s) })))));
  fill(host,
    el("div", { class: "card-head" }, el("h2", { text: t("ar_title") }),
      el("div", { class: "muted", text: t("ar_retention", { days: body.retention_days }) })),
    el("p", { class: "muted small", "data-testid": "archive-config",
      text: `${t("ar_upstream")}: ${body.upstream_configured ? t("ar_yes") : t("ar_no")} · ${t("ar_key")}: ${body.archive_key_configured ? t("ar_yes") : t("ar_no")}` }),
    el("p", { class: "muted small", "data-testid": "archive-uplink", text: uplinkText(body) }),
    el("h3", { text: t("ar_archives") }), el("div", { class: "table-wrap" }, archives),
    el("h3", { text: t("ar_sittings") }), el("div", { class: "table-wrap" }, sittings));
}
