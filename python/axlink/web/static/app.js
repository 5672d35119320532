// SPDX-License-Identifier: MIT
// The console page: uses only the JSON API under /api/ and the WebSocket
// /api/ws (docs/web-api.md).
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
if (params.get("token")) sessionStorage.setItem("axlink-token", params.get("token"));
const TOKEN = sessionStorage.getItem("axlink-token") || "";

const state = {
  drives: [],          // the last drives table
  drive: null,         // selected drive id
  axis: 1,
  regs: [],            // register metadata of the selected drive
  ws: null,
  stream: null,        // {id, names}
  jog: null,           // {timer, velocity}
  scope: null,         // the drive's monitoring: {base_period_us, max_channels}
  capture: null,       // the capture shown: its answer
  capturing: null,     // {abort, poll} while a capture request runs
};

class ApiFailure extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.kind = e.class || "Error";
  }
}

async function api(method, path, body, signal) {
  const opts = { method, headers: {}, signal };
  if (TOKEN) opts.headers["Authorization"] = "Bearer " + TOKEN;
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) throw new ApiFailure(r.status, data);
  return data;
}

function say(el, text, kind) {
  el.textContent = text || "";
  el.className = "msg" + (kind ? " " + kind : "");
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// ---- live connection ------------------------------------------------------

const pending = new Map();
let refCounter = 0;

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const q = TOKEN ? "?token=" + encodeURIComponent(TOKEN) : "";
  const ws = new WebSocket(`${proto}//${location.host}/api/ws${q}`);
  state.ws = ws;
  ws.onopen = () => { $("conn").textContent = "live"; $("conn").className = "conn up"; };
  ws.onclose = () => {
    $("conn").textContent = "offline"; $("conn").className = "conn down";
    state.stream = null;
    setPlotRunning(false);
    setTimeout(connect, 1000);
  };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.ref !== undefined && pending.has(m.ref)) {
      const { resolve, reject } = pending.get(m.ref);
      pending.delete(m.ref);
      if (m.type === "error") reject(new ApiFailure(400, m)); else resolve(m);
      return;
    }
    if (m.type === "drives") showDrives(m.drives);
    else if (m.type === "samples") {
      if (state.stream && m.stream === state.stream.id) chart.push(m.t, m.values);
    } else if (m.type === "stream-closed") {
      if (state.stream && m.stream === state.stream.id) {
        state.stream = null;
        setPlotRunning(false);
        say($("plot-msg"), "stream ended: " + m.reason, "error");
      }
    }
  };
}

function wsRequest(msg) {
  return new Promise((resolve, reject) => {
    const ref = ++refCounter;
    pending.set(ref, { resolve, reject });
    state.ws.send(JSON.stringify({ ...msg, ref }));
  });
}

// ---- drives ---------------------------------------------------------------

function showDrives(drives) {
  drives = drives.slice().sort((a, b) =>
    a.uri.localeCompare(b.uri, "en", { numeric: true }));
  state.drives = drives;
  const body = $("drives").tBodies[0];
  body.textContent = "";
  for (const d of drives) {
    const axes = el("td", { class: "axes" });
    for (const a of d.axes || []) {
      axes.append(el("span", { class: "state " + (a.state || ""),
        title: `axis ${a.axis}: status word 0x${(a.statusword || 0).toString(16)}` },
      `${a.axis}: ${(a.state || a.error || "?").replace(/_/g, " ")}`));
    }
    if (d.error) axes.append(el("span", { class: "err" }, d.error));
    else if (!d.open && d.access === "ok") axes.append("opening…");
    const tr = el("tr", { "data-id": d.id, "data-uri": d.uri },
      el("td", {}, d.id), el("td", {}, d.model || "–"), el("td", {}, String(d.serial ?? "–")),
      el("td", {}, d.firmware || "–"), el("td", {}, d.uri), el("td", { title: d.match_reason },
        d.match), el("td", { title: d.message || "" }, d.access), axes);
    if (d.id === state.drive) tr.classList.add("selected");
    tr.onclick = () => selectDrive(d.id);
    body.append(tr);
  }
  $("drives-count").textContent = drives.length ? `(${drives.length})` : "";
  $("drives-empty").style.display = drives.length ? "none" : "";
  const sel = drives.find((d) => d.id === state.drive);
  if (state.drive && !sel) {
    say($("motion-msg"), `drive ${state.drive} went away`, "error");
    state.drive = null;
    updateTarget();
  } else if (!state.drive && drives.some((d) => d.open)) {
    selectDrive(drives.find((d) => d.open).id);
  } else if (sel) {
    showAxis(sel);
    if (sel.open && !state.regs.length && !state.loadingRegs) loadRegisters();
  }
}

function selectedDrive() { return state.drives.find((d) => d.id === state.drive) || null; }

function selectDrive(id) {
  if (state.drive === id) return;
  state.drive = id;
  state.regs = [];
  for (const tr of $("drives").tBodies[0].rows)
    tr.classList.toggle("selected", tr.dataset.id === id);
  const d = selectedDrive();
  const axisSel = $("axis");
  axisSel.textContent = "";
  for (const a of (d && d.axes) || []) axisSel.append(el("option", { value: a.axis }, String(a.axis)));
  state.axis = 1;
  updateTarget();
  if (d) showAxis(d);
  $("regs").tBodies[0].textContent = "";
  state.renderedKeys = null;
  fillScope();
  if (d && d.open) loadRegisters();
}

function updateTarget() {
  const d = selectedDrive();
  const on = !!(d && d.open);
  $("stop").disabled = $("quick-stop").disabled = !on;
  $("target").textContent = on ? `${d.id} ${d.model || ""} axis ${state.axis}` : "no axis selected";
  $("motion-drive").textContent = d ? `${d.id} · ${d.uri}` : "";
  $("regs-drive").textContent = d ? `${d.id} · ${d.model || "no dictionary"}` : "";
}

function showAxis(d) {
  const a = (d.axes || []).find((x) => x.axis === state.axis);
  if (!a) return;
  $("axis-state").textContent = (a.state || a.error || "–").replace(/_/g, " ");
  $("axis-state").dataset.state = a.state || "";
  $("axis-sw").textContent = a.statusword !== undefined ? "0x" + a.statusword.toString(16).padStart(4, "0") : "–";
  $("axis-pos").textContent = a.position !== undefined ? `${fmt(a.position)} ${a.units}` : "–";
  $("axis-vel").textContent = a.velocity !== undefined ? `${fmt(a.velocity)} ${a.units}/s` : "–";
  $("axis-mode").textContent = (a.mode || "–").replace(/_/g, " ");
}

// ---- motion ---------------------------------------------------------------

function axisPath(action) {
  return `/api/drives/${state.drive}/axes/${state.axis}` + (action ? "/" + action : "");
}

async function axisAction(action, body) {
  if (!state.drive) return say($("motion-msg"), "select a drive first", "error");
  try {
    const st = await api("POST", axisPath(action), body || {});
    const d = selectedDrive();
    if (d) {
      d.axes = d.axes.map((a) => (a.axis === st.axis ? st : a));
      showAxis(d);
    }
    say($("motion-msg"), `${action}: ${st.state.replace(/_/g, " ")}`, "ok");
  } catch (e) {
    say($("motion-msg"), `${action}: ${e.message}`, "error");
  }
}

function units() { return $("units").value; }

function startJog(sign) {
  stopJogTimer();
  const velocity = sign * Math.abs(parseFloat($("velocity").value) || 0);
  const send = () => api("POST", axisPath("jog"), { velocity, units: units(), ttl_ms: 600 })
    .catch((e) => { stopJogTimer(); say($("motion-msg"), "jog: " + e.message, "error"); });
  send();
  state.jog = setInterval(send, 250);  // renew the server's dead man while held
}

function stopJogTimer() {
  if (state.jog) { clearInterval(state.jog); state.jog = null; }
}

function endJog() {
  if (!state.jog) return;
  stopJogTimer();
  axisAction("stop");
}

function wireMotion() {
  $("axis").onchange = () => { state.axis = parseInt($("axis").value, 10); updateTarget();
    const d = selectedDrive(); if (d) showAxis(d); };
  $("enable").onclick = () => axisAction("enable");
  $("disable").onclick = () => axisAction("disable");
  $("fault-reset").onclick = () => axisAction("fault-reset");
  $("set-mode").onclick = () => axisAction("mode", { mode: $("mode").value });
  $("stop").onclick = () => { stopJogTimer(); axisAction("stop"); };
  $("quick-stop").onclick = () => { stopJogTimer(); axisAction("quick-stop"); };
  $("units").onchange = () => { $("vel-units").textContent = units() + "/s";
    axisAction("units", { units: units() }); };
  $("move").onclick = () => {
    const body = { position: parseFloat($("position").value), units: units(),
      relative: $("relative").checked };
    const v = parseFloat($("velocity").value);
    if (v > 0) body.velocity = v;
    axisAction("move", body);
  };
  for (const [id, sign] of [["jog-neg", -1], ["jog-pos", 1]]) {
    const b = $(id);
    b.addEventListener("pointerdown", (e) => { e.preventDefault(); startJog(sign); });
    for (const ev of ["pointerup", "pointerleave", "pointercancel"]) b.addEventListener(ev, endJog);
  }
  window.addEventListener("blur", endJog);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("stop").disabled) $("stop").click();
  });
}

// ---- configuration --------------------------------------------------------

function download(name, blob) {
  const a = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

function showReport(title, rep) {
  const box = $("cfg-report");
  box.textContent = "";
  const counts = Object.entries(rep.counts).filter(([, n]) => n).map(([s, n]) => `${n} ${s}`);
  box.append(el("p", { class: rep.ok ? "msg ok" : "msg error" }, `${title}: ${counts.join(", ") || "nothing"}`));
  const t = el("table");
  for (const e of rep.entries.filter((x) => x.status !== "unchanged").slice(0, 200)) {
    t.append(el("tr", {}, el("td", {}, e.id), el("td", {}, String(e.subnode)),
      el("td", {}, e.status), el("td", {}, e.file_value ?? ""), el("td", {}, e.drive_value ?? ""),
      el("td", { class: "err" }, e.message)));
  }
  box.append(t);
}

function wireConfig() {
  const cfg = (op, body) => api("POST", `/api/drives/${state.drive}/config/${op}`, body || {});
  $("cfg-save").onclick = async () => {
    try {
      const r = await cfg("save");
      download(r.filename, new Blob([r.text], { type: "application/xml" }));
      say($("motion-msg"), `saved ${r.count} registers`, "ok");
    } catch (e) { say($("motion-msg"), "save: " + e.message, "error"); }
  };
  for (const op of ["load", "diff"]) {
    $("cfg-" + op).onchange = async (ev) => {
      const f = ev.target.files[0];
      ev.target.value = "";
      if (!f) return;
      try { showReport(`${op} ${f.name}`, await cfg(op, { text: await f.text() })); }
      catch (e) { say($("motion-msg"), `${op}: ${e.message}`, "error"); }
    };
  }
  $("cfg-store").onclick = async () => {
    try { await cfg("store"); say($("motion-msg"), "stored in the drive's memory", "ok"); }
    catch (e) { say($("motion-msg"), "store: " + e.message, "error"); }
  };
}

// ---- registers ------------------------------------------------------------

async function loadRegisters() {
  const id = state.drive;
  state.loadingRegs = true;
  try {
    const r = await api("GET", `/api/drives/${id}/registers`);
    if (state.drive !== id) return;
    state.regs = r.registers;
    const cat = $("reg-category");
    const keep = cat.value;
    cat.length = 1;
    for (const c of r.categories) cat.append(el("option", { value: c.id }, c.label || c.id));
    cat.value = keep;
    const sub = $("reg-subnode");
    const keepSub = sub.value;
    sub.length = 1;
    for (const s of [...new Set(r.registers.map((x) => x.subnode))].sort((a, b) => a - b))
      sub.append(el("option", { value: s }, `subnode ${s}`));
    sub.value = keepSub;
    renderRegisters();
    fillScope();
  } catch (e) {
    $("regs-count").textContent = "registers: " + e.message;
  } finally {
    state.loadingRegs = false;
  }
}

function filteredRegisters() {
  const words = $("reg-search").value.toLowerCase().split(/\s+/).filter(Boolean);
  const cat = $("reg-category").value, sub = $("reg-subnode").value;
  return state.regs.filter((r) => {
    if (cat && r.category !== cat) return false;
    if (sub !== "" && r.subnode !== parseInt(sub, 10)) return false;
    const hay = `${r.id} ${r.label} ${r.category} ${r.units} ${r.description}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

function rangeText(r) {
  if (r.enums.length) return r.enums.map((e) => `${e.value}=${e.label}`).join(", ");
  if (r.range) return `${r.range[0]} … ${r.range[1]}`;
  return "";
}

function renderRegisters() {
  const list = filteredRegisters().slice(0, 300);
  const keys = state.drive + ":" + list.map((r) => `${r.id}@${r.subnode}`).join(",");
  if (keys === state.renderedKeys) {  // the same rows: keep them (and any edit in progress)
    readValues(list);
    return;
  }
  state.renderedKeys = keys;
  const body = $("regs").tBodies[0];
  body.textContent = "";
  for (const r of list) {
    const key = `${r.id}@${r.subnode}`;
    const edit = el("td", { class: "edit" });
    if (r.writable) {
      let input;
      if (r.enums.length) {
        input = el("select", {});
        for (const e of r.enums) input.append(el("option", { value: e.label }, `${e.label} (${e.value})`));
      } else {
        input = el("input", { type: "text", placeholder: r.dtype });
      }
      input.dataset.key = key;
      const set = el("button", {}, "Set");
      const err = el("span", { class: "err" });
      const submit = () => writeRegister(r, input.value, err);
      set.onclick = submit;
      input.onkeydown = (e) => { if (e.key === "Enter") submit(); };
      edit.append(input, set, err);
    }
    const tr = el("tr", { "data-key": key, class: r.writable ? "" : "ro",
      title: r.description || "" },
      el("td", {}, r.id), el("td", {}, String(r.subnode)), el("td", { class: "label" }, r.label),
      el("td", { class: "value" }, r.readable ? "…" : "(write-only)"), el("td", {}, r.units),
      el("td", { class: "range" }, rangeText(r)), el("td", {}, r.dtype), el("td", {}, r.access), edit);
    body.append(tr);
  }
  $("regs-count").textContent = `${list.length} of ${state.regs.length}`;
  readValues(list);
}

async function readValues(list) {
  const id = state.drive;
  const want = list.filter((r) => r.readable).map((r) => ({ id: r.id, subnode: r.subnode }));
  if (!want.length) return;
  try {
    const r = await api("POST", `/api/drives/${id}/read`, { registers: want });
    if (state.drive !== id) return;
    for (const v of r.values) showValue(v);
  } catch (e) {
    $("regs-count").textContent = "read: " + e.message;
  }
}

function showValue(v) {
  const tr = $("regs").querySelector(`tr[data-key="${CSS.escape(v.id + "@" + v.subnode)}"]`);
  if (!tr) return;
  const td = tr.querySelector("td.value");
  if (v.error) { td.textContent = "⚠ " + v.error.message; td.className = "value err"; return; }
  td.className = "value";
  td.textContent = v.label ? `${v.text} (${v.label})` : v.text;
}

async function writeRegister(r, value, err) {
  err.textContent = "";
  try {
    const v = await api("POST", `/api/drives/${state.drive}/write`,
      { id: r.id, subnode: r.subnode, value });
    showValue(v);
    const tr = err.closest("tr");
    tr.classList.add("saved");
    setTimeout(() => tr.classList.remove("saved"), 1200);
  } catch (e) {
    err.textContent = e.message;
  }
}

function wireRegisters() {
  let timer = null;
  $("reg-search").oninput = () => { clearTimeout(timer); timer = setTimeout(renderRegisters, 200); };
  $("reg-category").onchange = renderRegisters;
  $("reg-subnode").onchange = renderRegisters;
  $("reg-refresh").onclick = () => readValues(filteredRegisters().slice(0, 300));
  setInterval(() => {
    if ($("reg-live").checked && state.drive && state.regs.length)
      readValues(filteredRegisters().slice(0, 300));
  }, 1000);
}

// ---- live plot ------------------------------------------------------------

const chart = new StripChart($("plot"), $("plot-legend"));
window.axlinkChart = chart;

function setPlotRunning(on) {
  $("plot-start").textContent = on ? "End plot" : "Start plot";
  $("plot-pause").disabled = !on;
  $("plot-csv").disabled = $("plot-png").disabled = !chart.t.length && !on;
}

async function startPlot() {
  if (state.stream) {
    const s = state.stream;
    state.stream = null;
    setPlotRunning(false);
    await wsRequest({ op: "unsubscribe", stream: s.id }).catch(() => {});
    return;
  }
  if (!state.drive) return say($("plot-msg"), "select a drive first", "error");
  const registers = $("plot-regs").value.split(/[\s,]+/).filter(Boolean).map((w) => {
    const [id, sub] = w.split("@");
    return sub ? { id, subnode: parseInt(sub, 10) } : { id, subnode: state.axis };
  });
  try {
    const m = await wsRequest({ op: "subscribe", drive: state.drive, registers,
      period: parseFloat($("plot-period").value) });
    const units = m.registers.map((r) => {
      const meta = state.regs.find((x) => x.id === r.id && x.subnode === r.subnode);
      return meta ? meta.units : "";
    });
    chart.paused = false;
    $("plot-pause").textContent = "Pause";
    chart.reset(m.names, units);
    state.stream = { id: m.stream, names: m.names };
    $("plot-info").textContent = `${m.drive} · ${Math.round(1 / m.period)} Hz, every ${m.stride}. sample shown`;
    say($("plot-msg"), "");
    setPlotRunning(true);
  } catch (e) {
    say($("plot-msg"), e.message, "error");
  }
}

function wirePlot() {
  $("plot-start").onclick = startPlot;
  $("plot-pause").onclick = () => {
    chart.paused = !chart.paused;
    $("plot-pause").textContent = chart.paused ? "Resume" : "Pause";
    chart.dirty = true;
  };
  $("plot-csv").onclick = () => download("axlink-plot.csv", new Blob([chart.csv()], { type: "text/csv" }));
  $("plot-png").onclick = () => { chart.draw(); $("plot").toBlob((b) => download("axlink-plot.png", b)); };
}

// ---- scope ----------------------------------------------------------------

const scopeChart = new StripChart($("scope"), $("scope-legend"));
scopeChart.fit = true;
scopeChart.hint = "pick channels and press Capture";
window.axlinkScope = scopeChart;

// The registers the drive's monitoring can sample, as channel and trigger
// choices (kept selected across refreshes); the drive's base period.
async function fillScope() {
  const id = state.drive;
  const regs = state.regs.filter((r) => r.monitorable && r.readable);
  const options = regs.map((r) => {
    const key = `${r.id}@${r.subnode}`;
    return { key, text: `${key}${r.units && r.units !== "none" ? " (" + r.units + ")" : ""}` };
  });
  const chans = $("scope-regs"), trig = $("scope-trig");
  const picked = new Set([...chans.selectedOptions].map((o) => o.value));
  if (!picked.size) {
    picked.add(`CL_POS_FBK_VALUE@${state.axis}`);
    picked.add(`CL_VEL_FBK_VALUE@${state.axis}`);
  }
  const trigKeep = trig.value;
  chans.textContent = "";
  trig.length = 1;
  for (const o of options) {
    chans.append(el("option", { value: o.key, selected: picked.has(o.key) }, o.text));
    trig.append(el("option", { value: o.key }, o.text));
  }
  trig.value = options.some((o) => o.key === trigKeep) ? trigKeep : "";
  $("scope-capture").disabled = !regs.length && !state.capturing;
  if (!id || !regs.length) {
    $("scope-info").textContent = id && state.regs.length ? "no register can be sampled" : "";
    return;
  }
  if (state.scope && state.scope.drive === id) return;
  try {
    const info = await api("GET", `/api/drives/${id}/scope`);
    if (state.drive !== id) return;
    state.scope = { ...info, drive: id };
    $("scope-period").value = info.base_period_us;
    $("scope-period").step = info.base_period_us;
    $("scope-info").textContent = `${id} · base period ${info.base_period_us} µs, ` +
      `${info.max_channels} channels`;
  } catch (e) {
    state.scope = null;
    $("scope-info").textContent = "";
    say($("scope-msg"), e.message, "error");
    $("scope-capture").disabled = true;
  }
}

function scopeKey(key) {
  const at = key.lastIndexOf("@");
  return { id: key.slice(0, at), subnode: parseInt(key.slice(at + 1), 10) };
}

function setCapturing(on) {
  $("scope-capture").textContent = on ? "Cancel" : "Capture";
  $("scope-csv").disabled = $("scope-png").disabled = on || !state.capture;
  if (!on) $("scope-status").textContent = "";
}

const STAGES = { queued: "queued behind another capture…", configuring: "configuring…",
  armed: "waiting for the trigger…", fetching: "reading the capture…" };

async function capture() {
  if (state.capturing) {  // the button reads Cancel: the server cancels when we hang up
    state.capturing.abort.abort();
    return;
  }
  if (!state.drive) return say($("scope-msg"), "select a drive first", "error");
  const id = state.drive;
  const body = { registers: [...$("scope-regs").selectedOptions].map((o) => scopeKey(o.value)),
    timeout_s: 60 };
  for (const [key, box, parse] of [["period_us", "scope-period", parseFloat],
    ["samples", "scope-samples", Number], ["pre", "scope-pre", Number]]) {
    const v = $(box).value.trim();
    if (v !== "") body[key] = parse(v);
  }
  if ($("scope-trig").value) {
    body.trigger = { register: scopeKey($("scope-trig").value).id,
      subnode: scopeKey($("scope-trig").value).subnode, edge: $("scope-edge").value,
      level: parseFloat($("scope-level").value) };
  }
  const abort = new AbortController();
  const poll = setInterval(async () => {
    try {
      const info = await api("GET", `/api/drives/${id}/scope`);
      if (state.capturing && info.stage) $("scope-status").textContent = STAGES[info.stage] || "";
    } catch (e) { /* the answer says what went wrong */ }
  }, 300);
  state.capturing = { abort, poll };
  say($("scope-msg"), "");
  $("scope-status").textContent = "capturing…";
  setCapturing(true);
  try {
    const c = await api("POST", `/api/drives/${id}/scope`, body, abort.signal);
    showCapture(c);
  } catch (e) {
    say($("scope-msg"), e.name === "AbortError" ? "capture cancelled" : e.message,
      e.name === "AbortError" ? "" : "error");
  } finally {
    clearInterval(poll);
    state.capturing = null;
    setCapturing(false);
  }
}

function showCapture(c) {
  state.capture = c;
  const n = c.t.length;
  const rows = new Array(n);
  for (let k = 0; k < n; k++) rows[k] = c.channels.map((ch) => ch.values[k]);
  scopeChart.reset(c.channels.map((ch) => ch.name), c.channels.map((ch) => ch.units));
  scopeChart.push(c.t, rows);
  const trig = c.trigger ? ` · trigger ${c.trigger.register} ${c.trigger.edge} ${c.trigger.level}` : "";
  const shown = c.stride > 1 ? ` · every ${c.stride}. shown (CSV: all)` : "";
  say($("scope-msg"), `${c.drive} capture ${c.capture}: ${c.samples} samples every ` +
    `${c.period_us} µs${trig}${shown} · ${c.wire_bytes} bytes read in ${c.seconds} s`, "ok");
}

async function scopeCsv() {
  const c = state.capture;
  if (!c) return;
  try {
    const headers = TOKEN ? { Authorization: "Bearer " + TOKEN } : {};
    const r = await fetch(c.csv, { headers });
    if (!r.ok) throw new ApiFailure(r.status, await r.json().catch(() => null));
    download(`axlink-scope-${c.drive}-${c.capture}.csv`, await r.blob());
  } catch (e) {
    say($("scope-msg"), "CSV: " + e.message, "error");
  }
}

function wireScope() {
  $("scope-capture").onclick = capture;
  $("scope-csv").onclick = scopeCsv;
  $("scope-png").onclick = () => { scopeChart.draw();
    $("scope").toBlob((b) => download(`axlink-scope-${state.capture.drive}-${state.capture.capture}.png`, b)); };
}

wireMotion();
wireConfig();
wireRegisters();
wirePlot();
wireScope();
updateTarget();
connect();
