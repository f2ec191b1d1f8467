// 员工 (owner): add a clerk or manager, hand them a one-use sign-in QR, see where each one is signed
// in and sign a lost phone out, 停用 someone who left. The pure parts (the countdown, devices by
// member, how a device signed in, "3 分钟前") are exported for Node; the rest needs the page.
import { gettext, interpolate, ngettext } from "../../staff/js/i18n.js";
import { copy } from "./issuing.js";
import { esc } from "./render.js";

// 09:59 from the milliseconds left; never below 00:00.
export function countdown(msLeft) {
  const seconds = Math.max(0, Math.ceil(msLeft / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  return pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
}

// {staff id: [devices]}, each member's most recently used first, as the API lists them.
export function devicesByStaff(devices) {
  const grouped = {};
  devices.forEach((d) => { (grouped[d.staff.id] = grouped[d.staff.id] || []).push(d); });
  return grouped;
}

export function howLabel(how) {
  const labels = { password: gettext("Password sign-in"), token: gettext("API token"), qr: gettext("QR sign-in") };
  return labels[how] || how;
}

// What the browser called itself, else how it signed in.
export function deviceLabel(device) {
  return device.name || howLabel(device.how);
}

// 刚刚, 3 分钟前, 2 小时前, 5 天前: the last use, as a glance at the list needs it.
export function ago(iso, now) {
  const minutes = Math.floor((now - Date.parse(iso)) / 60000);
  if (minutes < 1) return gettext("just now");
  if (minutes < 60) return interpolate(ngettext("%(n)s minute ago", "%(n)s minutes ago", minutes), { n: minutes }, true);
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return interpolate(ngettext("%(n)s hour ago", "%(n)s hours ago", hours), { n: hours }, true);
  const days = Math.floor(hours / 24);
  return interpolate(ngettext("%(n)s day ago", "%(n)s days ago", days), { n: days }, true);
}

// The owner hands sign-in QRs to, and may 停用, anyone active but themselves.
export function manageable(member) {
  return member.is_active && member.role !== "owner";
}

function when(iso) {
  return iso.slice(5, 10) + " " + iso.slice(11, 16);
}

export function createPeople({ config, get, post, patch }) {
  const $ = (id) => document.getElementById(id);
  let members = [];
  let devices = {};
  let storeNames = {};
  let pending = null;
  let qr = null; // {member, expires, timer}

  function failed(where, error) {
    $(where).textContent = error.message;
    $(where).hidden = false;
  }

  function said(words) {
    $("people-message").textContent = words;
    $("people-message").hidden = false;
  }

  // Every page of the device list: a shop has tens of devices, not thousands.
  function allDevices(url, found) {
    return get(url).then((page) => {
      const all = found.concat(page.results);
      return page.next ? allDevices(page.next, all) : all;
    });
  }

  function load() {
    Promise.all([get(config.urls.staffList), allDevices(config.urls.devices, []), get(config.urls.storeList)])
      .then(([staff, signedIn, stores]) => {
        $("people-error").hidden = true;
        members = staff;
        devices = devicesByStaff(signedIn);
        storeNames = {};
        stores.forEach((s) => { storeNames[s.id] = s.name; });
        drawStoreChoices(stores);
        draw();
      }, (e) => failed("people-error", e));
  }

  function drawStoreChoices(stores) {
    const box = $("people-stores");
    const ticked = new Set(Array.from(box.querySelectorAll("input:checked")).map((i) => i.value));
    box.innerHTML = stores.map((s) => '<label class="check"><input type="checkbox" name="store" value="' + s.id + '"' +
      (ticked.has(String(s.id)) ? " checked" : "") + "> " + esc(s.name) + "</label>").join("") ||
      '<span class="note">' + esc(gettext("No stores yet: add one in the admin.")) + "</span>";
  }

  // Name, how and when on one cell, so the row keeps its 退出登录 button on a phone's width.
  function deviceRow(d, now) {
    const facts = (d.current ? [gettext("This device")] : []).concat(d.name ? [howLabel(d.how)] : [])
      .concat(interpolate(gettext("Signed in %(when)s"), { when: when(d.created_at) }, true));
    return "<tr><td><b>" + esc(deviceLabel(d)) + '</b><span class="note">' + facts.map((f) => "<span>" + esc(f) + "</span>").join(" · ") +
      '</span></td><td class="num">' +
      esc(ago(d.last_seen_at, now)) + '</td><td class="num"><button type="button" class="act act-void" data-signout="' + d.id +
      '">' + esc(gettext("Sign out")) + "</button></td></tr>";
  }

  function deviceTable(list) {
    if (!list.length) return '<p class="note">' + esc(gettext("Not signed in on any device")) + "</p>";
    const now = Date.now();
    return '<div class="scroll"><table class="devices"><thead><tr><th>' + esc(gettext("Device")) + '</th><th class="num">' +
      esc(gettext("Last used")) + "</th><th></th></tr></thead><tbody>" + list.map((d) => deviceRow(d, now)).join("") +
      "</tbody></table></div>";
  }

  function memberItem(m) {
    const stores = m.stores.map((id) => storeNames[id]).filter(Boolean).join("、");
    const acts = manageable(m)
      ? '<span class="acts"><button type="button" class="act" data-qr="' + m.id + '">' + esc(gettext("Sign-in QR")) +
        '</button><button type="button" class="act act-void" data-deactivate="' + m.id + '">' + esc(gettext("Deactivate")) +
        "</button></span>"
      : "";
    return '<li class="member' + (m.is_active ? "" : " member-gone") + '" data-member="' + m.id + '"><div class="member-head">' +
      "<b>" + esc(m.display_name) + '</b> <span class="pill">' + esc(config.roles[m.role] || m.role) + "</span> " +
      '<span class="pill ' + (m.is_active ? "pill-active" : "pill-voided") + '">' +
      esc(m.is_active ? gettext("Active") : gettext("Deactivated")) + "</span>" +
      '<span class="member-stores">' + esc(stores || (m.role === "owner" ? gettext("All stores") : gettext("No store"))) +
      "</span>" + acts + "</div>" + (m.is_active ? deviceTable(devices[m.id] || []) : "") + "</li>";
  }

  function draw() {
    $("people-list").innerHTML = members.map(memberItem).join("");
  }

  function member(id) {
    return members.find((m) => String(m.id) === String(id));
  }

  function device(id) {
    return Object.values(devices).flat().find((d) => String(d.id) === String(id));
  }

  // ---- 添加员工 ----

  function add(event) {
    event.preventDefault();
    const body = {
      display_name: $("people-name").value.trim(),
      role: $("people-add").querySelector("input[name=role]:checked").value,
      stores: Array.from($("people-stores").querySelectorAll("input:checked")).map((i) => Number(i.value)),
    };
    const username = $("people-username").value.trim();
    const password = $("people-password").value;
    if (username) body.username = username;
    if (password) body.password = password;
    $("people-add-error").hidden = true;
    $("people-add-go").disabled = true;
    post(config.urls.staffList, body).then((added) => {
      $("people-add").reset();
      said(interpolate(gettext("%(display_name)s added. Show them the sign-in QR to sign in on their phone."), added, true));
      load();
    }, (e) => failed("people-add-error", e)).then(() => { $("people-add-go").disabled = false; });
  }

  // ---- the confirm sheet: 停用 and 退出登录 ----

  const CONFIRM = {
    deactivate: {
      title: (m) => interpolate(gettext("Deactivate %(display_name)s?"), m, true), label: () => gettext("Deactivate"),
      warning: () => gettext("They are signed out on every device at once and can no longer sign in."),
      run: (m) => patch(config.urls.staffDetail.replace("/0/", "/" + m.id + "/"), { is_active: false }),
      done: (m) => interpolate(gettext("%(display_name)s deactivated"), m, true),
    },
    signout: {
      title: (d) => interpolate(gettext("Sign out %(device)s?"), { device: deviceLabel(d) }, true), label: () => gettext("Sign out"),
      warning: () => gettext("This device is signed out at once and must sign in again."),
      run: (d) => post(config.urls.deviceSignOut.replace("/0/", "/" + d.id + "/"), {}),
      done: (d) => interpolate(gettext("%(device)s signed out"), { device: deviceLabel(d) }, true),
    },
  };

  function ask(name, thing) {
    if (!thing) return;
    pending = { name, thing };
    const c = CONFIRM[name];
    $("people-sheet-title").textContent = c.title(thing);
    $("people-sheet-warning").textContent = c.warning();
    $("people-sheet-error").hidden = true;
    $("people-sheet-confirm").textContent = c.label();
    $("people-sheet").hidden = false;
    $("people-sheet-confirm").focus();
  }

  function closeSheet() {
    pending = null;
    $("people-sheet").hidden = true;
  }

  function confirmed(event) {
    event.preventDefault();
    if (!pending) return;
    const { name, thing } = pending;
    $("people-sheet-confirm").disabled = true;
    CONFIRM[name].run(thing).then(() => {
      closeSheet();
      said(CONFIRM[name].done(thing));
      load();
    }, (e) => failed("people-sheet-error", e)).then(() => { $("people-sheet-confirm").disabled = false; });
  }

  // ---- 登录二维码 ----

  function tick() {
    const left = qr.expires - Date.now();
    $("qr-left").textContent = countdown(left);
    if (left > 0) return;
    clearInterval(qr.timer);
    $("qr-sheet").classList.add("expired");
    $("qr-expired").hidden = false;
  }

  function showQr(m) {
    if (!m) return;
    if (qr) clearInterval(qr.timer);
    qr = { member: m, expires: 0, timer: null };
    $("qr-title").textContent = interpolate(gettext("Sign-in QR for %(display_name)s"), m, true);
    $("qr-error").hidden = true;
    $("qr-expired").hidden = true;
    $("qr-body").hidden = true;
    $("qr-sheet").classList.remove("expired");
    $("qr-sheet").hidden = false;
    post(config.urls.signinQr.replace("/0/", "/" + m.id + "/"), {}).then((answer) => {
      if (!qr || qr.member !== m) return;
      $("qr-image").src = answer.qr_url;
      $("qr-link").value = answer.url;
      $("qr-copy").setAttribute("data-copy", answer.url);
      $("qr-copy").textContent = gettext("Copy");
      $("qr-body").hidden = false;
      qr.expires = Date.parse(answer.expires_at);
      qr.timer = setInterval(tick, 1000);
      tick();
    }, (e) => failed("qr-error", e));
  }

  // Whoever was shown the QR has likely signed in by now: the list shows their new device.
  function closeQr() {
    if (qr) clearInterval(qr.timer);
    qr = null;
    $("qr-sheet").hidden = true;
    $("qr-image").removeAttribute("src");
    load();
  }

  function clicked(event) {
    const button = event.target.closest("[data-qr],[data-deactivate],[data-signout]");
    if (!button) return;
    if (button.hasAttribute("data-qr")) showQr(member(button.getAttribute("data-qr")));
    else if (button.hasAttribute("data-deactivate")) ask("deactivate", member(button.getAttribute("data-deactivate")));
    else ask("signout", device(button.getAttribute("data-signout")));
  }

  function wire() {
    if (!$("tab-people")) return;
    $("people-list").addEventListener("click", clicked);
    $("people-add").addEventListener("submit", add);
    $("people-reload").addEventListener("click", load);
    $("people-sheet-form").addEventListener("submit", confirmed);
    $("people-sheet-cancel").addEventListener("click", closeSheet);
    $("qr-close").addEventListener("click", closeQr);
    $("qr-again").addEventListener("click", () => showQr(qr && qr.member));
    $("qr-copy").addEventListener("click", (e) => copy(e.currentTarget));
    document.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      if (pending) closeSheet();
      else if (qr) closeQr();
    });
  }

  return { wire, load };
}
