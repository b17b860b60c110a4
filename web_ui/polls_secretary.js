// The secretary's vote card: prepared polls per agenda item (the chair opens each with one
// tap), a draft resolution voted article by article and then as a whole, and the counts of
// a paper ballot (kiểm phiếu) recorded as a poll's result.
import { post } from "./api.js";
import { $, el, fill, run, toast } from "./app.js";
import { t } from "./i18n.js";
import { chairPollForm } from "./polls_chair.js";
import { lines } from "./polls_common.js";

let seriesForm = null;
let seriesLang = null;

function buildSeries() {
  const title = el("input", { type: "text", id: "series-title", maxlength: "500", required: true });
  const articles = el("textarea", { id: "series-articles", rows: "4" });
  const item = el("select", { id: "series-item" });
  const method = el("select", { id: "series-method" },
    ["public", "secret"].map((m) => el("option", { value: m, text: t(`method_${m}`) })));
  const submit = el("button", { type: "submit", class: "btn primary", "data-testid": "series-submit", text: t("series_submit") });
  const form = el("form", { class: "poll-form", id: "series-form" },
    el("h3", { text: t("series_title") }),
    el("label", { class: "field-label", for: "series-title", text: t("series_name") }), title,
    el("label", { class: "field-label", for: "series-articles", text: t("series_articles") }), articles,
    el("label", { class: "field-label", for: "series-item", text: t("poll_item") }), item,
    el("label", { class: "field-label", for: "series-method", text: t("poll_method") }), method,
    submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { title: title.value.trim(), articles: lines(articles.value), method: method.value };
    if (item.value) body.item = Number(item.value);
    run(submit, async () => {
      const made = await post("/api/polls/series", body);
      toast(t("series_ok", { n: (made.ids || []).length }), "ok");
      articles.value = "";
    });
  });
  form.refresh = (state) => {
    const sig = JSON.stringify((state.agenda || []).map((it) => [it.n, it.title]));
    if (form.dataset.agenda === sig) return;
    form.dataset.agenda = sig;
    const keep = item.value;
    fill(item, el("option", { value: "", text: t("poll_item_none") }),
      (state.agenda || []).map((it) => el("option", { value: String(it.n), text: `${it.n}. ${it.title}` })));
    item.value = keep;
  };
  return form;
}

function preparedRows(state) {
  const rows = state.prepared || [];
  if (!rows.length) return el("p", { class: "muted", text: t("prepared_none") });
  return el("ul", { class: "prepared-list" }, rows.map((p) =>
    el("li", { class: `prepared-row${p.used ? " used" : ""}`, "data-prepared": p.id },
      el("div", {},
        el("div", { text: p.question }),
        el("div", { class: "prepared-meta", text: [
          p.item ? t("prepared_for_item", { n: p.item }) : null, t(`kind_${p.kind || "motion"}`),
          t(`method_${p.method || "public"}`), p.series ? t("prepared_step", { n: p.step }) : null,
        ].filter(Boolean).join(" · ") })),
      p.used
        ? el("span", { class: "muted", text: t("prepared_used") })
        : el("button", { type: "button", class: "btn", text: t("prepared_remove"),
            onclick: (e) => run(e.currentTarget, () => post(`/api/polls/prepared/${encodeURIComponent(p.id)}/remove`, {})) }))));
}

/** Render the card (created on first use, after the agenda card). */
export function renderPollsSecretary(state) {
  let card = $("#polls-secretary");
  if (!card) {
    card = el("section", { class: "card wide-card", id: "polls-secretary", "data-testid": "polls-secretary" },
      el("h2", { text: t("polls_secretary") }),
      el("div", { class: "polls-secretary-list" }),
      el("div", { class: "polls-secretary-forms" }));
    $("main").append(card);
  }
  card.querySelector("h2").textContent = t("polls_secretary");
  fill(card.querySelector(".polls-secretary-list"), el("h3", { text: t("prepared_title") }), preparedRows(state));
  if (!seriesForm || seriesLang !== document.documentElement.lang) {
    seriesForm = buildSeries();
    seriesLang = document.documentElement.lang;
  }
  seriesForm.refresh(state);
  const forms = card.querySelector(".polls-secretary-forms");
  const prepare = chairPollForm(state, "prepare");
  if (forms.firstChild !== prepare || forms.lastChild !== seriesForm) fill(forms, prepare, seriesForm);
}
