/* Buyer voucher page: keeps the status current and, for live-QR vouchers, swaps in a fresh QR
   before the one on screen expires. The server renders everything else. */
import { gettext, interpolate } from "../staff/js/i18n.js";
import { changedSince, isStale, secondsLeft } from "./js/clock.js";

const page = document.getElementById("voucher");
const get = (name) => fetch(page.dataset.base + name, { cache: "no-store", credentials: "omit" });

// A scan at the counter changes the status or uses left; the page reloads to show it.
function checkStatus() {
  if (document.hidden) return;
  get("status.json")
    .then((r) => (r.ok ? r.json() : null))
    .then((latest) => {
      if (changedSince(page.dataset, latest)) location.reload();
    })
    .catch(() => {});
}

function keepLiveQr() {
  const qr = document.getElementById("qr");
  const bar = document.getElementById("timer-bar");
  const countdown = document.getElementById("countdown");
  const retrying = document.getElementById("retrying");
  const graceMs = Number(page.dataset.step) * 1000;
  let deadline = 0;
  let timer = 0;

  function show(expiresIn) {
    deadline = Date.now() + expiresIn * 1000;
    bar.style.transition = "none";
    bar.style.transform = "scaleX(1)";
    void bar.offsetWidth; // commit the full bar before it starts shrinking
    bar.style.transition = "transform " + expiresIn + "s linear";
    bar.style.transform = "scaleX(0)";
    clearTimeout(timer);
    timer = setTimeout(refresh, expiresIn * 1000);
    tick();
  }

  function refresh() {
    clearTimeout(timer);
    if (document.hidden) return; // visibilitychange fetches one when the page is back
    get("live.json")
      .then((r) => {
        if (r.status === 409 || r.status === 404) return location.reload();
        if (!r.ok) throw new Error(r.status);
        return r.json().then((data) => {
          qr.innerHTML = data.svg;
          retrying.hidden = true;
          show(data.expires_in);
        });
      })
      .catch(() => {
        retrying.hidden = false;
        timer = setTimeout(refresh, 3000);
      });
  }

  function tick() {
    const now = Date.now();
    countdown.textContent = interpolate(gettext("Refreshes in %(s)s s"), { s: secondsLeft(deadline, now) }, true);
    qr.classList.toggle("stale", isStale(deadline, graceMs, now));
  }

  setInterval(tick, 500);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  show(Number(page.dataset.live));
}

if (page) {
  setInterval(checkStatus, 15000);
  document.addEventListener("visibilitychange", checkStatus);
  if (page.dataset.live) keepLiveQr();
}
