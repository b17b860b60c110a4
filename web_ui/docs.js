// The document reader: pages are images the box rendered at ingest (tablet size), with a
// strip of thumbnails, previous/next and "go to page". It re-renders only when what it
// shows changes, so live updates elsewhere never make a page flicker.
import { el, fill } from "./app.js";
import { getLang, t } from "./i18n.js";

const pageUrl = (id, n, size) => `/api/documents/${encodeURIComponent(id)}/pages/${n}?size=${size}`;

export class DocViewer {
  constructor(container) {
    this.container = container;
    this.docId = null;
    this.page = 1;
    this.key = "";
    this.docs = [];
  }

  /** Show the documents of agenda item `item` (an agenda entry) from `state`. */
  update(state, item) {
    const ids = item?.documents || [];
    this.docs = ids.map((id) => state.documents?.[id]).filter(Boolean);
    if (!this.docs.find((d) => d.id === this.docId)) {
      this.docId = this.docs[0]?.id || null;
      this.page = 1;
    }
    this.render();
  }

  doc() {
    return this.docs.find((d) => d.id === this.docId) || null;
  }

  go(n) {
    const d = this.doc();
    if (!d) return;
    const next = Math.max(1, Math.min(d.pages || 1, n));
    if (next === this.page) return;
    this.page = next;
    this.render();
  }

  render() {
    const d = this.doc();
    const key = JSON.stringify([this.docs.map((x) => [x.id, x.pages, x.title]), this.docId, this.page, getLang()]);
    if (key === this.key) return;
    this.key = key;
    if (!d) {
      fill(this.container, el("div", { class: "empty-doc", text: t("no_documents") }));
      return;
    }
    const total = d.pages || 1;
    const tabs = el(
      "div",
      { class: "doc-tabs", role: "tablist" },
      this.docs.map((x) =>
        el("button", {
          type: "button",
          role: "tab",
          class: `doc-tab${x.id === this.docId ? " active" : ""}`,
          "aria-selected": x.id === this.docId ? "true" : "false",
          title: x.title || x.filename,
          text: x.title || x.filename,
          onclick: () => {
            this.docId = x.id;
            this.page = 1;
            this.render();
          },
        }),
      ),
    );
    const img = el("img", {
      class: "doc-page",
      src: pageUrl(d.id, this.page, "tablet"),
      alt: `${d.title || ""} — ${t("page_of", { n: this.page, total })}`,
      "data-testid": "doc-page",
    });
    const pageInput = el("input", {
      type: "number",
      min: "1",
      max: String(total),
      inputmode: "numeric",
      class: "page-input",
      value: String(this.page),
      "aria-label": t("go_to_page"),
    });
    const goForm = el(
      "form",
      {
        class: "go-form",
        onsubmit: (ev) => {
          ev.preventDefault();
          this.go(parseInt(pageInput.value, 10) || 1);
        },
      },
      el("label", { class: "sr-only", text: t("go_to_page") }),
      pageInput,
      el("button", { type: "submit", class: "btn", text: t("go") }),
    );
    const nav = el(
      "div",
      { class: "doc-nav" },
      el("button", { type: "button", class: "btn", disabled: this.page <= 1, text: `‹ ${t("prev_page")}`, onclick: () => this.go(this.page - 1) }),
      el("span", { class: "page-count", text: t("page_of", { n: this.page, total }) }),
      el("button", { type: "button", class: "btn", disabled: this.page >= total, text: `${t("next_page")} ›`, onclick: () => this.go(this.page + 1) }),
      goForm,
    );
    const strip = el("div", { class: "thumb-strip" });
    for (let n = 1; n <= total; n++) {
      strip.append(
        el(
          "button",
          {
            type: "button",
            class: `thumb${n === this.page ? " active" : ""}`,
            "aria-label": t("page_of", { n, total }),
            onclick: () => this.go(n),
          },
          el("img", { src: pageUrl(d.id, n, "thumb"), alt: "", loading: "lazy" }),
          el("span", { text: String(n) }),
        ),
      );
    }
    const stage = el("div", { class: "doc-stage" }, img);
    // Swipe left/right to turn pages.
    let startX = null;
    stage.addEventListener("touchstart", (e) => (startX = e.touches[0].clientX), { passive: true });
    stage.addEventListener("touchend", (e) => {
      if (startX === null) return;
      const dx = e.changedTouches[0].clientX - startX;
      startX = null;
      if (Math.abs(dx) > 60) this.go(this.page + (dx < 0 ? 1 : -1));
    });
    fill(this.container, el("div", { class: "doc-toolbar" }, tabs, nav), stage, strip);
    // Bring the current thumbnail into view inside the strip only (never scroll the page).
    const active = strip.querySelector(".thumb.active");
    if (active) requestAnimationFrame(() => (strip.scrollLeft = active.offsetLeft - strip.clientWidth / 2 + active.clientWidth / 2));
  }
}
