// The technician's hardware page (secretary.html?tech): every delegate unit with its state
// and the seat it is wired to (who sits there too; the wiring is the seating plan's), the
// last events (never a vote key's value: the server leaves it out), and the display
// outputs with the view each shows. Read from /api/devices every two seconds.
import { get, post } from "./api.js";
import { el, fill, formatTime, run } from "./app.js";
import "./floor_i18n.js";
import { t } from "./i18n.js";
import "./seating_i18n.js";

if (!document.querySelector('link[href="/ui/floor.css"]'))
  document.head.append(el("link", { rel: "stylesheet", href: "/ui/floor.css" }));

const VIEWS = ["hall", "seating", "speaker"];
const box = document.getElementById("tech-devices");

function unitRow(u) {
  const ring = u.indicator ? t(`tech_ring_${u.indicator}`) : "—";
  return el("tr", { class: u.online === false ? "unit-offline" : "", "data-testid": `unit-${u.seat}` },
    el("td", { text: String(u.seat) }),
    el("td", { "data-testid": `unit-seat-${u.seat}`, text: u.seat_number == null ? t("tech_unit_unwired") : String(u.seat_number) }),
    el("td", { "data-testid": `unit-delegate-${u.seat}`, text: u.delegate || "—" }),
    el("td", { text: u.online === false ? t("tech_offline") : t("tech_online") }),
    el("td", { text: u.relay === undefined ? "—" : u.relay ? t("tech_mic_on") : t("tech_mic_off") }),
    el("td", { text: ring }),
    el("td", { text: u.firmware || "—" }),
    el("td", { text: u.last_event ? t(`tech_ev_${u.last_event}`) : "—" }));
}

function displayRow(d) {
  const select = el("select", { "data-testid": `view-${d.connector}`, "aria-label": d.connector },
    VIEWS.map((v) => el("option", { value: v, text: t(`tech_view_${v}`) })));
  select.value = d.view || "hall";
  select.addEventListener("change", () =>
    run(select, () => post("/api/devices/displays", { connector: d.connector, view: select.value }).then(refresh)));
  return el("div", { class: "tech-display", "data-testid": `display-${d.connector}` },
    el("strong", { text: d.connector }),
    el("span", { text: d.connected ? t("tech_connected") : t("tech_disconnected") }),
    d.running ? el("span", { class: "muted", text: t("tech_running") }) : null,
    select);
}

function render(view) {
  const units = view.units || [];
  fill(box,
    el("div", { class: "card-head" },
      el("h2", { text: t("tech_devices") }),
      el("div", { class: "muted", "data-testid": "units-online",
        text: `${t("tech_source")}: ${view.source || "—"} · ${t("tech_units_online", { online: view.online ?? 0, total: units.length })}` })),
    units.length
      ? el("div", { class: "tech-scroll" }, el("table", {},
          el("thead", {}, el("tr", {}, ["tech_unit", "tech_seat", "tech_delegate", "tech_state", "tech_mic", "tech_ring", "tech_firmware", "tech_last"]
            .map((k) => el("th", { text: t(k) })))),
          el("tbody", {}, units.map(unitRow))))
      : el("p", { class: "muted", text: t("tech_no_units") }),
    el("h3", { text: t("tech_events") }),
    (view.events || []).length
      ? el("ul", { class: "tech-events", "data-testid": "unit-events" }, view.events.slice(0, 30).map((e) =>
          el("li", { text: `${formatTime(e.at)} · ${t("tech_unit")} ${e.seat} · ${t(`tech_ev_${e.type}`)}` })))
      : el("p", { class: "muted", text: t("tech_no_events") }),
    el("h3", { text: t("tech_displays") }),
    (view.displays || []).length ? view.displays.map(displayRow) : el("p", { class: "muted", text: t("tech_no_displays") }));
}

async function refresh() {
  try {
    render(await get("/api/devices"));
  } catch {
    // not paired yet, or not allowed: the page's own boot handles both
  }
}

if (box && new URLSearchParams(location.search).has("tech")) {
  box.hidden = false;
  refresh();
  setInterval(() => { if (!document.querySelector(".tech-display select:focus")) refresh(); }, 2000);
}
