// Each page names every module its entry imports in <link rel="modulepreload">, so a phone fetches
// them all at once instead of discovering them one import after another.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const ROOT = new URL("../../", import.meta.url);
const read = (path) => readFileSync(new URL(path, ROOT), "utf-8");

// Static names (as {% static %} takes them) of every module reachable from the entry.
function imported(entry) {
  const found = new Set();
  const walk = (name) => {
    const source = read("static/" + name);
    for (const [, spec] of source.matchAll(/^(?:import|export)\b[^;]*?["'](\.{1,2}\/[^"']+)["'];/gms)) {
      const next = new URL(spec, new URL(name, "file:///")).pathname.slice(1);
      if (!found.has(next)) {
        found.add(next);
        walk(next);
      }
    }
  };
  walk(entry);
  return found;
}

function preloaded(template) {
  const html = read("templates/" + template);
  return new Set(Array.from(html.matchAll(/<link rel="modulepreload" href="\{% static '([^']+)' %\}">/g), (m) => m[1]));
}

// The scanner's page preloads the list its view hands it (MODULES in redemption/pages/scanner.py),
// which its service worker keeps too.
function listed(view, name) {
  const source = read(view);
  const block = source.match(new RegExp(`^${name} = \\[([^\\]]*)\\]`, "m"))[1];
  return new Set(Array.from(block.matchAll(/"([^"]+)"/g), (m) => m[1]));
}

test("the scanner preloads every module it imports, and nothing else", () => {
  const modules = imported("staff/app.js");
  assert.ok(modules.has("staff/js/codes.js") && modules.has("staff/js/i18n.js"));
  assert.match(read("templates/staff/scanner.html"), /\{% for module in modules %\}<link rel="modulepreload" href="\{% static module %\}">/);
  assert.deepEqual([...listed("redemption/pages/scanner.py", "MODULES")].sort(), [...modules].sort());
});

test("the dashboard preloads every module it imports, and nothing else", () => {
  const modules = imported("dashboard/dashboard.js");
  assert.ok(modules.has("dashboard/js/days.js") && modules.has("staff/js/i18n.js"));
  assert.deepEqual([...preloaded("dashboard/dashboard.html")].sort(), [...modules].sort());
});

test("the buyer page preloads every module it imports, and nothing else", () => {
  const modules = imported("buyer/buyer.js");
  assert.deepEqual([...preloaded("buyer/voucher.html")].sort(), [...modules].sort());
});
