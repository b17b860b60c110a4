// The hall display is laid out for 1920×1080. Many hall TVs are 1366×768 or 1280×800:
// there the whole page is scaled down as one picture (same layout, smaller), so results
// and counts are never cut off and the base line never wraps a word per line. Portrait
// screens and screens 1920 wide or more keep the native layout.
const DESIGN_WIDTH = 1920;

export function fitHall() {
  const root = document.documentElement;
  const { innerWidth: w, innerHeight: h } = window;
  const scale = w < DESIGN_WIDTH && w > h ? w / DESIGN_WIDTH : 1;
  root.classList.toggle("hall-scaled", scale !== 1);
  root.style.setProperty("--hall-scale", String(scale));
  root.style.setProperty("--hall-height", `${Math.round(h / scale)}px`);
}

fitHall();
window.addEventListener("resize", fitHall);
