// One page on screen: the rendered image, a transparent text layer for selecting text,
// and an SVG overlay drawn in PDF points (the server's coordinates: origin top-left) for
// search hits, highlights, ink and pinned notes. Because the overlay's viewBox is the
// page itself, nothing needs recomputing when the page is zoomed or the tablet rotates.
import { el } from "./app.js";
import { t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

const textCache = new Map(); // "doc:page" -> {width, height, words}

/** The page's words and size (cached; null while offline and never fetched). */
export async function pageText(doc, page) {
  const key = `${doc}:${page}`;
  if (textCache.has(key)) return textCache.get(key);
  try {
    const res = await fetch(`/api/documents/${encodeURIComponent(doc)}/text?page=${page}`, { credentials: "same-origin" });
    if (!res.ok) return null;
    const body = await res.json();
    textCache.set(key, body);
    return body;
  } catch {
    return null;
  }
}

/**
 * Build the page frame. `opts`: {src, alt, doc, page, tool, onCreate(fields), onPick(note)}.
 * Returns {node, draw(notes, hits)}; draw() can be called again when notes change.
 */
export function pageFrame(opts) {
  const img = el("img", { class: "doc-page", src: opts.src, alt: opts.alt, "data-testid": "doc-page", draggable: "false" });
  const words = el("div", { class: "text-layer", "data-testid": "text-layer" });
  const overlay = svg("svg", { class: "note-layer", "data-testid": "note-layer", preserveAspectRatio: "none" });
  const frame = el("div", { class: `page-frame tool-${opts.tool}` }, img, words);
  frame.append(overlay);
  // {width, height} in PDF points: from the document's metadata at once (so a page opened
  // offline, whose text layer was never fetched, can still be annotated), then the text.
  let size = Array.isArray(opts.pageSize) && opts.pageSize[0] > 0 ? { width: opts.pageSize[0], height: opts.pageSize[1] } : null;
  if (size) overlay.setAttribute("viewBox", `0 0 ${size.width} ${size.height}`);
  let lastNotes = [];
  let lastHits = [];

  const toPoints = (clientX, clientY) => {
    const box = frame.getBoundingClientRect();
    return [((clientX - box.left) / box.width) * size.width, ((clientY - box.top) / box.height) * size.height];
  };

  pageText(opts.doc, opts.page).then((info) => {
    if (!info) return;
    size = { width: info.width, height: info.height };
    overlay.setAttribute("viewBox", `0 0 ${info.width} ${info.height}`);
    const pct = (v, of) => `${(v / of) * 100}%`;
    for (const [x0, y0, x1, y1, word] of info.words || []) {
      const span = el("span", { text: `${word} ` });
      span.style.left = pct(x0, info.width);
      span.style.top = pct(y0, info.height);
      span.style.width = pct(x1 - x0, info.width);
      span.style.height = pct(y1 - y0, info.height);
      span.style.fontSize = `${((y1 - y0) / info.height) * 100 * 0.85}cqh`;
      span.dataset.rect = JSON.stringify([x0, y0, x1, y1]);
      words.append(span);
    }
    draw(lastNotes, lastHits);
  });

  function draw(notes, hits) {
    lastNotes = notes;
    lastHits = hits;
    overlay.replaceChildren();
    if (!size) return;
    for (const [x0, y0, x1, y1] of hits) {
      overlay.append(svg("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, class: "hit", "data-testid": "search-hit" }));
    }
    let pin = 0;
    for (const n of notes) {
      const g = svg("g", { class: `note note-${n.kind}${n.mine === false ? " theirs" : ""}${n.stale ? " stale" : ""}`, "data-note": n.id });
      const color = n.color || "#f59e0b";
      if (n.kind === "highlight") {
        for (const [x0, y0, x1, y1] of n.rects || []) g.append(svg("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, fill: color }));
      } else if (n.kind === "ink") {
        for (const stroke of n.strokes || []) g.append(svg("polyline", { points: stroke.map((p) => p.join(",")).join(" "), stroke: color }));
      } else if (n.kind === "text" && n.at) {
        pin += 1;
        g.append(svg("circle", { cx: n.at[0], cy: n.at[1], r: 9, fill: color }));
        const label = svg("text", { x: n.at[0], y: n.at[1] + 4 });
        label.textContent = String(pin);
        g.append(label);
      }
      const title = svg("title");
      title.textContent = n.text || t(`doc_note_kind_${n.kind}`);
      g.prepend(title);
      g.addEventListener("click", (e) => {
        e.stopPropagation();
        opts.onPick?.(n);
      });
      overlay.append(g);
    }
    opts.afterDraw?.(size, hits);
  }

  // Pen: strokes in PDF points, drawn live, saved as one ink note when the finger lifts.
  if (opts.tool === "pen") {
    let stroke = null;
    let line = null;
    frame.addEventListener("pointerdown", (e) => {
      if (!size) return;
      frame.setPointerCapture(e.pointerId);
      stroke = [toPoints(e.clientX, e.clientY)];
      line = svg("polyline", { class: "drawing", points: stroke.map((p) => p.join(",")).join(" ") });
      overlay.append(line);
    });
    frame.addEventListener("pointermove", (e) => {
      if (!stroke) return;
      stroke.push(toPoints(e.clientX, e.clientY).map((v) => Math.round(v * 10) / 10));
      line.setAttribute("points", stroke.map((p) => p.join(",")).join(" "));
    });
    const finish = () => {
      if (stroke && stroke.length > 1) opts.onCreate({ kind: "ink", strokes: [stroke] });
      stroke = null;
    };
    frame.addEventListener("pointerup", finish);
    frame.addEventListener("pointercancel", () => (stroke = null));
  }

  // Note: tap a point, type, save.
  if (opts.tool === "note") {
    frame.addEventListener("click", (e) => {
      if (!size || e.target.closest(".note-form")) return;
      const at = toPoints(e.clientX, e.clientY).map((v) => Math.round(v));
      frame.querySelector(".note-form")?.remove();
      const input = el("textarea", { class: "note-input", rows: "3", placeholder: t("doc_note_placeholder"), "data-testid": "note-input" });
      const form = el(
        "form",
        {
          class: "note-form",
          onsubmit: (ev) => {
            ev.preventDefault();
            const text = input.value.trim();
            form.remove();
            if (text) opts.onCreate({ kind: "text", at, text });
          },
        },
        input,
        el("div", { class: "note-form-actions" },
          el("button", { type: "button", class: "btn", text: t("doc_note_cancel"), onclick: () => form.remove() }),
          el("button", { type: "submit", class: "btn primary", text: t("doc_note_save"), "data-testid": "note-save" })),
      );
      form.style.left = `${(at[0] / size.width) * 100}%`;
      form.style.top = `${(at[1] / size.height) * 100}%`;
      frame.append(form);
      input.focus();
    });
  }

  // Highlight: the words the delegate selected become one highlight note.
  if (opts.tool === "highlight") {
    const take = () => {
      const sel = window.getSelection();
      if (!sel || sel.isCollapsed) return;
      const rects = [...words.children].filter((s) => sel.containsNode(s, true)).map((s) => JSON.parse(s.dataset.rect));
      const text = sel.toString().trim();
      sel.removeAllRanges();
      if (rects.length) opts.onCreate({ kind: "highlight", rects, text: text.slice(0, 2000) });
    };
    words.addEventListener("pointerup", () => setTimeout(take, 0));
    words.addEventListener("keyup", take);
  }

  return { node: frame, img, draw };
}
