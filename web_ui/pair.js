// The plain-HTTP start page: the CA download, its fingerprint to compare with the hall
// display, and the way on to HTTPS carrying a pairing code or seat card along.
const fp = document.getElementById("ca-fingerprint");
const secure = document.getElementById("secure-link");

async function start() {
  let info = null;
  try {
    const res = await fetch("/api/tls/info", { cache: "no-store" });
    info = res.ok ? await res.json() : null;
  } catch {
    info = null;
  }
  const params = new URLSearchParams(location.search);
  const keep = new URLSearchParams();
  for (const name of ["code", "card"]) if (params.get(name)) keep.set(name, params.get(name));
  const query = keep.toString() ? `?${keep}` : "";
  if (!info || !info.enabled) {
    fp.textContent = "—";
    document.getElementById("tls-off").hidden = false;
    secure.href = `/ui/${query}`;
    return;
  }
  fp.textContent = info.fingerprint;
  secure.href = `${info.https_base}/ui/${query}`;
}

start();
