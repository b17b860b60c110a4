// Reading a check-in card's QR from a camera frame (checkin.js). The browser's own
// BarcodeDetector where it has one (Chrome on Android); otherwise — iPad Safari, desktop
// Chromium on Linux — the vendored jsQR decoder (web_ui/vendor/README.md) on a canvas copy
// of the frame. jsQR is a classic script (a UMD build; there is no build step to turn it
// into a module), so it is loaded only when the fallback is first needed.

const JSQR_SRC = "/ui/vendor/jsQR.js";
const MAX_SIDE = 800; // a frame is scaled down to this before decoding: enough for a card, fast on a tablet

let jsqrLoading = null;
let native; // the BarcodeDetector instance once asked for; null when the browser has none for QR

/** window.jsQR, loading /ui/vendor/jsQR.js once (a classic script: CSP allows 'self'). */
export function loadJsQR() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  if (!jsqrLoading) {
    jsqrLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = JSQR_SRC;
      script.async = true;
      script.addEventListener("load", () => (window.jsQR ? resolve(window.jsQR) : reject(new Error("jsQR missing"))));
      script.addEventListener("error", () => {
        jsqrLoading = null; // offline for a moment: the next frame tries again
        reject(new Error(`could not load ${JSQR_SRC}`));
      });
      document.head.append(script);
    });
  }
  return jsqrLoading;
}

async function nativeDetector() {
  if (native !== undefined) return native;
  native = null;
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats?.();
      if (!formats || formats.includes("qr_code")) native = new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch {
      native = null;
    }
  }
  return native;
}

/** Which decoder this browser uses: "native" (BarcodeDetector) or "jsqr". */
export async function decoderKind() {
  return (await nativeDetector()) ? "native" : "jsqr";
}

function frameSize(source) {
  const w = source.videoWidth || source.naturalWidth || source.width || 0;
  const h = source.videoHeight || source.naturalHeight || source.height || 0;
  const scale = Math.min(1, MAX_SIDE / Math.max(w, h, 1));
  return [Math.round(w * scale), Math.round(h * scale)];
}

let canvas = null;

/** The QR texts jsQR finds in one frame (a video, image or canvas element): [] or [text]. */
export async function decodeWithJsQR(source) {
  const jsQR = await loadJsQR();
  const [w, h] = frameSize(source);
  if (!w || !h) return [];
  canvas = canvas || document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, w, h);
  const found = jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
  return found?.data ? [found.data] : [];
}

/** The QR texts in one frame, with the browser's detector when it has one, else jsQR. */
export async function readQr(source) {
  const detector = await nativeDetector();
  if (!detector) return decodeWithJsQR(source);
  return (await detector.detect(source)).map((c) => c.rawValue).filter(Boolean);
}
