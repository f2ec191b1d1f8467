/* 核销助手: the clerk's scanner. Plain script, no build step; keeps to what older Android WebViews run. */
(function () {
  "use strict";

  var TEXT = {
    zh: {
      store: "门店", signedIn: "核销员：", pickStore: "请选择门店", noStore: "尚未分配门店，请联系店长", noMember: "此账号不是门店员工",
      today: "今日", logout: "退出", offline: "网络已断开，恢复后可继续核销",
      codeLabel: "输入券码", codePlaceholder: "请输入券码", clear: "清空", check: "查询券码", checkAnyway: "仍然查询",
      letters: "券码含字母？切换全键盘", digits: "切换数字键盘",
      scan: "扫码核销", scanHint: "对准顾客手机上的券码二维码",
      redeemable: "可核销", usesLeft: "剩余次数", validity: "有效期", orderNo: "订单号", code: "券码", phone: "手机号",
      product: "商品", usesNow: "本次核销", fewer: "减少", more: "增加", confirm: "确认核销", cancel: "取消",
      checking: "正在查询…", redeeming: "正在核销…", retrying: "网络不稳定，正在重试…",
      ok: "核销成功", next: "继续核销", retry: "重试",
      netTitle: "网络异常", netRedeem: "未能确认是否核销成功。请点“重试”，不会重复核销。",
      netCheck: "网络不稳定，请稍后再试",
      typo: "券码校验未通过，可能输错了一位，请核对", empty: "请输入券码",
      anyTime: "长期有效", time: "核销时间", staff: "核销员", usesThis: "本次核销", validFrom: "可用时间", validUntil: "有效期至",
      canUseAgain: "现在可以重新查询了",
      cameraOpening: "正在打开摄像头…", cameraAim: "将二维码放入框内", close: "关闭",
      cameraNo: "无法打开摄像头。请在浏览器设置中允许使用摄像头（需 HTTPS 连接），或手动输入券码。",
      todayTitle: "今日核销", todayEmpty: "今天还没有核销记录", back: "返回", refresh: "刷新",
      undo: "撤销", undoSure: "确认撤销？", undone: "已撤销", undoDone: "已撤销，次数已退回券上", undoReason: "店员撤销",
      reasons: {
        invalid_code: ["券码有误", "请核对券码后重新输入"],
        not_found: ["券码不存在", "没有找到这张券，请核对券码"],
        voided: ["券已作废", "此券已退款作废，不能核销"],
        frozen: ["券已冻结", "此券已冻结，请联系老板"],
        not_yet_valid: ["未到使用时间", "此券还没到可用时间"],
        expired: ["已过期", "此券已过有效期"],
        wrong_store: ["本店不可用", "此券不能在本店使用"],
        already_redeemed: ["已核销", "此券已用完，不能重复核销"],
        insufficient_uses: ["剩余次数不足", "请减少本次核销次数"],
        live_qr_required: ["请扫动态码", "此券须扫描顾客手机上的动态二维码，截图或手输无效"],
        qr_expired: ["二维码已过期", "请顾客刷新二维码后重新扫描"],
        throttled: ["操作过于频繁", "输错次数过多，请稍后再试"],
        forbidden: ["无权操作", "你没有权限执行此操作"],
        store_required: ["请选择门店", "请先在左上角选择你所在的门店"],
        already_reversed: ["已撤销过", "这笔核销已经撤销过了"],
        not_found_redemption: ["记录不存在", "没有找到这笔核销"],
        error: ["出错了", "请稍后再试"]
      },
      uses: function (n) { return n + " 次"; },
      usesOf: function (left, total) { return "剩 " + left + " 次 / 共 " + total + " 次"; },
      validRange: function (from, until) {
        if (from && until) return from + " 至 " + until;
        return until ? "至 " + until : from + " 起";
      },
      wait: function (n) { return "请 " + n + " 秒后再试"; },
      todaySum: function (count, uses) { return "共 " + count + " 笔 · " + uses + " 次"; }
    },
    en: {
      store: "Store", signedIn: "Signed in: ", pickStore: "Choose your store", noStore: "No store assigned yet: ask your manager",
      noMember: "This account is not shop staff",
      today: "Today", logout: "Log out", offline: "Offline: redeeming resumes when the network is back",
      codeLabel: "Enter the code", codePlaceholder: "Voucher code", clear: "Clear", check: "Check code", checkAnyway: "Check anyway",
      letters: "Code has letters? Full keyboard", digits: "Number pad",
      scan: "Scan to redeem", scanHint: "Point at the QR code on the buyer's phone",
      redeemable: "Can be redeemed", usesLeft: "Uses left", validity: "Valid", orderNo: "Order no.", code: "Code", phone: "Phone",
      product: "Product", usesNow: "Redeem now", fewer: "Fewer", more: "More", confirm: "Confirm redemption", cancel: "Cancel",
      checking: "Checking…", redeeming: "Redeeming…", retrying: "Unstable network, retrying…",
      ok: "Redeemed", next: "Next voucher", retry: "Try again",
      netTitle: "Network problem", netRedeem: "Could not confirm the redemption. Tap “Try again”: it will not redeem twice.",
      netCheck: "Unstable network, try again",
      typo: "This code fails its check digit: probably a typo. Check it.", empty: "Enter a code",
      anyTime: "No expiry", time: "Time", staff: "Staff", usesThis: "Redeemed now", validFrom: "Valid from", validUntil: "Valid until",
      canUseAgain: "You can check codes again now",
      cameraOpening: "Opening the camera…", cameraAim: "Fit the QR code inside the frame", close: "Close",
      cameraNo: "Cannot open the camera. Allow camera access in the browser settings (needs HTTPS), or type the code.",
      todayTitle: "Today's redemptions", todayEmpty: "Nothing redeemed today yet", back: "Back", refresh: "Refresh",
      undo: "Undo", undoSure: "Undo it?", undone: "Undone", undoDone: "Undone: the uses are back on the voucher",
      undoReason: "Undone by staff",
      reasons: {
        invalid_code: ["Invalid code", "Check the code and enter it again"],
        not_found: ["Code not found", "No voucher with this code"],
        voided: ["Voided", "This voucher was refunded and voided"],
        frozen: ["Frozen", "This voucher is frozen: ask the owner"],
        not_yet_valid: ["Not valid yet", "This voucher cannot be used yet"],
        expired: ["Expired", "This voucher has expired"],
        wrong_store: ["Not for this store", "This voucher cannot be used in this store"],
        already_redeemed: ["Already redeemed", "No uses left on this voucher"],
        insufficient_uses: ["Not enough uses left", "Redeem fewer uses"],
        live_qr_required: ["Live QR needed", "Scan the live QR code on the buyer's phone; screenshots and typed codes do not work"],
        qr_expired: ["QR code expired", "Ask the buyer to refresh the QR code and scan again"],
        throttled: ["Too many attempts", "Too many wrong codes: wait a moment"],
        forbidden: ["Not allowed", "You are not allowed to do this"],
        store_required: ["Choose your store", "Pick the store you work at, top left"],
        already_reversed: ["Already undone", "This redemption was already undone"],
        not_found_redemption: ["Not found", "No such redemption"],
        error: ["Something went wrong", "Try again in a moment"]
      },
      uses: function (n) { return n === 1 ? "1 use" : n + " uses"; },
      usesOf: function (left, total) { return left + " of " + total; },
      validRange: function (from, until) {
        if (from && until) return from + " to " + until;
        return until ? "until " + until : "from " + from;
      },
      wait: function (n) { return "Try again in " + n + " s"; },
      todaySum: function (count, uses) { return count + (count === 1 ? " redemption · " : " redemptions · ") + this.uses(uses); }
    }
  };

  var lang = document.documentElement.lang.toLowerCase().indexOf("en") === 0 ? "en" : "zh";
  var t = TEXT[lang];
  var cfg = JSON.parse(document.getElementById("hx-config").textContent);

  // The server's table (redemption/codes.py), row by row: a 16-digit code folds to 0 when valid.
  var DAMM = "0317598642" + "7092154863" + "4206871359" + "1750983426" + "6123045978" +
             "3674209581" + "5869720134" + "8945362017" + "9438617205" + "2581436790";
  // What the server drops from a code before looking it up.
  var DROPPED = /[\s\-\u2010-\u2015\u2212_]+/g;
  var CHECK_RETRIES = [800, 2000];
  var REDEEM_RETRIES = [1000, 2000, 3000, 5000, 8000];
  var UNDO_WINDOW_MS = 10 * 60 * 1000;

  function $(id) { return document.getElementById(id); }
  function show(el, on) { el.hidden = !on; }
  function sleep(ms) { return new Promise(function (done) { setTimeout(done, ms); }); }

  function applyText() {
    each("[data-t]", function (el) { el.textContent = t[el.getAttribute("data-t")]; });
    each("[data-t-placeholder]", function (el) { el.placeholder = t[el.getAttribute("data-t-placeholder")]; });
    each("[data-t-label]", function (el) { el.setAttribute("aria-label", t[el.getAttribute("data-t-label")]); });
    document.body.classList.remove("booting");
  }

  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }

  // ---- codes ----

  function dammValid(digits) {
    var interim = 0;
    for (var i = 0; i < digits.length; i++) interim = +DAMM[interim * 10 + (+digits[i])];
    return interim === 0;
  }

  function normalise(raw) { return String(raw || "").normalize("NFKC").trim(); }
  function flat(text) { return text.replace(DROPPED, "").toUpperCase(); }

  // Shows digits grouped by 4 (as printed on vouchers) and keeps the caret after the same digit.
  function groupInput() {
    var input = $("code");
    var value = input.value.normalize("NFKC");
    show($("clear"), input.value !== "");
    if (!/^[\d\s-]*$/.test(value)) return;
    var before = value.slice(0, input.selectionStart).replace(/\D/g, "").length;
    var grouped = value.replace(/\D/g, "").replace(/(\d{4})(?=\d)/g, "$1 ");
    if (grouped === input.value) return;
    input.value = grouped;
    var pos = before === 0 ? 0 : before + Math.floor((before - 1) / 4);
    input.setSelectionRange(pos, pos);
  }

  // ---- network ----

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function NetworkError() { this.network = true; }

  // One request with a time limit. Resolves {status, data} for any answer from the app; rejects with a
  // NetworkError when none came (dropped Wi-Fi, timeout, a proxy's 502-504), which callers may retry.
  function call(url, body, timeoutMs) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctrl) ctrl.abort(); }, timeoutMs || 8000);
    var init = {
      method: body ? "POST" : "GET", credentials: "same-origin", cache: "no-store",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
      signal: ctrl ? ctrl.signal : undefined
    };
    if (body) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      if (res.status === 401) return toLogin();
      return res.json().then(null, function () { return null; }).then(function (data) {
        if (!data && res.status >= 502 && res.status <= 504) throw new NetworkError();
        return { status: res.status, data: data || { ok: false, result: "error" } };
      });
    }, function () { throw new NetworkError(); }).then(function (answer) {
      clearTimeout(timer);
      return answer;
    }, function (error) {
      clearTimeout(timer);
      throw error;
    });
  }

  function toLogin() {
    location.href = cfg.urls.login + "?next=" + encodeURIComponent(cfg.urls.scope);
    return new Promise(function () {});
  }

  function withRetry(request, delays, onRetry) {
    var attempt = 0;
    function go() {
      return request().then(null, function (error) {
        if (!error || !error.network || attempt >= delays.length) throw error;
        onRetry(++attempt);
        return sleep(delays[attempt - 1]).then(go);
      });
    }
    return go();
  }

  // crypto.randomUUID exists only on HTTPS; shop set-ups on plain HTTP still get a random key.
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // ---- feedback ----

  var audio = null;

  // Browsers allow sound only after a tap or key press: open the audio context on the first one.
  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) audio = new Ctx();
    if (audio && audio.state === "suspended") audio.resume();
  }

  function beep(ok) {
    if (!audio) return;
    var notes = ok ? [[880, 0, 0.09], [1320, 0.11, 0.14]] : [[220, 0, 0.2], [170, 0.25, 0.35]];
    notes.forEach(function (n) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      var start = audio.currentTime + n[1];
      osc.type = ok ? "sine" : "square";
      osc.frequency.value = n[0];
      gain.gain.setValueAtTime(0.25, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + n[2]);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(start);
      osc.stop(start + n[2]);
    });
  }

  function feedback(ok) {
    beep(ok);
    if (navigator.vibrate) navigator.vibrate(ok ? 80 : [200, 80, 200]);
  }

  var toastTimer = 0;
  function toast(message) {
    var el = $("toast");
    el.textContent = message;
    show(el, true);
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { show(el, false); }, 3500);
  }

  function hint(message, bad) {
    var el = $("code-hint");
    el.textContent = message || "";
    el.classList.toggle("bad", !!bad);
  }

  // ---- dates from the server: already in the merchant's time zone, so read them as written ----

  function day(iso) { return iso ? iso.slice(0, 10) : ""; }
  function minute(iso) { return iso ? iso.slice(0, 16).replace("T", " ") : ""; }
  function clock(iso) { return iso ? iso.slice(11, 16) : ""; }

  // ---- store ----

  function storeKey() { return "hx-store-" + (cfg.staff ? cfg.staff.id : ""); }

  function initStore() {
    var el = $("store");
    if (!el || el.tagName !== "SELECT") return;
    var saved = localStorage.getItem(storeKey());
    if (saved && el.querySelector('option[value="' + saved + '"]')) el.value = saved;
    el.addEventListener("change", function () { localStorage.setItem(storeKey(), el.value); });
  }

  function storeId() {
    var el = $("store");
    if (!el) return null;
    var value = el.tagName === "SELECT" ? el.value : el.getAttribute("data-id");
    return value ? +value : null;
  }

  // ---- check ----

  var busy = false;
  var typoShown = "";
  var lockedUntil = 0;

  function submitCode(raw, typed) {
    var text = normalise(raw);
    var code = flat(text);
    if (busy) return;
    if (!code) return hint(t.empty, true);
    if (Date.now() < lockedUntil) return hint(t.wait(Math.ceil((lockedUntil - Date.now()) / 1000)), true);
    // A typo caught here costs no request; a 16-digit code imported from elsewhere may still be
    // genuine, so a second press sends it anyway.
    if (typed && /^\d{16}$/.test(code) && !dammValid(code) && typoShown !== code) {
      typoShown = code;
      $("check-btn").textContent = t.checkAnyway;
      feedback(false);
      return hint(t.typo, true);
    }
    if (!storeId()) return showRefusal({ result: "store_required" });
    busy = true;
    setChecking(true);
    var body = { code: text, store: storeId() };
    withRetry(function () { return call(cfg.urls.check, body); }, CHECK_RETRIES, function () { hint(t.retrying); })
      .then(function (answer) {
        hint("");
        if (answer.data.ok) openConfirm(body, answer.data.voucher);
        else showRefusal(answer.data, typed);
      }, function () { hint(t.netCheck, true); feedback(false); })
      .then(function () { busy = false; setChecking(false); });
  }

  function setChecking(on) {
    var button = $("check-btn");
    button.disabled = on;
    button.textContent = on ? t.checking : t.check;
    if (!on) typoShown = "";
  }

  // ---- confirm ----

  var pending = null;

  function openConfirm(body, voucher) {
    // One key per confirm: every retry of this redemption sends it, so the server redeems it once.
    pending = { code: body.code, store: body.store, voucher: voucher, uses: 1, key: newKey(), sending: false };
    $("c-product").textContent = voucher.product.name;
    $("c-uses").textContent = t.usesOf(voucher.uses_left, voucher.uses_total);
    $("c-valid").textContent = validity(voucher);
    $("c-order").textContent = voucher.order_no_masked || "—";
    $("c-code").textContent = voucher.code_masked;
    $("c-phone").textContent = voucher.buyer_phone_masked;
    show($("c-phone-row"), !!voucher.buyer_phone_masked);
    show($("c-stepper"), voucher.uses_left > 1);
    setUses(1);
    setSending(false, "");
    blurInput();
    show($("confirm"), true);
    $("c-go").focus();
  }

  function validity(voucher) {
    if (!voucher.valid_from && !voucher.valid_until) return t.anyTime;
    return t.validRange(day(voucher.valid_from), day(voucher.valid_until));
  }

  function setUses(n) {
    pending.uses = Math.max(1, Math.min(n, pending.voucher.uses_left));
    $("c-n").textContent = pending.uses;
    $("c-minus").disabled = pending.uses <= 1;
    $("c-plus").disabled = pending.uses >= pending.voucher.uses_left;
  }

  function setSending(on, status) {
    $("c-go").disabled = on;
    $("c-cancel").disabled = on;
    $("c-minus").disabled = on || (pending && pending.uses <= 1);
    $("c-plus").disabled = on || (pending && pending.uses >= pending.voucher.uses_left);
    $("c-status").textContent = status;
    $("c-go").textContent = on ? t.redeeming : t.confirm;
  }

  function closeConfirm() {
    show($("confirm"), false);
    pending = null;
  }

  function redeem() {
    if (!pending || pending.sending) return;
    var job = pending;
    job.sending = true;
    setSending(true, "");
    var body = { code: job.code, store: job.store, uses: job.uses, idempotency_key: job.key };
    withRetry(function () { return call(cfg.urls.redeem, body, 10000); }, REDEEM_RETRIES, function () {
      $("c-status").textContent = t.retrying;
    }).then(function (answer) {
      closeConfirm();
      if (answer.data.ok) showRedeemed(answer.data);
      else showRefusal(answer.data);
      loadToday(false);
    }, function () {
      job.sending = false;
      show($("confirm"), false);
      showNetworkFailure(job);
    });
  }

  // ---- result screens ----

  function showResult(ok, title, message, facts) {
    var box = $("result");
    box.classList.toggle("ok", ok);
    box.classList.toggle("bad", !ok);
    $("r-title").textContent = title;
    $("r-msg").textContent = message || "";
    var list = $("r-facts");
    list.textContent = "";
    facts.forEach(function (f) {
      if (f[1] === null || f[1] === undefined || f[1] === "") return;
      var row = document.createElement("div");
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = f[0];
      dd.textContent = f[1];
      row.appendChild(dt);
      row.appendChild(dd);
      list.appendChild(row);
    });
    $("r-wait").textContent = "";
    show($("r-retry"), false);
    blurInput();
    show(box, true);
    $("r-next").focus();
    feedback(ok);
  }

  function showRedeemed(data) {
    var r = data.redemption;
    var v = data.voucher;
    clearInput();
    showResult(true, t.ok, v.product.name, [
      [t.usesThis, t.uses(r.uses)],
      [t.usesLeft, t.usesOf(v.uses_left, v.uses_total)],
      [t.code, r.code_masked],
      [t.time, minute(r.at)],
      [t.store, r.store.name]
    ]);
  }

  // The server words its refusals in the request's language; where it has no words in the
  // screen's language yet, the screen's own sentence stands in, so the two never mix.
  function refusalMessage(data, words) {
    // Who redeemed it and the seconds left are shown apart from the sentence: the server's would repeat them.
    var message = data.last_redemption || data.result === "throttled" ? "" : data.message || "";
    var han = /[\u4e00-\u9fff]/.test(message);
    return message && han === (lang === "zh") ? message : words[1];
  }

  function showRefusal(data, typed) {
    var result = data.result in t.reasons ? data.result : "error";
    var words = t.reasons[result];
    var v = data.voucher;
    var last = data.last_redemption;
    // A typed code that was not found is usually a typo: keep it for correcting; anything else is done.
    if (!(typed && (result === "not_found" || result === "invalid_code"))) clearInput();
    showResult(false, words[0], refusalMessage(data, words), [
      [t.product, v && v.product.name],
      [t.code, v && v.code_masked],
      [t.time, last && minute(last.at)],
      [t.store, last && last.store.name],
      [t.staff, last && last.staff.display_name],
      [t.validFrom, minute(data.valid_from)],
      [t.validUntil, minute(data.valid_until)],
      [t.usesLeft, data.uses_left === undefined ? null : t.uses(data.uses_left)]
    ]);
    if (result === "throttled") countdown(+data.retry_after || 60);
  }

  function countdown(seconds) {
    lockedUntil = Date.now() + seconds * 1000;
    var tick = function () {
      var left = Math.ceil((lockedUntil - Date.now()) / 1000);
      $("r-wait").textContent = left > 0 ? t.wait(left) : t.canUseAgain;
      if (left > 0) setTimeout(tick, 500);
    };
    tick();
  }

  function showNetworkFailure(job) {
    showResult(false, t.netTitle, t.netRedeem, [[t.product, job.voucher.product.name], [t.code, job.voucher.code_masked]]);
    show($("r-retry"), true);
    $("r-retry").onclick = function () {
      show($("result"), false);
      pending = job;
      show($("confirm"), true);
      redeem();
    };
  }

  function closeResult() {
    show($("result"), false);
    focusInputIfTyping();
  }

  // ---- the code input ----

  function clearInput() {
    $("code").value = "";
    show($("clear"), false);
  }

  // Phones would pop the on-screen keyboard over the result; a desk with a hardware scanner wants focus.
  function focusInputIfTyping() {
    if ($("code").value || window.matchMedia("(pointer: fine)").matches) $("code").focus();
  }

  function blurInput() {
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  }

  function toggleKeyboard() {
    var input = $("code");
    var numeric = input.inputMode !== "text";
    input.inputMode = numeric ? "text" : "numeric";
    $("kbd-toggle").textContent = numeric ? t.digits : t.letters;
    input.focus();
  }

  // A hardware scanner types wherever the focus is. Keys typed outside a field close whatever is
  // open and go to the code input, replacing its old content; the scanner's Enter then submits.
  function redirectKeys(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) return;
    var el = document.activeElement;
    if (el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA")) return;
    if (pending && pending.sending) return;
    closeAll();
    var input = $("code");
    input.focus();
    input.select();
  }

  function closeAll() {
    closeConfirm();
    closeCamera();
    show($("result"), false);
    show($("today"), false);
  }

  // ---- camera ----

  var stream = null;

  function openCamera() {
    show($("camera"), true);
    $("camera-msg").textContent = t.cameraOpening;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("camera-msg").textContent = t.cameraNo;
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        if ($("camera").hidden) return s.getTracks().forEach(function (track) { track.stop(); });
        stream = s;
        var video = $("video");
        video.srcObject = s;
        return Promise.all([video.play(), makeDecoder()]).then(function (r) {
          $("camera-msg").textContent = t.cameraAim;
          scanLoop(s, r[1]);
        });
      })
      .then(null, function () { $("camera-msg").textContent = t.cameraNo; });
  }

  function closeCamera() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    show($("camera"), false);
  }

  // The browser's own detector where there is one; else the bundled decoder, fetched only now.
  function makeDecoder() {
    var native = window.BarcodeDetector
      ? BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") < 0) return null;
        var detector = new BarcodeDetector({ formats: ["qr_code"] });
        return function (video) {
          return detector.detect(video).then(function (found) { return found.length ? found[0].rawValue : null; });
        };
      }, function () { return null; })
      : Promise.resolve(null);
    return native.then(function (decoder) { return decoder || loadJsQR().then(jsqrDecoder); });
  }

  function loadJsQR() {
    if (window.jsQR) return Promise.resolve();
    return new Promise(function (done, fail) {
      var script = document.createElement("script");
      script.src = cfg.urls.jsqr;
      script.onload = done;
      script.onerror = fail;
      document.head.appendChild(script);
    });
  }

  function jsqrDecoder() {
    var canvas = document.createElement("canvas");
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    return function (video) {
      // A smaller frame decodes several times faster and a voucher QR stays readable at 640 px.
      var scale = Math.min(1, 640 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR(image.data, canvas.width, canvas.height, { inversionAttempts: "dontInvert" });
      return Promise.resolve(found ? found.data : null);
    };
  }

  function scanLoop(s, decode) {
    if (stream !== s) return;
    var video = $("video");
    var frame = video.readyState >= 2 && video.videoWidth ? decode(video) : Promise.resolve(null);
    frame.then(null, function () { return null; }).then(function (text) {
      if (stream !== s) return;
      if (!text) return setTimeout(function () { scanLoop(s, decode); }, 150);
      closeCamera();
      submitCode(text, false);
    });
  }

  // ---- today's list ----

  function loadToday(render) {
    return call(cfg.urls.mine).then(function (answer) {
      var data = answer.data;
      if (!data.results) return;
      $("today-count").textContent = data.count;
      if (render) renderToday(data);
    }, function () { if (render) toast(t.netCheck); });
  }

  function renderToday(data) {
    $("today-sum").textContent = t.todaySum(data.count, data.uses);
    var list = $("today-list");
    list.textContent = "";
    data.results.forEach(function (row) { list.appendChild(todayRow(row)); });
    show($("today-empty"), data.results.length === 0);
  }

  function todayRow(row) {
    var li = document.createElement("li");
    li.className = "today-row" + (row.reversed ? " reversed" : "");
    li.innerHTML = '<span class="tr-time"></span><div class="tr-main"><b class="tr-product"></b>' +
      '<small class="tr-meta"></small></div><span class="tr-uses"></span>';
    li.querySelector(".tr-time").textContent = clock(row.at);
    li.querySelector(".tr-product").textContent = row.product.name;
    li.querySelector(".tr-meta").textContent = row.code_masked + " · " + row.store.name;
    li.querySelector(".tr-uses").textContent = row.reversed ? t.undone : "×" + row.uses;
    if (canUndo(row)) li.appendChild(undoButton(row));
    return li;
  }

  function canUndo(row) {
    var own = cfg.staff && row.staff.id === cfg.staff.id;
    return !row.reversed && own && Date.now() - Date.parse(row.at) < UNDO_WINDOW_MS;
  }

  // Two taps, so a slip of the thumb does not undo a redemption.
  function undoButton(row) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn-undo";
    button.textContent = t.undo;
    var armed = 0;
    button.onclick = function () {
      if (!armed) {
        button.textContent = t.undoSure;
        button.classList.add("armed");
        armed = setTimeout(function () { armed = 0; button.textContent = t.undo; button.classList.remove("armed"); }, 4000);
        return;
      }
      clearTimeout(armed);
      button.disabled = true;
      undo(row);
    };
    return button;
  }

  function undo(row) {
    var url = cfg.urls.reverse.replace("/0/", "/" + row.id + "/");
    call(url, { reason: t.undoReason }).then(function (answer) {
      if (answer.data.ok) toast(t.undoDone);
      else toast(refusalMessage(answer.data, t.reasons[answer.status === 404 ? "not_found_redemption" : answer.data.result] || t.reasons.error));
      return loadToday(true);
    }, function () { toast(t.netCheck); return loadToday(true); });
  }

  function openToday() {
    blurInput();
    show($("today"), true);
    $("today-sum").textContent = "";
    loadToday(true);
  }

  // ---- start ----

  function logout(event) {
    // The cached scanner page belongs to this clerk: drop it before the next one logs in.
    event.preventDefault();
    var form = event.target;
    var cleared = window.caches ? caches.delete("hx-pages") : Promise.resolve();
    Promise.race([cleared, sleep(500)]).then(function () { form.submit(); }, function () { form.submit(); });
  }

  function bind() {
    var input = $("code");
    $("code-form").addEventListener("submit", function (e) { e.preventDefault(); submitCode(input.value, true); });
    input.addEventListener("input", function (e) {
      if (!e.isComposing) groupInput();
      hint("");
      if (typoShown) setChecking(false);
    });
    $("clear").onclick = function () { clearInput(); hint(""); input.focus(); };
    $("kbd-toggle").onclick = toggleKeyboard;
    $("camera-btn").onclick = openCamera;
    $("camera-close").onclick = closeCamera;
    $("c-go").onclick = redeem;
    $("c-cancel").onclick = function () { closeConfirm(); focusInputIfTyping(); };
    $("c-minus").onclick = function () { setUses(pending.uses - 1); };
    $("c-plus").onclick = function () { setUses(pending.uses + 1); };
    $("r-next").onclick = closeResult;
    $("today-btn").onclick = openToday;
    $("today-close").onclick = function () { show($("today"), false); };
    $("today-refresh").onclick = function () { loadToday(true); };
    $("logout").addEventListener("submit", logout);
    document.addEventListener("keydown", redirectKeys);
    document.addEventListener("pointerdown", unlockAudio);
    document.addEventListener("keydown", unlockAudio);
    window.addEventListener("online", function () { show($("offline"), false); });
    window.addEventListener("offline", function () { show($("offline"), true); });
  }

  function start() {
    applyText();
    initStore();
    bind();
    show($("offline"), navigator.onLine === false);
    var usable = !!(cfg.staff && cfg.stores.length);
    $("check-btn").disabled = !usable;
    $("camera-btn").disabled = !usable;
    if (!usable) return;
    focusInputIfTyping();
    loadToday(false);
    if ("serviceWorker" in navigator) navigator.serviceWorker.register(cfg.urls.sw, { scope: cfg.urls.scope }).then(null, function () {});
  }

  start();
}());
