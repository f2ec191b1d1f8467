// 发券 (owner): issue the codes of one order, or of a platform's order file, without a terminal.
// The pure parts (grouping, progress, the file's answer in words) are exported for Node; the rest
// needs the page.
import { gettext, interpolate } from "../../staff/js/i18n.js";
import { esc } from "./render.js";

// 1234 5678 9012 3456: read aloud or typed off a screen in groups of four.
export function groupCode(code) {
  return String(code).replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
}

// The platforms an owner issues for by hand; "api" is what a terminal's own calls are recorded as.
export function issueChannels(channels) {
  return channels.filter((c) => c.value !== "api");
}

export function uploadProgress(loaded, total) {
  const percent = total ? Math.min(100, Math.floor((100 * loaded) / total)) : 0;
  return interpolate(gettext("Uploading %(percent)s"), { percent: percent + "%" }, true);
}

// The counts a 201 answer carries, as one sentence.
export function fileSummary(answer) {
  const words = interpolate(gettext("%(orders)s orders, %(vouchers)s vouchers issued"), answer, true);
  if (!answer.repeated) return words;
  return words + gettext("; ") + interpolate(gettext("%(repeated)s of them issued before"), answer, true);
}

// Every bad line of a 422 answer, as the owner finds it in the spreadsheet.
export function badLines(errors) {
  return (errors || []).map((e) => (e.line ? interpolate(gettext("Line %(line)s: %(message)s"), e, true) : e.message));
}

// The delivery file as Excel opens it without asking about encodings: the same address, .xlsx.
export function xlsxUrl(deliveryUrl) {
  return deliveryUrl.replace(/\.csv(\?|$)/, ".xlsx$1");
}

// POST a form with upload progress (fetch cannot report it): resolves {status, body}.
function send(url, form, csrf, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.upload.onload = () => onProgress(null);
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (error) { body = null; }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error(gettext("Could not upload; check the connection and try again")));
    xhr.send(form);
  });
}

function copyButton(text) {
  return '<button type="button" class="copy" data-copy="' + esc(text) + '">' + esc(gettext("Copy")) + "</button>";
}

export function voucherCard(v) {
  return '<li class="issued">' +
    '<img class="qr" src="' + esc(v.qr_url) + '" alt="' + esc(gettext("QR code of the voucher")) + '" width="120" height="120">' +
    '<div class="issued-text">' +
    '<div class="line"><b class="code">' + esc(groupCode(v.code)) + "</b>" + copyButton(v.code) + "</div>" +
    '<div class="line"><a class="link" href="' + esc(v.voucher_url) + '" target="_blank" rel="noopener">' + esc(v.voucher_url) + "</a>" +
    copyButton(v.voucher_url) + "</div>" +
    '<div class="note">' + esc(v.valid_until ? interpolate(gettext("Valid until %(day)s"), { day: v.valid_until.slice(0, 10) }, true)
      : gettext("No end date")) + "</div>" +
    "</div></li>";
}

// Puts the text on the clipboard where the browser allows it (a secure page); else shows it selected
// beside the button, for the phone's own copy.
export function copy(button) {
  const text = button.getAttribute("data-copy");
  const done = () => { button.textContent = gettext("Copied"); };
  const select = () => {
    const field = document.createElement("input");
    field.value = text;
    field.readOnly = true;
    field.className = "copy-field";
    const shown = button.nextElementSibling;
    if (shown && shown.classList.contains("copy-field")) shown.remove();
    button.after(field);
    field.focus();
    field.select();
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, select);
  else select();
}

export function createIssuing({ config, get, post, csrf }) {
  const $ = (id) => document.getElementById(id);
  let loaded = false;

  function chosen() {
    return { product: Number($("issue-product").value), channel: $("issue-channel").value };
  }

  function loadProducts() {
    if (loaded) return;
    get(config.urls.productList).then((products) => {
      loaded = true;
      $("issue-product").innerHTML = products.map((p) => '<option value="' + p.id + '">' + esc(p.name) + "</option>").join("");
      $("issue-no-products").hidden = products.length > 0;
    }, (e) => failed("issue-error", e.message));
  }

  function failed(where, message) {
    $(where).textContent = message;
    $(where).hidden = false;
  }

  function issueOne(event) {
    event.preventDefault();
    const body = Object.assign(chosen(), {
      order_no: $("issue-order").value.trim(), quantity: Number($("issue-quantity").value) || 1,
      buyer_phone: $("issue-phone").value.trim(),
    });
    $("issue-error").hidden = true;
    $("issue-submit").disabled = true;
    post(config.urls.vouchers, body).then(({ status, answer }) => {
      $("issue-repeated").hidden = status !== 200;
      $("issue-result").innerHTML = answer.vouchers.map(voucherCard).join("");
    }, (e) => failed("issue-error", e.message)).then(() => { $("issue-submit").disabled = false; });
  }

  function showFileAnswer({ status, body }) {
    const progress = $("issue-progress");
    if (status === 201) {
      progress.textContent = fileSummary(body);
      $("issue-delivery").href = body.delivery_url;
      $("issue-delivery-xlsx").href = xlsxUrl(body.delivery_url);
      $("issue-download").hidden = false;
      return;
    }
    progress.textContent = (body && body.message) || gettext("Could not upload; check the connection and try again");
    progress.classList.add("bad");
    const lines = badLines(body && body.errors);
    $("issue-bad-lines").innerHTML = lines.map((l) => "<li>" + esc(l) + "</li>").join("");
    $("issue-bad-lines").hidden = !lines.length;
  }

  function uploadFile(event) {
    event.preventDefault();
    const file = $("issue-file").files[0];
    if (!file) return;
    const form = new FormData();
    const { product, channel } = chosen();
    form.append("file", file);
    form.append("product", product);
    form.append("channel", channel);
    const progress = $("issue-progress");
    progress.hidden = false;
    progress.classList.remove("bad");
    $("issue-download").hidden = true;
    $("issue-bad-lines").hidden = true;
    $("issue-upload").disabled = true;
    const onProgress = (done, total) => {
      progress.textContent = done === null ? gettext("Generating…") : uploadProgress(done, total);
    };
    onProgress(0, file.size);
    send(config.urls.issueFile, form, csrf(), onProgress).then(showFileAnswer, (e) => {
      progress.textContent = e.message;
      progress.classList.add("bad");
    }).then(() => { $("issue-upload").disabled = false; });
  }

  function wire() {
    const panel = $("tab-issue");
    if (!panel) return;
    $("issue-channel").innerHTML = issueChannels(config.channels)
      .map((c) => '<option value="' + esc(c.value) + '">' + esc(c.label) + "</option>").join("");
    $("issue-one").addEventListener("submit", issueOne);
    $("issue-file-form").addEventListener("submit", uploadFile);
    panel.addEventListener("click", (e) => {
      const button = e.target.closest("[data-copy]");
      if (button) copy(button);
    });
  }

  return { wire, load: loadProducts };
}
