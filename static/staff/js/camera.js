// The camera: the browser's own QR detector where there is one, else the bundled decoder.
import { $, show } from "./dom.js";
import { gettext } from "./i18n.js";

let stream = null;

function say(message) {
  $("camera-msg").textContent = message;
}

function cannotOpen() {
  say(gettext("Cannot open the camera. Allow camera access in the browser settings (needs HTTPS), or type the code."));
}

// onCode(text) gets the first QR read; decoderUrl is the bundled decoder, fetched only if needed.
export function openCamera(onCode, decoderUrl) {
  show($("camera"), true);
  say(gettext("Opening the camera…"));
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    cannotOpen();
    return;
  }
  navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
    .then((s) => {
      if ($("camera").hidden) return s.getTracks().forEach((track) => track.stop());
      stream = s;
      const video = $("video");
      video.srcObject = s;
      return Promise.all([video.play(), makeDecoder(decoderUrl)]).then(([, decode]) => {
        say(gettext("Fit the QR code inside the frame"));
        scanLoop(s, decode, onCode);
      });
    })
    .catch(cannotOpen);
}

export function closeCamera() {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  show($("camera"), false);
}

function makeDecoder(decoderUrl) {
  const native = window.BarcodeDetector
    ? BarcodeDetector.getSupportedFormats().then((formats) => {
      if (formats.indexOf("qr_code") < 0) return null;
      const detector = new BarcodeDetector({ formats: ["qr_code"] });
      return (video) => detector.detect(video).then((found) => (found.length ? found[0].rawValue : null));
    }, () => null)
    : Promise.resolve(null);
  return native.then((decoder) => decoder || loadScript(decoderUrl).then(jsqrDecoder));
}

function loadScript(src) {
  if (window.jsQR) return Promise.resolve();
  return new Promise((done, fail) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = done;
    script.onerror = fail;
    document.head.appendChild(script);
  });
}

function jsqrDecoder() {
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  return (video) => {
    // A smaller frame decodes several times faster and a voucher QR stays readable at 640 px.
    const scale = Math.min(1, 640 / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const found = window.jsQR(image.data, canvas.width, canvas.height, { inversionAttempts: "dontInvert" });
    return Promise.resolve(found ? found.data : null);
  };
}

function scanLoop(s, decode, onCode) {
  if (stream !== s) return;
  const video = $("video");
  const frame = video.readyState >= 2 && video.videoWidth ? decode(video) : Promise.resolve(null);
  frame.catch(() => null).then((text) => {
    if (stream !== s) return;
    if (!text) return setTimeout(() => scanLoop(s, decode, onCode), 150);
    closeCamera();
    onCode(text);
  });
}
