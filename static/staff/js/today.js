// Today's own redemptions, and undoing one of them.
import { $, blurInput, show, toast } from "./dom.js";
import { clock, todaySum } from "./format.js";
import { gettext } from "./i18n.js";
import { canUndo } from "./screens.js";

let call = null;
let config = null;

// call(url, body?) is the page's one request (net.js, with the login redirect); config the page's.
export function setUpToday(pageCall, pageConfig) {
  call = pageCall;
  config = pageConfig;
}

export function openToday() {
  blurInput();
  show($("today"), true);
  $("today-sum").textContent = "";
  loadToday(true);
}

export function closeToday() {
  show($("today"), false);
}

// The count on the top bar always; the list only while it is open.
export function loadToday(render) {
  return call(config.urls.mine).then((answer) => {
    const data = answer.data;
    if (!data.results) return;
    $("today-count").textContent = data.count;
    if (render) renderToday(data);
  }, () => {
    if (render) toast(gettext("Unstable network, try again"));
  });
}

function renderToday(data) {
  $("today-sum").textContent = todaySum(data.count, data.uses);
  const list = $("today-list");
  list.textContent = "";
  data.results.forEach((row) => list.appendChild(todayRow(row)));
  show($("today-empty"), data.results.length === 0);
}

function todayRow(row) {
  const li = document.createElement("li");
  li.className = "today-row" + (row.reversed ? " reversed" : "");
  li.innerHTML = '<span class="tr-time"></span><div class="tr-main"><b class="tr-product"></b>' +
    '<small class="tr-meta"></small></div><span class="tr-uses"></span>';
  li.querySelector(".tr-time").textContent = clock(row.at);
  li.querySelector(".tr-product").textContent = row.product.name;
  li.querySelector(".tr-meta").textContent = row.code_masked + " · " + row.store.name;
  li.querySelector(".tr-uses").textContent = row.reversed ? gettext("Undone") : "×" + row.uses;
  const staffId = config.staff ? config.staff.id : null;
  if (canUndo(row, staffId, Date.now(), config.rules)) li.appendChild(undoButton(row));
  return li;
}

// Two taps, so a slip of the thumb does not undo a redemption.
function undoButton(row) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn-undo";
  button.textContent = gettext("Undo");
  let armed = 0;
  button.onclick = () => {
    if (!armed) {
      button.textContent = gettext("Undo it?");
      button.classList.add("armed");
      armed = setTimeout(() => {
        armed = 0;
        button.textContent = gettext("Undo");
        button.classList.remove("armed");
      }, 4000);
      return;
    }
    clearTimeout(armed);
    button.disabled = true;
    undo(row);
  };
  return button;
}

function undo(row) {
  const url = config.urls.reverse.replace("/0/", "/" + row.id + "/");
  call(url, { reason: gettext("Undone by staff") }).then((answer) => {
    toast(answer.data.ok ? gettext("Undone: the uses are back on the voucher") : undoRefusal(answer));
    return loadToday(true);
  }, () => {
    toast(gettext("Unstable network, try again"));
    return loadToday(true);
  });
}

// The server's sentence names vouchers; a redemption it cannot find gets the scanner's own words.
function undoRefusal(answer) {
  if (answer.status === 404) return gettext("No such redemption");
  return answer.data.message || gettext("Try again in a moment");
}
