// Pieces of a poll every screen shows the same way: the countdown and the poll stylesheet.
// The countdown counts to the server's `closes_at` with the server's clock (serverNow), so
// the tablet, the console and the hall display reach zero together; the server closes.
import { serverNow } from "./api.js";
import { el, formatDuration } from "./app.js";
import "./polls_i18n.js";
import { t } from "./i18n.js";

if (!document.querySelector('link[href="/ui/polls.css"]')) {
  document.head.append(el("link", { rel: "stylesheet", href: "/ui/polls.css" }));
}

function countdownText(closesAt) {
  const left = closesAt - serverNow();
  return left > 0 ? t("countdown", { time: formatDuration(Math.ceil(left)) }) : t("countdown_over");
}

/** "Còn lại 00:42" for a poll opened with a countdown, or null. */
export function countdown(poll) {
  if (poll.status !== "open" || !poll.closes_at) return null;
  return el("div", {
    class: "poll-countdown",
    "data-testid": "poll-countdown",
    "data-closes-at": String(poll.closes_at),
    text: countdownText(poll.closes_at),
  });
}

setInterval(() => {
  for (const node of document.querySelectorAll(".poll-countdown[data-closes-at]")) {
    node.textContent = countdownText(Number(node.dataset.closesAt));
    node.classList.toggle("poll-countdown-low", Number(node.dataset.closesAt) - serverNow() <= 10);
  }
}, 500);

/** Lines of free text (candidates, opinion answers): trimmed, NFC, blanks and repeats dropped. */
export function lines(text) {
  const out = [];
  for (const raw of String(text || "").split("\n")) {
    const line = raw.trim().normalize("NFC");
    if (line && !out.includes(line)) out.push(line);
  }
  return out;
}
