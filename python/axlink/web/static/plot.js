// SPDX-License-Identifier: MIT
// A strip chart on a canvas: one lane per channel, each with its own
// scale, the last `window` seconds (live plots) or the whole record (`fit`:
// scope captures, with a mark at the trigger, t = 0). Everything received is
// kept (up to `limit` samples) for the CSV export; pausing freezes the view
// only.
"use strict";

const PLOT_COLORS = ["#2557a7", "#c62828", "#1a7f37", "#b26a00", "#6a1b9a", "#00838f",
  "#ad1457", "#4e342e"];

class StripChart {
  constructor(canvas, legend) {
    this.canvas = canvas;
    this.legend = legend;
    this.window = 10;      // seconds shown
    this.limit = 200000;   // samples kept for export
    this.paused = false;
    this.dirty = false;
    this.fit = false;      // show everything, t[0] .. t[last]
    this.hint = "pick registers and press Start";
    this.reset([]);
    const frame = () => {
      if (this.dirty && !this.paused) this.draw();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  reset(names, units) {
    this.names = names;
    this.units = units || names.map(() => "");
    this.t = [];
    this.v = names.map(() => []);
    this.received = 0;
    this.legend.textContent = "";
    this.lastEls = names.map((n, i) => {
      const item = document.createElement("span");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = PLOT_COLORS[i % PLOT_COLORS.length];
      const last = document.createElement("b");
      last.className = "last";
      last.dataset.name = n;
      last.textContent = "–";
      item.append(sw, n + " ", last, " " + (this.units[i] || ""));
      this.legend.append(item);
      return last;
    });
    this.dirty = true;
  }

  push(t, values) {
    for (let k = 0; k < t.length; k++) {
      this.t.push(t[k]);
      for (let i = 0; i < this.names.length; i++) this.v[i].push(values[k][i]);
    }
    this.received += t.length;
    const over = this.t.length - this.limit;
    if (over > 0) {
      this.t.splice(0, over);
      for (const col of this.v) col.splice(0, over);
    }
    if (!this.paused && t.length) {
      const lastRow = values[values.length - 1];
      this.lastEls.forEach((el, i) => { el.textContent = fmt(lastRow[i]); });
    }
    this.dirty = true;
  }

  // The latest value of channel @name (null without samples): for tests.
  last(name) {
    const i = this.names.indexOf(name);
    if (i < 0 || !this.v[i].length) return null;
    return this.v[i][this.v[i].length - 1];
  }

  draw() {
    this.dirty = false;
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = "#fcfcfd";
    g.fillRect(0, 0, w, h);
    const n = this.names.length;
    g.font = "11px system-ui, sans-serif";
    if (!n || !this.t.length) {
      g.fillStyle = "#6b7280";
      g.fillText(n ? "waiting for samples…" : this.hint, 12, 20);
      return;
    }
    const left = 64, right = 8, top = 6, bottom = 18;
    const tEnd = this.t[this.t.length - 1];
    let tStart, span, first;
    if (this.fit) {
      tStart = this.t[0];
      span = Math.max(tEnd - tStart, 1e-9);
      first = 0;
    } else {
      span = this.window;
      tStart = Math.max(this.t[0], tEnd - span);  // fills from the left first
      first = this.t.length - 1;
      while (first > 0 && this.t[first - 1] >= tStart) first--;
    }
    const laneH = (h - top - bottom) / n;
    const x = (t) => left + (t - tStart) / span * (w - left - right);
    for (let i = 0; i < n; i++) {
      const col = this.v[i];
      let lo = Infinity, hi = -Infinity;
      for (let k = first; k < col.length; k++) {
        const y = col[k];
        if (y === null) continue;
        if (y < lo) lo = y;
        if (y > hi) hi = y;
      }
      if (lo === Infinity) { lo = 0; hi = 1; }
      if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
      const pad = (hi - lo) * 0.08;
      lo -= pad; hi += pad;
      const y0 = top + i * laneH, y1 = y0 + laneH;
      const y = (v) => y1 - 4 - (v - lo) / (hi - lo) * (laneH - 8);
      g.strokeStyle = "#e5e7eb";
      g.beginPath(); g.moveTo(left, y1); g.lineTo(w - right, y1); g.stroke();
      g.fillStyle = "#6b7280";
      g.fillText(fmt(hi - pad), 4, y0 + 12);
      g.fillText(fmt(lo + pad), 4, y1 - 4);
      g.strokeStyle = PLOT_COLORS[i % PLOT_COLORS.length];
      g.lineWidth = 1.5;
      g.beginPath();
      let pen = false;
      // At most ~2 points per pixel column: min/max per column keeps the peaks.
      const step = Math.max(1, Math.floor((col.length - first) / ((w - left) * 2)));
      for (let k = first; k < col.length; k += step) {
        let v = col[k];
        if (v === null) { pen = false; continue; }
        const px = x(this.t[k]), py = y(v);
        if (pen) g.lineTo(px, py); else g.moveTo(px, py);
        pen = true;
      }
      g.stroke();
    }
    g.fillStyle = "#6b7280";
    const step = niceStep(span / 10);
    for (let k = Math.ceil(tStart / step - 1e-9); k * step <= tEnd + step * 1e-9; k++) {
      const px = x(k * step);
      g.fillRect(px, h - bottom, 1, 4);
      g.fillText(timeText(k * step, step), px + 2, h - 4);
    }
    if (this.fit && tStart < 0 && tEnd >= 0) {  // the trigger
      g.strokeStyle = "#6b7280";
      g.setLineDash([4, 3]);
      g.beginPath(); g.moveTo(x(0), top); g.lineTo(x(0), h - bottom); g.stroke();
      g.setLineDash([]);
    }
  }

  csv() {
    const rows = ["t_s," + this.names.join(",")];
    for (let k = 0; k < this.t.length; k++) {
      rows.push(this.t[k].toFixed(6) + "," +
        this.v.map((col) => (col[k] === null ? "" : String(col[k]))).join(","));
    }
    return rows.join("\n") + "\n";
  }
}

// The 1-2-5 step at or above @raw (seconds).
function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw * (1 - 1e-9)) return m * p;
  return 10 * p;
}

// Time @t as tick text: seconds, ms or µs after the tick @step.
function timeText(t, step) {
  const [scale, unit] = step >= 1 ? [1, " s"] : step >= 1e-3 ? [1e3, " ms"] : [1e6, " µs"];
  const digits = Math.max(0, -Math.floor(Math.log10(step * scale) + 1e-9));
  const v = t * scale;
  return (Math.abs(v) < 1e-9 ? 0 : v).toFixed(digits) + unit;
}

function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toFixed(3);
}
