// The document reader: pages are images the box rendered at ingest, with a strip of
// thumbnails, previous/next, "go to page", pinch or +/- zoom, search across the
// sitting's documents (diacritics optional: "ngan sach" finds "ngân sách") with the hits
// marked on the page, text selection from the extracted text layer, private notes
// (highlight, pen, pinned text) that can be shared with one's group, and "follow me"
// when the chair presents a page. It re-renders only when what it shows changes, so
// live updates elsewhere never make a page flicker.
import { api } from "./api.js";
import { el, fill } from "./app.js";
import "./docs_i18n.js";
import { getLang, t } from "./i18n.js";
import { NotesStore } from "./notes.js";
import { pageFrame } from "./page_layer.js";

const pageUrl = (id, n, size) => `/api/documents/${encodeURIComponent(id)}/pages/${n}?size=${size}`;
const ZOOMS = [1, 1.5, 2, 3];
const TOOLS = ["read", "highlight", "pen", "note"];

export class DocViewer {
  constructor(container) {
    this.container = container;
    this.docId = null;
    this.page = 1;
    this.key = "";
    this.docs = [];
    this.state = null;
    this.me = null;
    this.zoom = 1;
    this.tool = "read";
    this.search = null; // {q, hits, only}
    this.showNotes = false;
    this.following = false;
    this.openElsewhere = null; // (doc, page) => void: a document of another agenda item
    this.frame = null;
    this.notes = new NotesStore((doc) => doc === this.docId && this.redrawNotes());
  }

  can(permission) {
    return Boolean(this.me?.permissions?.includes(permission));
  }

  /** Show the documents of agenda item `item` (an agenda entry) from `state`. */
  update(state, item, me = null) {
    this.state = state;
    if (me) this.me = me;
    const ids = item?.documents || [];
    this.docs = ids.map((id) => state.documents?.[id]).filter(Boolean);
    if (!this.docs.find((d) => d.id === this.docId)) {
      this.docId = this.docs[0]?.id || null;
      this.page = 1;
    }
    this.follow(state.presenting);
    this.render();
  }

  /** Follow me: while following, the presenter's page is ours. */
  follow(pr) {
    if (!pr) {
      this.following = false;
      return;
    }
    if (!this.following || (pr.document === this.docId && pr.page === this.page)) return;
    if (this.docs.find((d) => d.id === pr.document)) {
      this.docId = pr.document;
      this.page = pr.page;
    } else if (this.openElsewhere) {
      queueMicrotask(() => this.openElsewhere(pr.document, pr.page));
    }
  }

  doc() {
    return this.docs.find((d) => d.id === this.docId) || null;
  }

  show(docId, page) {
    this.docId = docId;
    this.page = page;
    this.render();
  }

  go(n) {
    const d = this.doc();
    if (!d) return;
    const next = Math.max(1, Math.min(d.pages || 1, n));
    if (next === this.page) return;
    this.page = next;
    this.render();
  }

  setZoom(z) {
    this.zoom = Math.max(ZOOMS[0], Math.min(ZOOMS[ZOOMS.length - 1], z));
    if (this.frame) this.frame.node.style.width = `${this.zoom * 100}%`;
    const d = this.doc();
    if (d && this.frame) {
      const want = pageUrl(d.id, this.page, this.zoom > 1.2 ? "zoom" : "tablet");
      if (!this.frame.img.src.endsWith(want)) this.frame.img.src = want;
    }
  }

  hitsHere() {
    if (!this.search) return [];
    return this.search.hits.filter((h) => h.document === this.docId && h.page === this.page).flatMap((h) => h.rects || []);
  }

  redrawNotes() {
    if (this.frame) this.frame.draw(this.notes.onPage(this.docId, this.page), this.hitsHere());
    const list = this.container.querySelector(".notes-panel");
    if (list) list.replaceWith(this.notesPanel());
    const count = this.container.querySelector("[data-testid=notes-toggle]");
    if (count) count.textContent = t("doc_notes", { n: this.notes.ofDoc(this.docId).length });
  }

  async runSearch(q, only) {
    q = q.normalize("NFC").trim();
    if (!q) {
      this.search = null;
      this.render(true);
      return;
    }
    const scope = only && this.docId ? `&document=${encodeURIComponent(this.docId)}` : "";
    try {
      const body = await api("GET", `/api/documents/search?q=${encodeURIComponent(q)}${scope}`);
      this.search = { q, hits: body.hits || [], only };
    } catch {
      this.search = { q, hits: [], only };
    }
    this.render(true);
  }

  openHit(hit) {
    this.scrollToHit = true;
    if (this.docs.find((d) => d.id === hit.document)) this.show(hit.document, hit.page);
    else this.openElsewhere?.(hit.document, hit.page);
  }

  createNote(fields) {
    const d = this.doc();
    if (!d) return;
    this.notes.save({ document: d.id, page: this.page, ...fields });
  }

  myGroups() {
    return (this.state?.groups?.groups || []).filter((g) => g.member);
  }

  notesPanel() {
    const notes = this.notes.ofDoc(this.docId);
    const groups = this.myGroups();
    const rows = notes.map((n) =>
      el(
        "li",
        { class: `note-row${n.stale ? " stale" : ""}`, "data-testid": "note-row" },
        el("button", { type: "button", class: "link", text: `${t(`doc_note_kind_${n.kind}`)} · ${t("doc_note_page", { page: n.page })}`, onclick: () => this.go(n.page) }),
        n.text ? el("div", { class: "note-text", text: n.text }) : null,
        n.mine === false ? el("div", { class: "muted", text: t("doc_note_by", { name: n.author_name || "" }) }) : null,
        n.stale ? el("div", { class: "muted", text: t("doc_note_stale") }) : null,
        this.notes.pending(n.id) ? el("div", { class: "muted", "data-testid": "note-pending", text: t("doc_note_pending") }) : null,
        n.mine === false
          ? null
          : el(
              "div",
              { class: "note-actions" },
              groups.length
                ? el(
                    "select",
                    {
                      "aria-label": t("doc_note_share"),
                      onchange: (e) => this.notes.save({ ...n, shared_with: e.target.value || null }),
                    },
                    el("option", { value: "", text: t("doc_note_private"), selected: !n.shared_with }),
                    groups.map((g) => el("option", { value: g.id, text: `${t("doc_note_share")}: ${g.name}`, selected: n.shared_with === g.id })),
                  )
                : null,
              el("button", { type: "button", class: "btn small", text: t("doc_note_delete"), onclick: () => this.notes.remove(n) }),
            ),
      ),
    );
    return el(
      "div",
      { class: "notes-panel", hidden: !this.showNotes },
      rows.length ? el("ul", { class: "note-list" }, rows) : el("p", { class: "muted", text: t("doc_notes_empty") }),
      el("a", { class: "btn", href: `/api/annotations/export?document=${encodeURIComponent(this.docId || "")}`, download: "", text: t("doc_export") }),
    );
  }

  searchPanel() {
    const s = this.search;
    if (!s) return null;
    return el(
      "div",
      { class: "search-results", "data-testid": "search-results" },
      el("div", { class: "search-head" },
        el("strong", { text: s.hits.length ? t("doc_search_count", { n: s.hits.length, q: s.q }) : t("doc_search_none", { q: s.q }) }),
        el("button", { type: "button", class: "btn small", text: t("doc_search_close"), onclick: () => { this.search = null; this.render(true); } })),
      el(
        "ol",
        { class: "hit-list" },
        s.hits.slice(0, 50).map((h) =>
          el(
            "li",
            {},
            el(
              "button",
              { type: "button", class: `hit-row${h.document === this.docId && h.page === this.page ? " active" : ""}`, "data-testid": "search-hit-row", onclick: () => this.openHit(h) },
              el("span", { class: "hit-where", text: t("doc_search_hit", { title: h.title || "", page: h.page }) }),
              el("span", { class: "hit-snippet", text: h.snippet || "" }),
            ),
          ),
        ),
      ),
    );
  }

  followBar() {
    const pr = this.state?.presenting;
    if (!pr) return null;
    const title = this.state.documents?.[pr.document]?.title || "";
    const presentingMyself = pr.by === this.me?.participant?.id;
    if (presentingMyself) {
      return el("div", { class: "follow-bar", "data-testid": "follow-bar" },
        el("span", { text: t("doc_presenting", { name: pr.by_name || "", title, page: pr.page }) }),
        el("button", { type: "button", class: "btn small", text: t("doc_present_stop"), onclick: () => api("POST", "/api/documents/present/stop", {}).catch(() => {}) }));
    }
    return el(
      "div",
      { class: `follow-bar${this.following ? " on" : ""}`, "data-testid": "follow-bar" },
      el("span", { text: this.following ? t("doc_following", { name: pr.by_name || "" }) : t("doc_presenting", { name: pr.by_name || "", title, page: pr.page }) }),
      el("button", {
        type: "button",
        class: `btn small${this.following ? "" : " primary"}`,
        "data-testid": "follow-toggle",
        text: this.following ? t("doc_unfollow") : t("doc_follow"),
        onclick: () => {
          this.following = !this.following;
          this.follow(pr);
          this.render(true);
        },
      }),
    );
  }

  render(force = false) {
    const d = this.doc();
    const pr = this.state?.presenting || null;
    const key = JSON.stringify([
      this.docs.map((x) => [x.id, x.pages, x.title, x.replaced_by]), this.docId, this.page, getLang(), this.tool,
      this.search?.q, this.search?.hits.length, this.showNotes, this.following, pr, this.myGroups().map((g) => g.id),
    ]);
    if (key === this.key && !force) return;
    this.key = key;
    if (!d) {
      this.frame = null;
      fill(this.container, el("div", { class: "empty-doc", text: t("no_documents") }));
      return;
    }
    if (this.notesDoc !== d.id) {
      this.notesDoc = d.id;
      this.notes.open(d.id);
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
          onclick: () => this.show(x.id, 1),
        }),
      ),
    );
    const pageInput = el("input", {
      type: "number", min: "1", max: String(total), inputmode: "numeric", class: "page-input",
      value: String(this.page), "aria-label": t("go_to_page"),
    });
    const goForm = el(
      "form",
      { class: "go-form", onsubmit: (ev) => { ev.preventDefault(); this.go(parseInt(pageInput.value, 10) || 1); } },
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
    const query = el("input", { type: "search", class: "search-input", placeholder: t("doc_search"), "aria-label": t("doc_search"), value: this.search?.q || "", "data-testid": "doc-search" });
    const only = el("input", { type: "checkbox", checked: Boolean(this.search?.only) });
    const searchForm = el(
      "form",
      { class: "search-form", role: "search", onsubmit: (ev) => { ev.preventDefault(); this.runSearch(query.value, only.checked); } },
      query,
      el("label", { class: "search-only" }, only, t("doc_search_this")),
      el("button", { type: "submit", class: "btn", text: t("doc_search_go") }),
    );
    const tools = el(
      "div",
      { class: "doc-tools", role: "toolbar" },
      this.can("note.write")
        ? TOOLS.map((name) =>
            el("button", {
              type: "button",
              class: `btn tool${this.tool === name ? " active" : ""}`,
              "aria-pressed": this.tool === name ? "true" : "false",
              "data-tool": name,
              text: t(`doc_tool_${name}`),
              onclick: () => { this.tool = name; this.render(true); },
            }),
          )
        : null,
      el("button", { type: "button", class: "btn", "aria-label": t("doc_zoom_out"), "data-testid": "zoom-out", text: "−", onclick: () => this.setZoom([...ZOOMS].reverse().find((z) => z < this.zoom) ?? ZOOMS[0]) }),
      el("button", { type: "button", class: "btn", "aria-label": t("doc_zoom_in"), "data-testid": "zoom-in", text: "+", onclick: () => this.setZoom(ZOOMS.find((z) => z > this.zoom) ?? ZOOMS[ZOOMS.length - 1]) }),
      this.can("note.write")
        ? el("button", { type: "button", class: `btn${this.showNotes ? " active" : ""}`, "data-testid": "notes-toggle", text: t("doc_notes", { n: this.notes.ofDoc(d.id).length }), onclick: () => { this.showNotes = !this.showNotes; this.render(true); } })
        : null,
      d.downloadable ? el("a", { class: "btn", href: `/api/documents/${encodeURIComponent(d.id)}/original`, download: "", text: t("doc_original") }) : null,
      this.can("document.present")
        ? el("button", { type: "button", class: "btn", "data-testid": "present-page", text: t("doc_present"), onclick: () => api("POST", `/api/documents/${encodeURIComponent(d.id)}/present`, { page: this.page }).catch(() => {}) })
        : null,
    );
    const hint = this.tool === "read" ? null : el("div", { class: "tool-hint", text: t(`doc_tool_hint_${this.tool}`) });
    this.frame = pageFrame({
      src: pageUrl(d.id, this.page, this.zoom > 1.2 ? "zoom" : "tablet"),
      alt: `${d.title || ""} — ${t("page_of", { n: this.page, total })}`,
      doc: d.id,
      page: this.page,
      pageSize: (d.sizes || [])[this.page - 1] || null, // annotate offline on a page whose text never came
      tool: this.tool,
      onCreate: (fields) => this.createNote(fields),
      onPick: () => { this.showNotes = true; this.render(true); },
      afterDraw: (size, hits) => {
        // Opening a search hit: bring its first mark into the visible part of the page.
        if (!this.scrollToHit || !hits.length || !this.frame) return;
        this.scrollToHit = false;
        const stage = this.frame.node.parentElement;
        const y = (hits[0][1] / size.height) * this.frame.node.clientHeight;
        if (stage) stage.scrollTop = Math.max(0, y - 40);
      },
    });
    this.frame.node.style.width = `${this.zoom * 100}%`;
    this.redrawNotes();
    const strip = el("div", { class: "thumb-strip" });
    for (let n = 1; n <= total; n++) {
      strip.append(
        el(
          "button",
          { type: "button", class: `thumb${n === this.page ? " active" : ""}`, "aria-label": t("page_of", { n, total }), onclick: () => this.go(n) },
          el("img", { src: pageUrl(d.id, n, "thumb"), alt: "", loading: "lazy" }),
          el("span", { text: String(n) }),
        ),
      );
    }
    const stage = el("div", { class: "doc-stage" }, this.frame.node);
    this.gestures(stage);
    fill(
      this.container,
      this.followBar(),
      d.replaced_by ? el("div", { class: "notice", text: t("doc_replaced") }) : null,
      el("div", { class: "doc-toolbar" }, tabs, nav),
      el("div", { class: "doc-toolbar" }, searchForm, tools),
      hint,
      this.searchPanel(),
      this.notesPanel(),
      stage,
      strip,
    );
    // Bring the current thumbnail into view inside the strip only (never scroll the page).
    const active = strip.querySelector(".thumb.active");
    if (active) requestAnimationFrame(() => (strip.scrollLeft = active.offsetLeft - strip.clientWidth / 2 + active.clientWidth / 2));
  }

  /** Swipe to turn pages (reading, unzoomed), pinch to zoom (two fingers). */
  gestures(stage) {
    const touches = new Map();
    let startX = null;
    let pinch = null;
    stage.addEventListener("pointerdown", (e) => {
      touches.set(e.pointerId, [e.clientX, e.clientY]);
      if (touches.size === 1) startX = e.clientX;
      if (touches.size === 2) {
        const [a, b] = [...touches.values()];
        pinch = { dist: Math.hypot(a[0] - b[0], a[1] - b[1]), zoom: this.zoom };
        startX = null;
      }
    });
    stage.addEventListener("pointermove", (e) => {
      if (!touches.has(e.pointerId)) return;
      touches.set(e.pointerId, [e.clientX, e.clientY]);
      if (pinch && touches.size === 2) {
        const [a, b] = [...touches.values()];
        const dist = Math.hypot(a[0] - b[0], a[1] - b[1]);
        if (pinch.dist > 0) this.setZoom(Math.round(pinch.zoom * (dist / pinch.dist) * 4) / 4);
      }
    });
    const end = (e) => {
      touches.delete(e.pointerId);
      if (touches.size < 2) pinch = null;
      if (startX !== null && touches.size === 0 && this.tool === "read" && this.zoom === 1) {
        const dx = e.clientX - startX;
        if (Math.abs(dx) > 60) this.go(this.page + (dx < 0 ? 1 : -1));
      }
      if (touches.size === 0) startX = null;
    };
    stage.addEventListener("pointerup", end);
    stage.addEventListener("pointercancel", end);
  }
}
