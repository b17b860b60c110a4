// The secretary's desk (and, with ?tech, the technician's pairing screen): participants
// and their pairing codes, attendance on a delegate's behalf, agenda and documents.
import { api, post } from "./api.js";
import { $, boot, el, errorText, fill, formatTime, isDelegateRole, roleLabel, run, sittingStatusLabel } from "./app.js";
import { t } from "./i18n.js";
import { renderMinutes } from "./minutes.js";
import { renderPollsSecretary } from "./polls_secretary.js";
import { renderDocsManage } from "./secretary_docs.js";
import { participantButtons } from "./secretary_participants.js";

const TECH = new URLSearchParams(location.search).has("tech");
const ROLES = ["delegate", "chair", "vice_chair", "secretary", "technician", "display", "guest"];
let latest = null;

function showFormError(id, msg) {
  const node = $(id);
  node.textContent = msg || "";
  node.hidden = !msg;
}

/** Our own server's QR (an SVG string): parse it as SVG and keep only the SVG element. */
function qrNode(svgText) {
  if (!svgText) return null;
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName.toLowerCase() !== "svg") return null;
  for (const bad of svg.querySelectorAll("script, foreignObject")) bad.remove();
  const node = document.importNode(svg, true);
  // Scale to the box: give the SVG a viewBox from its own size when it has none.
  if (!node.getAttribute("viewBox")) {
    const w = parseFloat(node.getAttribute("width"));
    const h = parseFloat(node.getAttribute("height"));
    if (w && h) node.setAttribute("viewBox", `0 0 ${w} ${h}`);
  }
  node.removeAttribute("width");
  node.removeAttribute("height");
  node.setAttribute("class", "qr-svg");
  node.setAttribute("role", "img");
  return node;
}

function showCode(participant, res) {
  const overlay = $("#code-overlay");
  const digits = String(res.code || "");
  overlay.hidden = false;
  fill(
    overlay,
    el("div", { class: "overlay-box code-box", role: "dialog", "aria-modal": "true" },
      el("h2", { text: t("pairing_code_for", { name: participant.name }) }),
      el("div", { class: "pair-code", "data-testid": "pairing-code", "data-code": digits, text: digits.replace(/(\d{3})(\d{3})/, "$1 $2") }),
      res.expires_at ? el("div", { class: "muted", text: t("expires_at", { time: formatTime(res.expires_at) }) }) : null,
      el("div", { class: "qr-wrap" }, qrNode(res.qr_svg)),
      res.pair_url ? el("div", { class: "muted" }, el("div", { text: t("pair_url") }), el("code", { class: "pair-url", text: res.pair_url })) : null,
      el("button", { type: "button", class: "btn big", "data-testid": "close-code", text: t("close"),
        onclick: () => { overlay.hidden = true; fill(overlay); } })),
  );
}

function renderParticipants(state) {
  const present = new Set(state.attendance?.present_ids || []);
  const a = state.attendance || {};
  $("#attendance-summary").textContent =
    a.total != null ? `${t("present_of", { present: a.present ?? 0, total: a.total })} · ${t("needed", { needed: a.needed ?? "—" })}` : "";
  const rows = (state.participants || []).map((p) => {
    const delegate = isDelegateRole(p.role);
    const here = present.has(p.id);
    return el("tr", { "data-participant": p.id },
      el("td", { text: p.seat ?? "" }),
      el("td", {}, el("div", { class: "cell-name", text: p.name }),
        ...[p.title, p.unit, p.team].filter(Boolean).map((x) => el("div", { class: "muted small", text: x }))),
      el("td", { text: roleLabel(p.role) }),
      el("td", { class: here ? "present-yes" : "present-no", text: delegate ? (here ? `✓ ${t("yes")}` : t("no")) : "" }),
      el("td", { class: "row-actions" },
        el("button", { type: "button", class: "btn", "data-testid": `issue-${p.id}`, text: t("issue_code"),
          onclick: (e) => run(e.currentTarget, async () => showCode(p, await post("/api/pairing-codes", { participant_id: p.id }))) }),
        delegate && !TECH
          ? el("button", { type: "button", class: "btn", text: here ? t("check_out_for") : t("check_in_for"),
              onclick: (e) => run(e.currentTarget, () =>
                post(`/api/attendance/${encodeURIComponent(p.id)}/${here ? "check-out" : "check-in"}`, {})) })
          : null,
        TECH ? null : participantButtons(p)));
  });
  fill($("#participants"), rows);
}

function renderAgenda(state) {
  const items = state.agenda || [];
  const cur = state.sitting?.current_item;
  fill($("#agenda"), items.length
    ? items.map((it) => el("li", { class: `agenda-row${it.n === cur ? " current" : ""}` },
        el("span", { class: "agenda-n", text: String(it.n) }),
        el("div", { class: "agenda-title" }, el("div", { text: it.title }),
          ...(it.documents || []).map((id) => {
            const d = state.documents?.[id];
            return el("div", { class: "muted small", text: `• ${d?.title || d?.filename || id}${d?.pages ? ` — ${t("pages", { n: d.pages })}` : ""}` });
          }))))
    : el("li", { class: "muted", text: t("agenda_empty") }));
  const select = $("#u-item");
  const chosen = select.value;
  fill(select, items.map((it) => el("option", { value: String(it.n), text: `${it.n}. ${it.title}` })));
  if (chosen && items.some((it) => String(it.n) === chosen)) select.value = chosen;
  else if (cur) select.value = String(cur);
}

function renderHeader(state, me) {
  $("#body-name").textContent = state.body?.name || t("app_name");
  $("#page-title").textContent = TECH ? t("technician_title") : t("secretary_title");
  $("#sitting-title").textContent = [state.session?.title, state.sitting?.title].filter(Boolean).join(" · ");
  const badge = $("#sitting-status");
  badge.textContent = sittingStatusLabel(state.sitting);
  badge.dataset.status = state.sitting?.status || "none";
  $("#rehearsal").hidden = !state.session?.rehearsal;
  $("#rehearsal").textContent = t("rehearsal");
  $("#me-name").textContent = me.participant?.name || "";
  $("#me-role").textContent = roleLabel(me.role);
  const setup = $("#setup-box");
  if (!state.session?.title && !setup.dataset.touched) setup.open = true;
}

function render(state, me) {
  latest = { state, me };
  renderHeader(state, me);
  renderParticipants(state);
  if (!TECH) renderAgenda(state);
  if (!TECH) renderDocsManage(state);
  if (!TECH) renderPollsSecretary(state);
  renderMinutes(state, me, TECH);
}

function fillRoleSelect() {
  const select = $("#p-role");
  if (select.dataset.lang === document.documentElement.lang) return;
  select.dataset.lang = document.documentElement.lang;
  const v = select.value || "delegate";
  fill(select, ROLES.map((r) => el("option", { value: r, text: roleLabel(r) })));
  select.value = v;
}

$("#participant-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const fd = new FormData(form);
  const p = { name: String(fd.get("name")).trim(), role: fd.get("role") };
  if (String(fd.get("seat") || "").trim()) p.seat = Number(String(fd.get("seat")).trim());
  if (fd.get("title")) p.title = String(fd.get("title")).trim();
  showFormError("#participant-error", "");
  run(form.querySelector("button[type=submit]"), async () => {
    try {
      await post("/api/participants", { participants: [p] });
      form.reset();
      $("#p-role").value = "delegate";
    } catch (err) {
      showFormError("#participant-error", errorText(err));
    }
  });
});

$("#agenda-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const title = String(new FormData(form).get("title")).trim();
  showFormError("#agenda-error", "");
  run(form.querySelector("button[type=submit]"), async () => {
    try {
      await post("/api/agenda", { title });
      form.reset();
    } catch (err) {
      showFormError("#agenda-error", errorText(err));
    }
  });
});

$("#upload-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const fd = new FormData(form);
  if (!fd.get("password")) fd.delete("password");
  showFormError("#upload-error", "");
  const ok = $("#upload-ok");
  ok.hidden = false;
  ok.textContent = t("uploading");
  run(form.querySelector("button[type=submit]"), async () => {
    try {
      const res = await api("POST", "/api/documents", fd);
      ok.textContent = t("uploaded", { title: res.document?.title || "", pages: res.document?.pages ?? "?" });
      form.querySelector("input[type=file]").value = "";
    } catch (err) {
      ok.hidden = true;
      showFormError("#upload-error", errorText(err));
    }
  });
});

$("#setup-box").addEventListener("toggle", (ev) => (ev.currentTarget.dataset.touched = "1"));
$("#setup-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const fd = new FormData(form);
  const body = {
    body: String(fd.get("body")).trim(),
    session: String(fd.get("session")).trim(),
    sittings: String(fd.get("sittings")).split("\n").map((s) => s.trim()).filter(Boolean),
    rehearsal: fd.get("rehearsal") === "on",
  };
  showFormError("#setup-error", "");
  run(form.querySelector("button[type=submit]"), async () => {
    try {
      await post("/api/setup", body);
      $("#setup-box").open = false;
    } catch (err) {
      showFormError("#setup-error", errorText(err));
    }
  });
});

if (TECH) for (const node of document.querySelectorAll(".content-only")) node.hidden = true;
fillRoleSelect();
boot({
  render: (state, me) => {
    if (me.role === "technician" && !TECH) {
      location.replace("/ui/secretary.html?tech");
      return;
    }
    fillRoleSelect();
    render(state, me);
  },
  allowRoles: ["secretary", "technician"],
});
