// The secretary's documents card: each agenda item's documents in reading order, with
// who may read them (public, delegates, a group, or named readers — "mật"), a per-viewer
// watermark, moving up and down, replacing with a new version, and who opened a
// confidential document. Also the upload form's progress bar: a large document is
// processed page by page, and the secretary sees how far it got.
import { api } from "./api.js";
import { $, el, errorText, fill, formatTime, isDelegateRole, toast } from "./app.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  vi: {
    sd_title: "Tài liệu của phiên họp",
    sd_empty: "Chưa có tài liệu nào.",
    sd_item: "Nội dung {n}: {title}",
    sd_version: "bản {v}",
    sd_pages: "{n} trang",
    sd_access: "Quyền xem",
    sd_access_public: "Công khai",
    sd_access_delegates: "Đại biểu",
    sd_access_confidential: "Mật (người được chỉ định)",
    sd_access_group: "Nhóm: {name}",
    sd_readers: "Người được xem ({n})",
    sd_watermark: "Đóng dấu tên người xem",
    sd_save: "Lưu quyền xem",
    sd_saved: "Đã lưu quyền xem của “{title}”.",
    sd_up: "Lên",
    sd_down: "Xuống",
    sd_replace: "Thay bằng bản mới",
    sd_replaced: "Đã thay “{title}” bằng bản {v}.",
    sd_openings: "Ai đã mở",
    sd_openings_none: "Chưa ai mở tài liệu này.",
    sd_opening_row: "{time} · {name} · {what}",
    sd_what_open: "mở tài liệu",
    sd_what_page: "xem trang {page}",
    sd_what_original: "tải bản gốc",
    sd_progress: "Đang xử lý “{name}”: {done}/{total} trang",
    sd_progress_wait: "Đang tải lên “{name}”…",
  },
  en: {
    sd_title: "Documents of the sitting",
    sd_empty: "No documents yet.",
    sd_item: "Item {n}: {title}",
    sd_version: "version {v}",
    sd_pages: "{n} pages",
    sd_access: "Who may read",
    sd_access_public: "Public",
    sd_access_delegates: "Delegates",
    sd_access_confidential: "Confidential (named readers)",
    sd_access_group: "Group: {name}",
    sd_readers: "Readers ({n})",
    sd_watermark: "Watermark with the viewer's name",
    sd_save: "Save access",
    sd_saved: "Access of “{title}” saved.",
    sd_up: "Up",
    sd_down: "Down",
    sd_replace: "Replace with a new version",
    sd_replaced: "“{title}” replaced by version {v}.",
    sd_openings: "Who opened it",
    sd_openings_none: "Nobody has opened this document yet.",
    sd_opening_row: "{time} · {name} · {what}",
    sd_what_open: "opened the document",
    sd_what_page: "viewed page {page}",
    sd_what_original: "downloaded the original",
    sd_progress: "Processing “{name}”: page {done} of {total}",
    sd_progress_wait: "Uploading “{name}”…",
  },
});

let lastKey = "";
const openRows = new Set(); // documents whose details the secretary opened (kept across renders)

function newUploadId() {
  const b = crypto.getRandomValues(new Uint8Array(9));
  return "u" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Give the upload form an upload id and show the server's progress while it works. */
export function wireUploadProgress() {
  const form = $("#upload-form");
  if (!form || form.dataset.progress) return;
  form.dataset.progress = "1";
  const hidden = el("input", { type: "hidden", name: "upload_id" });
  const bar = el("progress", { class: "upload-progress", max: "1", value: "0", hidden: true, "data-testid": "upload-progress" });
  const label = el("p", { class: "muted upload-progress-label", role: "status", hidden: true, "data-testid": "upload-progress-label" });
  form.append(hidden, bar, label);
  // Capture on the parent runs before the form's own submit handler builds its FormData.
  form.parentElement.addEventListener(
    "submit",
    (ev) => {
      if (ev.target !== form) return;
      const id = newUploadId();
      hidden.value = id;
      const name = form.querySelector("input[type=file]")?.files?.[0]?.name || "";
      bar.hidden = false;
      bar.removeAttribute("value");
      label.hidden = false;
      label.textContent = t("sd_progress_wait", { name });
      poll(id, name, bar, label);
    },
    true,
  );
}

async function poll(id, name, bar, label) {
  for (let i = 0; i < 2400; i++) {
    await new Promise((r) => setTimeout(r, 500));
    let job;
    try {
      job = await api("GET", `/api/documents/uploads/${id}`);
    } catch {
      continue; // not registered yet (still uploading) or a network blip
    }
    if (job.total) {
      bar.max = job.total;
      bar.value = job.done;
      label.textContent = t("sd_progress", { name: job.filename || name, done: job.done, total: job.total });
    }
    if (job.status !== "working") {
      bar.hidden = true;
      label.hidden = true;
      return;
    }
  }
}

function accessOptions(state, doc) {
  const groups = state.groups?.groups || [];
  const opts = [
    ["public", t("sd_access_public")],
    ["delegates", t("sd_access_delegates")],
    ...groups.map((g) => [`group:${g.id}`, t("sd_access_group", { name: g.name })]),
    ["confidential", t("sd_access_confidential")],
  ];
  return opts.map(([value, text]) => el("option", { value, text, selected: doc.access === value }));
}

function docRow(state, doc, item, index, count) {
  const people = (state.participants || []).filter((p) => isDelegateRole(p.role) || p.role === "guest");
  const readers = new Set(doc.readers || []);
  const access = el("select", { "aria-label": t("sd_access"), "data-testid": "doc-access" }, accessOptions(state, doc));
  const readerBoxes = people.map((p) =>
    el("label", { class: "reader" }, el("input", { type: "checkbox", value: p.id, checked: readers.has(p.id) }), ` ${p.name}`),
  );
  const readersBox = el(
    "details",
    { class: "readers", hidden: doc.access !== "confidential" },
    el("summary", { text: t("sd_readers", { n: readers.size }) }),
    el("div", { class: "reader-list" }, readerBoxes),
  );
  access.addEventListener("change", () => (readersBox.hidden = access.value !== "confidential"));
  const watermark = el("input", { type: "checkbox", checked: Boolean(doc.watermark), "data-testid": "doc-watermark" });
  const save = async () => {
    const body = { access: access.value, watermark: watermark.checked };
    if (access.value === "confidential") body.readers = readerBoxes.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    try {
      await api("POST", `/api/documents/${encodeURIComponent(doc.id)}/access`, body);
      toast(t("sd_saved", { title: doc.title || doc.filename }), "info");
    } catch (err) {
      toast(errorText(err));
    }
  };
  const move = (delta) => api("POST", `/api/documents/${encodeURIComponent(doc.id)}/move`, { position: index + 1 + delta }).catch((err) => toast(errorText(err)));
  const replaceInput = el("input", { type: "file", accept: ".pdf,.docx,.xlsx,.doc,.jpg,.jpeg,.png", class: "sr-only", "data-testid": "doc-replace-file" });
  replaceInput.addEventListener("change", async () => {
    const file = replaceInput.files?.[0];
    if (!file) return;
    const fd = new FormData();
    fd.append("file", file);
    try {
      const res = await api("POST", `/api/documents/${encodeURIComponent(doc.id)}/replace`, fd);
      toast(t("sd_replaced", { title: doc.title || doc.filename, v: res.document?.version ?? "?" }), "info");
    } catch (err) {
      toast(errorText(err));
    }
  });
  const openings = el("ul", { class: "openings", hidden: true, "data-testid": "doc-openings" });
  const showOpenings = async () => {
    openings.hidden = !openings.hidden;
    if (openings.hidden) return;
    try {
      const body = await api("GET", `/api/documents/openings?document=${encodeURIComponent(doc.id)}`);
      const rows = (body.openings || []).map((o) =>
        el("li", { text: t("sd_opening_row", { time: formatTime(o.at), name: o.name || o.participant_id, what: t(`sd_what_${o.what}`, { page: o.page }) }) }),
      );
      fill(openings, rows.length ? rows : [el("li", { class: "muted", text: t("sd_openings_none") })]);
    } catch (err) {
      fill(openings, el("li", { class: "form-error", text: errorText(err) }));
    }
  };
  const details = el(
    "details",
    { class: "doc-manage", open: openRows.has(doc.id), "data-doc": doc.id, "data-testid": "doc-manage" },
    el(
      "summary",
      {},
      el("strong", { text: doc.title || doc.filename }),
      el("span", { class: "muted", text: ` · ${t("sd_pages", { n: doc.pages ?? "?" })} · ${t("sd_version", { v: doc.version ?? 1 })} · ${t(`sd_access_${doc.access}`) || doc.access}` }),
    ),
    el(
      "div",
      { class: "doc-manage-body" },
      el("label", { class: "field-label", text: t("sd_access") }),
      access,
      readersBox,
      el("label", { class: "check" }, watermark, ` ${t("sd_watermark")}`),
      el(
        "div",
        { class: "doc-manage-actions" },
        el("button", { type: "button", class: "btn primary", text: t("sd_save"), "data-testid": "doc-access-save", onclick: save }),
        el("button", { type: "button", class: "btn", text: `↑ ${t("sd_up")}`, disabled: index === 0, onclick: () => move(-1) }),
        el("button", { type: "button", class: "btn", text: `↓ ${t("sd_down")}`, disabled: index === count - 1, onclick: () => move(1) }),
        el("label", { class: "btn" }, replaceInput, t("sd_replace")),
        doc.access === "confidential" ? el("button", { type: "button", class: "btn", text: t("sd_openings"), onclick: showOpenings }) : null,
      ),
      openings,
    ),
  );
  details.addEventListener("toggle", () => (details.open ? openRows.add(doc.id) : openRows.delete(doc.id)));
  return details;
}

/** Render the card (only when the documents, agenda, groups or language changed). */
export function renderDocsManage(state) {
  wireUploadProgress();
  let host = $("#docs-manage");
  if (!host) {
    const after = $("#after-sitting");
    if (!after) return;
    host = el("section", { class: "card wide-card content-only", id: "docs-manage", "data-testid": "docs-manage" });
    after.before(host);
  }
  const key = JSON.stringify([state.agenda, state.documents, (state.groups?.groups || []).map((g) => [g.id, g.name]), document.documentElement.lang, (state.participants || []).length]);
  if (key === lastKey) return;
  lastKey = key;
  const items = (state.agenda || []).filter((it) => (it.documents || []).length);
  fill(
    host,
    el("h2", { text: t("sd_title") }),
    items.length
      ? items.map((it) =>
          el(
            "div",
            { class: "doc-manage-item", "data-item": String(it.n) },
            el("h3", { text: t("sd_item", { n: it.n, title: it.title }) }),
            it.documents.map((id, i) => {
              const d = state.documents?.[id];
              return d ? docRow(state, d, it, i, it.documents.length) : null;
            }),
          ),
        )
      : el("p", { class: "muted", text: t("sd_empty") }),
  );
}
