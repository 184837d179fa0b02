// GET / on the admin listener: one small, dependency-free HTML page for people — pools, endpoints in
// state colours, the answer each pool gives, active overrides with their expiry, recent transitions
// with reasons and the zones — refreshing itself from /v1/status every 2 s.
//
// The page itself holds no data, so it is served without a token. When /v1/status answers 401 the
// page asks for the token once and keeps it in sessionStorage (this tab only, gone when it closes);
// until then it shows nothing. A Content-Security-Policy allows only this page's own script and style
// (by hash) and fetches to this origin; everything from the API is written as text, never as HTML.

import { createHash } from "node:crypto";

/** How often the page fetches /v1/status. */
export const REFRESH_MS = 2000;

const STYLE = `
:root{--up:#1a7f37;--down:#cf222e;--drain:#bf8700;--unknown:#6e7781;--forced:#0969da;--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--card:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--card:#161b22;--up:#3fb950;--down:#f85149;--drain:#d29922;--forced:#58a6ff}}
*{box-sizing:border-box}
body{margin:0;padding:1rem 1.5rem;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap;border-bottom:1px solid var(--line);padding-bottom:.5rem}
h1{font-size:1.3rem;margin:0}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}h3{font-size:1rem;margin:0 0 .3rem}
.muted,small{color:var(--muted)}
code,td.mono,.answer b{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25rem .6rem .25rem 0;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px}
.pool{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--up);border-radius:6px;padding:.7rem .9rem;margin:.6rem 0}
.pool.degraded{border-left-color:var(--drain)}.pool.failopen,.pool.servfail{border-left-color:var(--down)}
.answer{margin:.2rem 0 .5rem}
.state{display:inline-block;min-width:4.2em;padding:0 .45em;border-radius:1em;color:#fff;font-size:12px;font-weight:600;text-align:center}
.state.up{background:var(--up)}.state.down{background:var(--down)}.state.drain{background:var(--drain)}.state.unknown{background:var(--unknown)}.state.forced{background:var(--forced)}
.badge{display:inline-block;padding:0 .5em;border-radius:3px;font-size:11px;font-weight:700;color:#fff;background:var(--down);margin-left:.4em;vertical-align:middle}
#error{color:var(--down);font-weight:600}
form{margin:2rem 0;max-width:28rem}input{font:inherit;padding:.35rem .5rem;width:100%;margin:.4rem 0;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:4px}
button{font:inherit;padding:.35rem .9rem}
footer{margin-top:2rem;color:var(--muted);font-size:12px}
`;

const SCRIPT = `
"use strict";
const KEY = "hadns.adminToken", EVERY = ${REFRESH_MS};
let token = sessionStorage.getItem(KEY) || "", timer = 0, skew = 0;
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null && v !== false) e.setAttribute(k, String(v));
  for (const k of kids.flat()) if (k !== undefined && k !== null) e.append(k instanceof Node ? k : String(k));
  return e;
}
function ago(ms) {
  let s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m ? m + "m " + s + "s" : s + "s";
}
const serverNow = () => Date.now() + skew;
const when = (t) => t ? el("span", { title: new Date(t).toLocaleString() }, ago(serverNow() - t) + " ago") : "—";
const until = (t) => el("span", { title: new Date(t).toLocaleString() }, "in " + ago(t - serverNow()));
function table(head, rows, attrs) {
  return el("table", attrs, el("thead", null, el("tr", null, head.map((h) => el("th", null, h)))), el("tbody", null, rows));
}
function answerText(a) {
  if (a.rcode === "servfail") return "SERVFAIL";
  const first = a.variants[0] || [];
  if (first.length === 0) return "no records (NODATA)";
  if (a.selection === "fixed" || a.variants.length === 1) return first.join(", ");
  const all = [...new Set(a.variants.flat())];
  if (a.selection === "weighted" && a.weights) return a.variants.map((v, i) => v[0] + " ×" + a.weights[i]).join(", ");
  return all.join(", ") + " (rotating)";
}
function stateOf(ep) {
  if (ep.override && ep.override.action === "drain") return "drain";
  if (ep.override && ep.override.action === "up" && ep.probedState !== "up") return "forced";
  return ep.state;
}
function pool(p) {
  const a = p.answer, degraded = p.endpoints.some((e) => e.state !== "up");
  const cls = "pool" + (a.failOpen ? " failopen" : a.rcode === "servfail" ? " servfail" : degraded ? " degraded" : "");
  const rows = p.endpoints.map((ep) => {
    const st = stateOf(ep), lp = ep.lastProbe;
    return el("tr", { "data-endpoint": ep.address, "data-state": st },
      el("td", { class: "mono" }, ep.address, ep.priority !== undefined ? el("small", null, " p" + ep.priority) : null, ep.weight !== undefined ? el("small", null, " w" + ep.weight) : null),
      el("td", null, el("span", { class: "state " + st }, st === "forced" ? "up (forced)" : st)),
      el("td", null, ep.check ? ep.probedState + (ep.probed && ep.probed !== ep.address ? " via " + ep.probed : "") : "no check"),
      el("td", null, when(ep.since)),
      el("td", null, ep.reason || "—"),
      el("td", null, lp ? [lp.ok ? "ok" : "failed", ": " + lp.reason + " · " + Math.round(lp.latencyMs) + " ms · ", when(lp.at)] : "—"),
      el("td", null, ep.override ? [ep.override.action + ": " + ep.override.reason + " (ends ", until(ep.override.expiresAt), ")"] : "—"));
  });
  return el("div", { class: cls, "data-pool": p.name + " " + p.type, "data-fail-open": a.failOpen },
    el("h3", null, p.name + " " + p.type + " ", el("small", null, p.policy + " · ttl " + a.ttl), a.failOpen ? el("span", { class: "badge" }, "FAIL-OPEN") : null),
    el("p", { class: "answer" }, "answers ", el("b", { "data-answer": "" }, answerText(a)), el("span", { class: "muted" }, " — " + a.reason)),
    table(["endpoint", "state", "probed", "since", "reason", "last probe", "override"], rows, { class: "endpoints" }));
}
function render(s) {
  $("error").textContent = "";
  $("login").hidden = true;
  $("main").hidden = false;
  $("meta").textContent = "v" + s.version + " · up " + ago(s.now - s.startedAt) + (s.lastReload ? " · last reload " + (s.lastReload.ok ? "ok" : "REJECTED") + " (" + s.lastReload.trigger + ")" : "");
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  $("pools").replaceChildren(...(s.pools.length ? s.pools.map(pool) : [el("p", { class: "muted" }, "No pools are configured.")]));
  $("overrides").replaceChildren(s.overrides.length ? table(["action", "pool", "address", "reason", "expires", "id"], s.overrides.map((o) =>
    el("tr", { "data-override": o.id }, el("td", null, el("span", { class: "state " + (o.action === "up" ? "forced" : o.action) }, o.action)),
      el("td", { class: "mono" }, o.pool || "every pool"), el("td", { class: "mono" }, o.address), el("td", null, o.reason),
      el("td", null, until(o.expiresAt)), el("td", { class: "mono" }, o.id.slice(0, 8))))) : el("p", { class: "muted" }, "None."));
  $("transitions").replaceChildren(s.recentTransitions.length ? table(["when", "endpoint", "change", "reason", "pools"], s.recentTransitions.map((t) =>
    el("tr", { "data-transition": t.address, "data-to": t.to }, el("td", null, when(t.at)), el("td", { class: "mono" }, t.address + " ", el("small", null, t.check)),
      el("td", null, t.from + " → ", el("span", { class: "state " + t.to }, t.to)), el("td", null, t.reason), el("td", { class: "mono" }, t.pools.join(", "))))) : el("p", { class: "muted" }, "None since start."));
  $("zones").replaceChildren(table(["zone", "serial", "records", "file"], s.zones.map((z) =>
    el("tr", null, el("td", { class: "mono" }, z.origin), el("td", null, z.serial), el("td", null, z.records), el("td", { class: "mono" }, z.file)))));
}
function askToken(message) {
  $("main").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("token").focus();
}
function schedule() { clearTimeout(timer); timer = setTimeout(tick, EVERY); }
async function tick() {
  let res;
  try {
    res = await fetch("/v1/status", { headers: token ? { authorization: "Bearer " + token } : {}, cache: "no-store" });
  } catch (e) {
    $("error").textContent = "cannot reach hadns (" + e.message + "); retrying";
    return schedule();
  }
  if (res.status === 401) {
    const had = token !== "";
    token = "";
    sessionStorage.removeItem(KEY);
    return askToken(had ? "That token was not accepted." : "");
  }
  let s;
  try { s = await res.json(); } catch (e) { s = { error: "not JSON" }; }
  if (!res.ok) {
    $("error").textContent = "/v1/status: HTTP " + res.status + ": " + (s.error || "");
    return schedule();
  }
  skew = s.now - Date.now();
  render(s);
  schedule();
}
$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  $("token").value = "";
  if (token) sessionStorage.setItem(KEY, token);
  tick();
});
tick();
`;

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>hadns status</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>hadns</h1><span id="meta" class="muted"></span><span id="updated" class="muted"></span><span id="error" role="alert"></span></header>
<form id="login" hidden>
<label for="token">This admin API needs its bearer token (admin.token). It is kept in this tab only.</label>
<input id="token" type="password" autocomplete="off" spellcheck="false">
<button type="submit">Show status</button>
<p id="login-error" role="alert"></p>
</form>
<main id="main" hidden>
<h2>Pools</h2><div id="pools"></div>
<h2>Active overrides</h2><div id="overrides"></div>
<h2>Recent transitions</h2><div id="transitions"></div>
<h2>Zones</h2><div id="zones"></div>
</main>
<footer>Refreshes every ${REFRESH_MS / 1000} s · the same data as JSON: <code>GET /v1/status</code> · <code>hadns status</code></footer>
<script>${SCRIPT}</script>
</body>
</html>
`;

const hash = (s: string): string => `'sha256-${createHash("sha256").update(s, "utf8").digest("base64")}'`;

/** Only this page's own script and style run; it may fetch only from the admin listener itself. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function statusPageHtml(): string {
  return HTML;
}
