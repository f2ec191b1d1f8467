// The few page helpers every part of the scanner shares. They touch the page only when called.

export function $(id) {
  return document.getElementById(id);
}

export function show(el, on) {
  el.hidden = !on;
}

// Phones would pop the on-screen keyboard over a sheet or a result.
export function blurInput() {
  const el = document.activeElement;
  if (el && el.blur) el.blur();
}

let toastTimer = 0;

export function toast(message) {
  const el = $("toast");
  el.textContent = message;
  show(el, true);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => show(el, false), 3500);
}
