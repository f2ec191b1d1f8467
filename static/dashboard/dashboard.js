/* 数据看板: the owner's live dashboard. Plain script, no build step. */
(function () {
  "use strict";

  var TEXT = {
    zh: {
      title: "数据看板", scanner: "核销页", logout: "退出",
      range: "日期范围", today: "今天", yesterday: "昨天", week: "近7天", month: "本月", custom: "自定义",
      from: "开始日期", to: "结束日期", store: "门店", allStores: "全部门店", export: "导出 CSV", dismiss: "关闭",
      tRedemptions: "核销笔数", tUses: "核销次数", tAmount: "核销金额", tRefused: "拒绝次数", tReversed: "撤销",
      feed: "实时动态", feedEmpty: "暂无动态，新的核销会实时出现在这里",
      byStaff: "按员工", byStore: "按门店", byProduct: "按商品",
      productNote: "按所选日期内发出的券统计，不分门店",
      live: "实时", connecting: "连接中…", reconnecting: "重连中…", forbidden: "无权查看实时动态",
      staff: "员工", storeCol: "门店", redemptions: "笔数", uses: "次数", amount: "金额", refused: "拒绝",
      reversed: "撤销", last: "最近核销", product: "商品", issued: "发码", redeemed: "已核销", rate: "核销率",
      voided: "作废", expired: "过期未用", median: "中位用时",
      noData: "所选范围内暂无数据", loadFailed: "数据加载失败，请稍后重试", usesChart: "各员工核销次数",
      reversedTag: "已撤销", voidedTag: "已作废", noStore: "未指定门店",
      hours: function (h) { return h < 1 ? Math.round(h * 60) + " 分钟" : h.toFixed(1) + " 小时"; },
      times: function (n) { return "×" + n; },
      burst: function (n, names) { return "异常：1分钟内 " + n + " 次无效核销尝试（员工 " + names + "）"; },
      reasons: {
        not_found: "券码不存在", invalid_code: "券码格式错误", already_redeemed: "已核销", expired: "已过期",
        voided: "已作废", frozen: "已冻结", not_yet_valid: "未到使用时间", wrong_store: "非本店可用",
        insufficient_uses: "次数不足", live_qr_required: "需扫动态码", qr_expired: "动态码已过期",
        throttled: "操作过于频繁"
      },
      otherReason: "核销被拒绝"
    },
    en: {
      title: "Dashboard", scanner: "Scanner", logout: "Log out",
      range: "Date range", today: "Today", yesterday: "Yesterday", week: "Last 7 days", month: "This month", custom: "Custom",
      from: "From", to: "To", store: "Store", allStores: "All stores", export: "Export CSV", dismiss: "Dismiss",
      tRedemptions: "Redemptions", tUses: "Uses", tAmount: "Value", tRefused: "Refused", tReversed: "Reversed",
      feed: "Live feed", feedEmpty: "Nothing yet: new redemptions appear here as they happen",
      byStaff: "By staff", byStore: "By store", byProduct: "By product",
      productNote: "Over the vouchers issued in the chosen days, all stores",
      live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", forbidden: "No access to the live feed",
      staff: "Staff", storeCol: "Store", redemptions: "Redemptions", uses: "Uses", amount: "Value", refused: "Refused",
      reversed: "Reversed", last: "Last", product: "Product", issued: "Issued", redeemed: "Redeemed", rate: "Rate",
      voided: "Voided", expired: "Expired unused", median: "Median time",
      noData: "No data in this range", loadFailed: "Could not load the numbers; try again shortly", usesChart: "Uses per staff member",
      reversedTag: "Reversed", voidedTag: "Voided", noStore: "No store",
      hours: function (h) { return h < 1 ? Math.round(h * 60) + " min" : h.toFixed(1) + " h"; },
      times: function (n) { return "×" + n; },
      burst: function (n, names) { return "Alert: " + n + " refused attempts within 1 minute (staff: " + names + ")"; },
      reasons: {
        not_found: "Code not found", invalid_code: "Malformed code", already_redeemed: "Already redeemed", expired: "Expired",
        voided: "Voided", frozen: "Frozen", not_yet_valid: "Not valid yet", wrong_store: "Not valid in this store",
        insufficient_uses: "Not enough uses left", live_qr_required: "Live QR required", qr_expired: "Live QR expired",
        throttled: "Too many attempts"
      },
      otherReason: "Refused"
    }
  };

  var REFRESH_MS = 5000; // numbers are re-read at most this often while events arrive
  var FEED_MAX = 100;
  var BURST = 5; // refused attempts ...
  var BURST_WINDOW_MS = 60000; // ... within this long raise the alert
  var PING_MS = 20000;
  var SILENT_MS = 50000; // no answer to pings for this long: the connection is dead, start over
  var STABLE_MS = 10000; // a connection that lasted this long resets the backoff

  var lang = document.documentElement.lang.toLowerCase().indexOf("en") === 0 ? "en" : "zh";
  var t = TEXT[lang];
  var config = JSON.parse(document.getElementById("dash-config").textContent);
  var $ = function (id) { return document.getElementById(id); };

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }

  function translate() {
    [].forEach.call(document.querySelectorAll("[data-t]"), function (el) { el.textContent = t[el.getAttribute("data-t")]; });
    [].forEach.call(document.querySelectorAll("[data-t-label]"), function (el) {
      el.setAttribute("aria-label", t[el.getAttribute("data-t-label")]);
    });
  }

  // ---- days: the merchant's local days, whatever time zone the browser is in ----

  function today() {
    var parts = {};
    new Intl.DateTimeFormat("en-US", { timeZone: config.tz, year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  function shift(day, days) {
    var d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  var PRESETS = {
    today: function (d) { return [d, d]; },
    yesterday: function (d) { return [shift(d, -1), shift(d, -1)]; },
    week: function (d) { return [shift(d, -6), d]; },
    month: function (d) { return [d.slice(0, 8) + "01", d]; }
  };

  // ---- filters, kept in the address so a reload or a shared link shows the same ----

  var state = (function () {
    var q = new URLSearchParams(location.search), d = today(), day = /^\d{4}-\d{2}-\d{2}$/;
    var from = day.test(q.get("from")) ? q.get("from") : d;
    var to = day.test(q.get("to")) ? q.get("to") : from > d ? from : d;
    var store = [].some.call($("store").options, function (o) { return o.value === q.get("store"); });
    return { from: from, to: to, store: store ? q.get("store") : $("store").value };
  })();

  function rangeQuery(withStore) {
    var q = "from=" + state.from + "&to=" + state.to;
    return withStore && state.store ? q + "&store=" + encodeURIComponent(state.store) : q;
  }

  function showFilters() {
    $("from").value = state.from;
    $("to").value = state.to;
    $("store").value = state.store;
    var match = presetOn(shownDay);
    [].forEach.call(document.querySelectorAll("[data-range]"), function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-range") === match));
    });
    $("export").href = config.urls.export + "?" + rangeQuery(true);
    history.replaceState(null, "", "?" + rangeQuery(true));
    filterFeed();
  }

  var shownDay = today();

  // The first that fits: on the 1st of a month "today" and "this month" are the same days.
  function presetOn(day) {
    var names = Object.keys(PRESETS);
    for (var i = 0; i < names.length; i++) {
      var r = PRESETS[names[i]](day);
      if (r[0] === state.from && r[1] === state.to) return names[i];
    }
    return "custom";
  }

  // A dashboard left open past midnight moves "today" (or "last 7 days"...) on to the new day.
  function rollOver() {
    var day = today(), preset = presetOn(shownDay);
    if (day === shownDay) return;
    shownDay = day;
    if (preset === "custom") return showFilters();
    var r = PRESETS[preset](day);
    setFilters({ from: r[0], to: r[1] });
  }

  function setFilters(changes) {
    for (var k in changes) state[k] = changes[k];
    // A range turned inside out follows the end that was just moved.
    if (state.to < state.from) {
      if (changes.to) state.from = state.to;
      else state.to = state.from;
    }
    showFilters();
    load();
  }

  // ---- numbers from the stats API ----

  var loading = 0, counted = config.lastEventId, lastId = config.feedAfter, lastStats = null;

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 401) location.href = config.urls.login;
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(firstError(body) || t.loadFailed);
        return body;
      }, function () { throw new Error(t.loadFailed); });
    }, function () { throw new Error(t.loadFailed); });
  }

  function firstError(body) {
    for (var k in body.errors || {}) return [].concat(body.errors[k])[0];
    return body.message;
  }

  function load() {
    var seq = ++loading, u = config.urls;
    // Events up to here are in what comes back; later ones are added to the tiles as they arrive.
    counted = Math.max(counted, lastId);
    Promise.all([get(u.staff + "?" + rangeQuery(true)), get(u.stores + "?" + rangeQuery(true)), get(u.products + "?" + rangeQuery(false))])
      .then(function (r) {
        if (seq !== loading) return;
        $("error").hidden = true;
        lastStats = { staff: r[0], stores: r[1], products: r[2] };
        drawStats();
      }, function (error) {
        if (seq !== loading) return;
        $("error").textContent = error.message;
        $("error").hidden = false;
      });
  }

  var refreshTimer = null;
  function refreshSoon() {
    if (!refreshTimer) refreshTimer = setTimeout(function () { refreshTimer = null; load(); }, REFRESH_MS);
  }

  function money(cents) {
    return "¥" + (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  var totals = {};
  function drawTiles() {
    $("t-redemptions").textContent = totals.redemptions;
    $("t-uses").textContent = totals.uses;
    $("t-amount").textContent = money(totals.cents);
    $("t-refused").textContent = totals.refused;
    $("t-reversed").textContent = totals.reversed;
  }

  function drawStats() {
    var s = lastStats;
    // Every redemption and attempt has a staff member (not always a store), so the staff rows add up to the whole.
    totals = { redemptions: 0, uses: 0, cents: 0, refused: 0, reversed: 0 };
    s.staff.forEach(function (r) {
      totals.redemptions += r.redemptions;
      totals.uses += r.uses;
      totals.cents += Math.round(parseFloat(r.face_value_total) * 100);
      totals.refused += r.refused_attempts;
      totals.reversed += r.reversed;
    });
    drawTiles();
    bars($("chart-staff"), s.staff.map(function (r) { return { label: r.staff.display_name, value: r.uses }; }));
    var people = [{ label: t.staff, get: function (r) { return esc(r.staff.display_name); } }].concat(FIGURES);
    table($("staff-table"), people, s.staff);
    table($("store-table"), [{ label: t.storeCol, get: function (r) { return esc(r.store.name); } }].concat(FIGURES), s.stores);
    table($("product-table"), PRODUCT_COLUMNS, s.products);
  }

  function clock(iso) {
    if (!iso) return "—";
    return state.from === state.to ? iso.slice(11, 16) : iso.slice(5, 10) + " " + iso.slice(11, 16);
  }

  var FIGURES = [
    { label: t.redemptions, num: true, get: function (r) { return r.redemptions; } },
    { label: t.uses, num: true, get: function (r) { return r.uses; } },
    { label: t.amount, num: true, get: function (r) { return money(Math.round(parseFloat(r.face_value_total) * 100)); } },
    { label: t.refused, num: true, get: function (r) { return r.refused_attempts; } },
    { label: t.reversed, num: true, get: function (r) { return r.reversed; } },
    { label: t.last, num: true, get: function (r) { return clock(r.last_at); } }
  ];

  var PRODUCT_COLUMNS = [
    { label: t.product, get: function (r) { return esc(r.product.name); } },
    { label: t.issued, num: true, get: function (r) { return r.issued; } },
    { label: t.redeemed, num: true, get: function (r) { return r.redeemed; } },
    { label: t.rate, num: true, get: function (r) { return (r.redemption_rate * 100).toFixed(1) + "%"; } },
    { label: t.voided, num: true, get: function (r) { return r.voided; } },
    { label: t.expired, num: true, get: function (r) { return r.expired_unused; } },
    {
      label: t.median, num: true,
      get: function (r) { return r.median_hours_to_redeem == null ? "—" : t.hours(r.median_hours_to_redeem); }
    }
  ];

  function table(el, columns, rows) {
    var cls = function (c) { return c.num ? ' class="num"' : ""; };
    var head = "<thead><tr>" + columns.map(function (c) { return "<th" + cls(c) + ">" + esc(c.label) + "</th>"; }).join("") + "</tr></thead>";
    var body = rows.length ? rows.map(function (r) {
      return "<tr>" + columns.map(function (c) { return "<td" + cls(c) + ">" + c.get(r) + "</td>"; }).join("") + "</tr>";
    }).join("") : '<tr><td class="empty" colspan="' + columns.length + '">' + esc(t.noData) + "</td></tr>";
    el.innerHTML = head + "<tbody>" + body + "</tbody>";
  }

  // Horizontal bars: long Chinese names and phone widths both fit better than columns.
  function bars(el, rows) {
    if (!rows.length) {
      el.innerHTML = "";
      return;
    }
    var longest = Math.max.apply(null, rows.map(function (r) { return textWidth(r.label.slice(0, 9)); }));
    var width = Math.max(260, el.clientWidth), row = 30, label = Math.min(longest + 12, Math.round(width * 0.3));
    var room = width - label - 56, max = Math.max.apply(null, rows.map(function (r) { return r.value; }).concat(1));
    var svg = '<svg width="' + width + '" height="' + rows.length * row + '" role="img" aria-label="' + esc(t.usesChart) + '">';
    rows.forEach(function (r, i) {
      var y = i * row, w = Math.max(r.value ? 3 : 0, Math.round(room * r.value / max));
      var name = r.label.length > 9 ? r.label.slice(0, 8) + "…" : r.label;
      svg += '<text x="' + (label - 8) + '" y="' + (y + 20) + '" text-anchor="end">' + esc(name) + "</text>" +
        '<rect x="' + label + '" y="' + (y + 6) + '" width="' + w + '" height="18" rx="4"></rect>' +
        '<text class="v" x="' + (label + w + 6) + '" y="' + (y + 20) + '">' + r.value + "</text>";
    });
    el.innerHTML = svg + "</svg>";
  }

  // Near enough for a label column: a Chinese character is about twice as wide as a Latin letter.
  function textWidth(s) {
    return s.replace(/[\u2e80-\uffff]/g, "xx").length * 7.5;
  }

  // ---- the live feed ----

  function inRange(iso) {
    var day = iso.slice(0, 10); // the server writes times in the merchant's zone: this is the local day
    return day >= state.from && day <= state.to;
  }

  function storeMatches(store) {
    return !state.store || (store && String(store.id) === state.store);
  }

  // Tiles move the moment an event arrives; the numbers are re-read shortly after to stay exact.
  function count(event) {
    if (event.id <= counted) return;
    var r = event.redemption, change = null;
    if (event.type === "redemption.created" && inRange(r.at) && storeMatches(r.store)) {
      change = { redemptions: 1, uses: r.uses };
    } else if (event.type === "redemption.reversed" && inRange(r.at) && storeMatches(r.store)) {
      change = { redemptions: -1, uses: -r.uses, reversed: 1 };
    } else if (event.type === "attempt.refused" && inRange(event.at) && storeMatches(event.store)) {
      change = { refused: 1 };
    }
    if (!change) return;
    if (lastStats) {
      for (var k in change) totals[k] += change[k];
      drawTiles();
    }
    refreshSoon();
  }

  function time(iso) { return iso.slice(11, 19); }

  function feedRow(cls, at, store, main, sub, side) {
    var li = document.createElement("li");
    li.className = "ev " + cls;
    li.setAttribute("data-store", store ? store.id : "");
    li.innerHTML = '<time>' + esc(time(at)) + '</time><span class="ev-main">' + esc(main) + '</span>' +
      '<span class="ev-side">' + esc(side) + '</span><span class="ev-sub">' + sub.map(esc).join(" · ") + "</span>";
    return li;
  }

  function redemptionRow(event, cls) {
    var r = event.redemption;
    var li = feedRow(cls, r.at, r.store, event.voucher.product.name,
      [r.store.name, r.staff.display_name, r.code_masked], t.times(r.uses));
    li.setAttribute("data-redemption", r.id);
    return li;
  }

  function markReversed(li) {
    li.className = "ev reversed";
    li.querySelector(".ev-side").textContent = t.reversedTag;
  }

  function eventRow(event) {
    if (event.type === "redemption.created") return redemptionRow(event, "ok");
    if (event.type === "redemption.reversed") {
      var shown = document.querySelector('[data-redemption="' + event.redemption.id + '"]');
      if (shown) {
        markReversed(shown);
        return null;
      }
      var li = redemptionRow(event, "reversed");
      markReversed(li);
      return li;
    }
    if (event.type === "attempt.refused") {
      var staff = event.staff ? event.staff.display_name : "";
      return feedRow("bad", event.at, event.store, t.reasons[event.reason] || t.otherReason,
        [event.store ? event.store.name : t.noStore, staff, event.code_masked], "");
    }
    if (event.type === "voucher.voided") {
      return feedRow("void", event.at, null, event.voucher.product.name, [event.voucher.code_masked], t.voidedTag);
    }
    return null;
  }

  function show(event) {
    var li = eventRow(event), feed = $("feed");
    if (!li) return;
    li.hidden = !rowMatches(li);
    feed.insertBefore(li, feed.firstChild);
    while (feed.children.length > FEED_MAX) feed.removeChild(feed.lastChild);
    $("feed-empty").hidden = true;
  }

  function rowMatches(li) {
    var store = li.getAttribute("data-store");
    return !state.store || !store || store === state.store;
  }

  function filterFeed() {
    [].forEach.call($("feed").children, function (li) { li.hidden = !rowMatches(li); });
  }

  // ---- bursts of refused attempts ----

  var refusals = [];

  function millis(iso) {
    return Date.parse(iso.replace(/(\.\d{3})\d+/, "$1"));
  }

  function watchBursts(event) {
    var at = millis(event.at);
    refusals.push({ at: at, staff: event.staff ? event.staff.display_name : "?" });
    refusals = refusals.filter(function (r) { return r.at > at - BURST_WINDOW_MS; });
    var per = {};
    refusals.forEach(function (r) { per[r.staff] = (per[r.staff] || 0) + 1; });
    var names = Object.keys(per).sort(function (a, b) { return per[b] - per[a]; });
    // What happened before the page opened is on show in the feed; it counts towards a burst but raises none itself.
    if (event.id <= config.lastEventId) return;
    if (per[names[0]] >= BURST) {
      raise(per[names[0]], names[0]);
    } else if (refusals.length >= BURST) {
      raise(refusals.length, names.slice(0, 3).join("、") + (names.length > 3 ? "…" : ""));
    }
  }

  function raise(n, names) {
    $("alert-text").textContent = t.burst(n, names);
    $("alert").hidden = false;
  }

  // ---- the socket: reconnects with backoff and asks for what it missed ----

  var socket = null, retries = 0, retryTimer = null, heard = 0, opened = 0;

  function setConnection(name) {
    $("conn").className = "conn conn-" + name;
    $("conn-text").textContent = t[name];
  }

  function connect() {
    retryTimer = null;
    opened = 0;
    setConnection(retries ? "reconnecting" : "connecting");
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + config.urls.ws + "?after=" + lastId);
    socket.onopen = function () {
      opened = heard = Date.now();
      setConnection("live");
    };
    socket.onmessage = function (m) {
      heard = Date.now();
      var event = JSON.parse(m.data);
      if (!event.id || event.id <= lastId) return;
      lastId = event.id;
      show(event);
      if (event.type === "attempt.refused") watchBursts(event);
      count(event);
    };
    socket.onclose = function (e) {
      socket = null;
      // Only a connection that held resets the backoff: one a server drops at once must not bring us back every second.
      if (opened && Date.now() - opened > STABLE_MS) retries = 0;
      if (e.code === 4403) {
        setConnection("forbidden");
        return;
      }
      reconnectLater();
    };
  }

  function reconnectLater() {
    setConnection("reconnecting");
    var delay = Math.min(30000, 1000 * Math.pow(2, retries++));
    // Jitter, so dashboards dropped by one restart do not all come back in the same instant.
    retryTimer = setTimeout(connect, delay / 2 + Math.random() * delay / 2);
  }

  // A connection through a sleeping laptop or a shop router can die without a close frame.
  function heartbeat() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - heard > SILENT_MS) {
      var dead = socket;
      dead.onclose = dead.onmessage = null;
      socket = null;
      dead.close();
      reconnectLater();
      return;
    }
    socket.send(JSON.stringify({ type: "ping" }));
  }

  function reconnectNow() {
    if (!retryTimer) return;
    clearTimeout(retryTimer);
    retries = 0;
    connect();
  }

  // ---- wiring ----

  function wire() {
    [].forEach.call(document.querySelectorAll("[data-range]"), function (b) {
      b.addEventListener("click", function () {
        var name = b.getAttribute("data-range");
        if (name === "custom") {
          $("from").focus();
          return;
        }
        var r = PRESETS[name](shownDay);
        setFilters({ from: r[0], to: r[1] });
      });
    });
    ["from", "to"].forEach(function (id) {
      $(id).addEventListener("change", function () {
        if ($(id).value) setFilters(id === "from" ? { from: $(id).value } : { to: $(id).value });
      });
    });
    $("store").addEventListener("change", function () { setFilters({ store: $("store").value }); });
    $("alert-close").addEventListener("click", function () { $("alert").hidden = true; });
    var resizing = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizing);
      resizing = setTimeout(function () { if (lastStats) drawStats(); }, 150);
    });
    window.addEventListener("online", reconnectNow);
    setInterval(heartbeat, PING_MS);
    setInterval(rollOver, 60000);
  }

  translate();
  wire();
  showFilters();
  load();
  connect();
  document.body.classList.remove("booting");
})();
