// The optional public display (/ui/public.html): no pairing, no credential, only what
// /api/public gives — the sitting, the item, the speaker, attendance and poll totals.
// Polls every 3 s (a public page holds no live channel of its own).
import { ApiError, get } from "./api.js";
import { $, el, fill } from "./app.js";
import { applyI18n, getLang, t } from "./i18n.js";
import "./seating_i18n.js";

const lang = new URLSearchParams(location.search).get("lang");

function label(view, code) {
  if (getLang() === "vi" && view.labels?.[code]) return view.labels[code];
  return t(`ans_${code}`);
}

function render(view) {
  const a = view.attendance || {};
  fill($("#public"),
    el("h1", { text: view.body || t("app_name") }),
    el("div", { class: "muted", text: [view.session, view.sitting?.title].filter(Boolean).join(" · ") }),
    el("div", { class: "public-grid" },
      el("section", { class: "card" },
        el("h2", { text: t("current_item") }),
        el("p", { class: "display-item-title", "data-testid": "public-item", text: view.item ? `${view.item.n}. ${view.item.title}` : t("no_current_item") }),
        el("h2", { text: t("speaking") }),
        el("p", { text: (view.speaking || []).map((s) => s.name).join(", ") || t("nobody_speaking") })),
      el("section", { class: "card" },
        el("h2", { text: t("quorum") }),
        el("p", { class: `quorum-line ${a.quorum ? "quorum-ok" : "quorum-no"}`, "data-testid": "public-attendance",
          text: `${a.present ?? 0}/${a.total ?? 0}` }))),
    el("section", { class: "card" },
      el("h2", { text: t("public_results") }),
      (view.polls || []).length
        ? el("ul", {}, view.polls.map((p) => el("li", { "data-testid": `public-poll-${p.id}` },
            el("b", { text: p.question }), " — ",
            Object.entries(p.result?.counts || {}).filter(([, v]) => typeof v === "number")
              .map(([k, v]) => `${label(view, k)}: ${v}`).join(" · "))))
        : el("p", { class: "muted", text: "—" })));
}

async function tick() {
  try {
    render(await get("/api/public"));
  } catch (err) {
    fill($("#public"), el("p", { class: "muted", "data-testid": "public-off",
      text: err instanceof ApiError && err.code === "not_found" ? t("public_off") : t("offline") }));
  }
}

if (lang === "vi" || lang === "en") (await import("./i18n.js")).setLang(lang);
applyI18n();
tick();
setInterval(tick, 3000);
