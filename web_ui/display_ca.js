// The hall display shows the box CA's fingerprint, so whoever installs the certificate on
// a tablet can compare it with what the tablet shows (pair.html) before trusting it.
import { el } from "./app.js";

async function start() {
  let info;
  try {
    const res = await fetch("/api/tls/info", { cache: "no-store" });
    info = res.ok ? await res.json() : null;
  } catch {
    info = null;
  }
  if (!info || !info.enabled) return;
  document.head.append(el("link", { rel: "stylesheet", href: "/ui/trust.css" }));
  document.body.append(
    el(
      "footer",
      { class: "display-ca", "data-testid": "display-ca" },
      el("span", { class: "display-ca-label", text: "Mã chứng chỉ của hộp · Box certificate (SHA-256)" }),
      el("code", { text: info.fingerprint }),
    ),
  );
}

start();
