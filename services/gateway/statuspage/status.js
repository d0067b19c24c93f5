// The status page: GET /v1/connectors/braze/status every second, shown as
// it is. The API key is asked once and kept in sessionStorage (this tab
// only, gone when it closes); it travels as an Authorization header, never
// in a URL. Every figure is set with textContent: nothing the API returns
// is parsed as HTML.
"use strict";

const STATUS_URL = "/v1/connectors/braze/status";
const KEY = "tajo.apiKey";
const EVERY_MS = 1000;
const WINDOW = 300; // samples the chart keeps: five minutes at one a second

const $ = (id) => document.getElementById(id);
const nf = new Intl.NumberFormat("en-US");
const num = (n) => nf.format(n || 0);
const samples = []; // {t, users, events}: rates per second
let prev = null;    // {t, run, users, events}: the counts of the last poll
let timer = null;

function showSignIn(msg) {
  $("status").hidden = true;
  $("signout").hidden = true;
  $("signin").hidden = false;
  $("signin-msg").textContent = msg || "";
  $("key").focus();
}

function signOut(msg) {
  sessionStorage.removeItem(KEY);
  clearTimeout(timer);
  showSignIn(msg);
}

async function poll() {
  const key = sessionStorage.getItem(KEY);
  if (!key) { showSignIn(); return; }
  let res, body;
  try {
    res = await fetch(STATUS_URL, { headers: { Authorization: "Bearer " + key }, cache: "no-store", credentials: "omit" });
    body = await res.json();
  } catch (e) {
    showError("the gateway did not answer: " + e.message);
    timer = setTimeout(poll, EVERY_MS);
    return;
  }
  if (res.status === 401 || res.status === 403) {
    signOut(body.message || "the API key was refused");
    return;
  }
  if (!res.ok) {
    showError(body.message || ("the status API answered " + res.status));
  } else {
    $("error").hidden = true;
    render(body);
  }
  timer = setTimeout(poll, EVERY_MS);
}

function showError(msg) {
  $("error").textContent = msg;
  $("error").hidden = false;
}

// set fills the element of key k: text shown, raw (when given) kept in
// data-v for whoever reads the page's figures exactly.
function set(el, text, raw) {
  el.textContent = text;
  if (raw !== undefined) el.dataset.v = String(raw); else delete el.dataset.v;
}

function field(k) { return document.querySelector('[data-k="' + CSS.escape(k) + '"]'); }

function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }

function took(ms, finished) { return finished ? (ms / 1000).toFixed(1) + " s" : "running"; }

// cell is a table cell for key k.
function cell(k, text, raw, cls) {
  const td = document.createElement("td");
  td.dataset.k = k;
  if (cls) td.className = cls;
  set(td, text, raw);
  return td;
}

function fillTable(id, rows) {
  const tbody = $(id).tBodies[0];
  const trs = rows.map((cells) => { const tr = document.createElement("tr"); tr.append(...cells); return tr; });
  if (trs.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = $(id).tHead.rows[0].cells.length;
    td.className = "text dim";
    td.textContent = "none";
    tr.append(td);
    trs.push(tr);
  }
  tbody.replaceChildren(...trs);
}

const counts = ["exported", "created", "updated", "unchanged", "failed", "deadLettered"];

function runCells(prefix, r, withStart) {
  const cells = [
    cell(prefix + ".id", r.id, undefined, "text"),
    cell(prefix + ".type", r.type, undefined, "text"),
    cell(prefix + ".status", r.status, undefined, "text status-" + r.status),
  ];
  if (withStart) cells.push(cell(prefix + ".startedAt", when(r.startedAt), r.startedAt, "text"));
  for (const c of counts) cells.push(cell(prefix + "." + c, num(r[c])));
  cells.push(cell(prefix + ".durationMs", took(r.durationMs, r.finishedAt), r.durationMs));
  return cells;
}

// settled is how many of a run's users reached their outcome.
function settled(r) {
  if (!r) return 0;
  return (r.created || 0) + (r.updated || 0) + (r.unchanged || 0) + (r.merged || 0) + (r.stale || 0) + (r.deadLettered || 0);
}

function render(st) {
  $("signin").hidden = true;
  $("status").hidden = false;
  $("signout").hidden = false;
  const conn = $("conn");
  conn.dataset.k = "connected";
  set(conn, st.connected ? "connected" : "not connected", st.connected);
  conn.className = "pill " + (st.connected ? "ok" : "bad");
  conn.title = [st.connection && st.connection.braze, st.connection && st.connection.brevo]
    .filter(Boolean).map((c) => c.check + ": " + (c.ok ? "ok" : c.error)).join("\n");
  set($("readAt"), when(st.readAt), st.readAt);
  set(field("usersCount"), num(st.usersCount));
  set(field("eventsProcessed"), num(st.eventsProcessed));
  set(field("campaignsTracked"), num(st.campaignsTracked));
  set(field("lastSync.id"), st.lastSync ? st.lastSync.id : "none yet");
  set(field("lastSync.startedAt"), st.lastSync ? when(st.lastSync.startedAt) : "—", st.lastSync ? st.lastSync.startedAt : "");

  const resources = Object.keys(st.resources || {}).sort();
  fillTable("resources", resources.map((res) => {
    return [cell("resources." + res + ".resource", res, undefined, "text")].concat(runCells("resources." + res, st.resources[res], false));
  }));
  fillTable("runs", (st.runs || []).map((r) => {
    const p = "runs." + r.id;
    const cells = runCells(p, r, true);
    const rate = r.finishedAt && r.durationMs > 0 ? (r.exported * 1000 / r.durationMs).toFixed(0) : "—";
    cells.splice(1, 0, cell(p + ".resource", r.resource, undefined, "text"));
    cells.push(cell(p + ".rate", rate));
    return cells;
  }));
  // What holds the work back (an open circuit breaker), when the status can tell.
  const waiting = st.waiting || [];
  $("held").hidden = waiting.length === 0;
  $("waiting").replaceChildren(...waiting.map((w, i) => {
    const li = document.createElement("li");
    li.dataset.k = "waiting." + i;
    li.textContent = w;
    return li;
  }));
  fillTable("consumers", (st.consumers || []).map((c) => {
    const p = "consumers." + c.stream + "/" + c.consumer;
    if (c.error) return [cell(p, c.stream + "/" + c.consumer, undefined, "text"), cell(p + ".error", c.error, undefined, "text err")];
    if (!c.exists) return [cell(p, c.stream + "/" + c.consumer, undefined, "text"), cell(p + ".pending", "not created yet", 0), cell(p + ".ackPending", "", 0)];
    return [cell(p, c.stream + "/" + c.consumer, undefined, "text"), cell(p + ".pending", num(c.pending)), cell(p + ".ackPending", num(c.ackPending))];
  }));
  fillTable("deadletters", (st.deadLetters || []).map((d) => [
    cell("deadLetters." + d.stage + "/" + d.reason + ".stage", d.stage, undefined, "text"),
    cell("deadLetters." + d.stage + "/" + d.reason + ".reason", d.reason, undefined, "text"),
    cell("deadLetters." + d.stage + "/" + d.reason, num(d.count)),
  ]));
  fillTable("segments", (st.segments || []).map((g) => {
    const p = "segments." + g.segmentId;
    return [
      cell(p, g.segmentId, undefined, "text"),
      cell(p + ".name", g.name || "", undefined, "text"),
      cell(p + ".listId", String(g.listId)),
      cell(p + ".members", num(g.members)),
      cell(p + ".lastRun", g.lastRun || "", undefined, "text"),
      cell(p + ".joined", num(g.joined)),
      cell(p + ".left", num(g.left)),
      cell(p + ".unresolved", num(g.unresolved)),
      cell(p + ".error", g.error || "", undefined, "text err"),
    ];
  }));
  fillTable("breakers", (st.breakers || []).map((b) => [
    cell("breakers." + b.name, b.name, undefined, "text"),
    cell("breakers." + b.name + ".state", b.state, undefined, "text state-" + b.state),
    cell("breakers." + b.name + ".transitions", num(b.transitions)),
    cell("breakers." + b.name + ".reported_at", when(b.reported_at), b.reported_at),
  ]));
  sample(st);
  draw();
}

// sample turns the counts of two polls into rates: users settled by the
// users run in flight (or the last one) and events written.
function sample(st) {
  const r = st.resources && st.resources.users;
  const now = { t: Date.parse(st.readAt) || Date.now(), run: r ? r.id : "", users: settled(r), events: st.eventsProcessed || 0 };
  if (prev && now.t > prev.t) {
    const dt = (now.t - prev.t) / 1000;
    const users = now.run === prev.run ? now.users - prev.users : now.users;
    samples.push({ t: now.t, users: Math.max(0, users) / dt, events: Math.max(0, now.events - prev.events) / dt });
    while (samples.length > WINDOW) samples.shift();
    const last = samples[samples.length - 1];
    $("rate-users").textContent = num(Math.round(last.users));
    $("rate-events").textContent = num(Math.round(last.events));
  }
  prev = now;
}

function draw() {
  const c = $("chart");
  const ratio = window.devicePixelRatio || 1;
  const w = c.clientWidth || 900, h = c.clientHeight || 220;
  c.width = w * ratio; c.height = h * ratio;
  const g = c.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, w, h);
  const pad = { l: 56, r: 10, t: 10, b: 22 };
  const max = Math.max(1, ...samples.map((s) => Math.max(s.users, s.events)));
  const x = (i) => pad.l + (w - pad.l - pad.r) * (samples.length <= 1 ? 1 : i / (samples.length - 1));
  const y = (v) => h - pad.b - (h - pad.t - pad.b) * (v / max);
  g.strokeStyle = "#e5e7eb"; g.fillStyle = "#6b7280"; g.font = "11px system-ui, sans-serif";
  for (const f of [0, 0.5, 1]) {
    g.beginPath(); g.moveTo(pad.l, y(max * f)); g.lineTo(w - pad.r, y(max * f)); g.stroke();
    g.fillText(num(Math.round(max * f)) + "/s", 4, y(max * f) + 4);
  }
  if (samples.length > 1) {
    const span = Math.round((samples[samples.length - 1].t - samples[0].t) / 1000);
    g.fillText("last " + span + " s", w - pad.r - 60, h - 6);
  }
  for (const [k, color] of [["users", "#2563eb"], ["events", "#db2777"]]) {
    g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
    samples.forEach((s, i) => (i ? g.lineTo(x(i), y(s[k])) : g.moveTo(x(i), y(s[k]))));
    g.stroke();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("keyform").addEventListener("submit", (e) => {
    e.preventDefault();
    const key = $("key").value.trim();
    $("key").value = "";
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    clearTimeout(timer);
    poll();
  });
  $("signout").addEventListener("click", () => signOut("key forgotten"));
  poll();
});
