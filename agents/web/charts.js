// Charts as inline SVG strings: a line over time and horizontal (stacked) bars. Each
// is an image with a label for screen readers, and each mark carries a <title> that
// says its value on hover; the numbers are also in the page's text.

import { esc } from "./api.js";

const W = 640;
const H = 220;
const PAD = { top: 16, right: 16, bottom: 28, left: 92 };

function ticks(max, count = 4) {
  const step = max / count;
  return Array.from({ length: count + 1 }, (_, i) => i * step);
}

function label(value, format) {
  return esc(format ? format(value) : String(value));
}

// points: [{at: Date, value: number, note: string, dot: bool}], drawn as given; a point
// with dot: false (a baseline) gets no mark.
export function lineChart({ title, points, format, id }) {
  if (!points.length) {
    return `<p class="empty" id="${esc(id)}">No data yet.</p>`;
  }
  const xs = points.map((p) => p.at.getTime());
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x0 === x1) [x0, x1] = [x0 - 60_000, x1 + 60_000];
  const top = Math.max(...points.map((p) => p.value)) || 1;
  const x = (t) => PAD.left + ((t - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(p.at.getTime()).toFixed(1)},${y(p.value).toFixed(1)}`);
  const area = `${line.join(" ")} L${x(xs[xs.length - 1]).toFixed(1)},${y(0)} L${x(xs[0]).toFixed(1)},${y(0)} Z`;
  const grid = ticks(top)
    .map(
      (v) =>
        `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}"/>` +
        `<text class="axis" x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${label(v, format)}</text>`,
    )
    .join("");
  const first = new Date(x0).toLocaleString("en-GB", { timeStyle: "short", dateStyle: "short" });
  const last = new Date(x1).toLocaleString("en-GB", { timeStyle: "short", dateStyle: "short" });
  const dots = points
    .filter((p) => p.dot !== false)
    .map(
      (p) =>
        `<circle class="dot" cx="${x(p.at.getTime()).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="4">` +
        `<title>${esc(p.note)}</title></circle>`,
    )
    .join("");
  const summary = `${title}: ${points.length} points, last ${label(points[points.length - 1].value, format)}`;
  return `<svg class="chart" id="${esc(id)}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(summary)}"
      data-last="${points[points.length - 1].value}">
    <title>${esc(summary)}</title>${grid}
    <path class="area" d="${area}"/><path class="line" d="${line.join(" ")}"/>${dots}
    <text class="axis" x="${PAD.left}" y="${H - 8}">${esc(first)}</text>
    <text class="axis" x="${W - PAD.right}" y="${H - 8}" text-anchor="end">${esc(last)}</text>
  </svg>`;
}

// bars: [{label, parts: [{name, value}]}]; parts are stacked, named in the legend.
export function barChart({ title, bars, format, id, names = [] }) {
  if (!bars.length) {
    return `<p class="empty" id="${esc(id)}">None yet.</p>`;
  }
  const row = 28;
  const height = bars.length * row + 8;
  const left = 150;
  const width = W - left - 70;
  const top = Math.max(...bars.map((b) => b.parts.reduce((s, p) => s + p.value, 0))) || 1;
  const body = bars
    .map((bar, i) => {
      let offset = 0;
      const total = bar.parts.reduce((s, p) => s + p.value, 0);
      const rects = bar.parts
        .map((part, k) => {
          const w = (part.value / top) * width;
          const rect = `<rect class="part part-${k}" x="${(left + offset).toFixed(1)}" y="${i * row + 4}"
            width="${Math.max(w, part.value > 0 ? 1 : 0).toFixed(1)}" height="${row - 10}">
            <title>${esc(bar.label)}: ${esc(part.name)} ${label(part.value, format)}</title></rect>`;
          offset += w;
          return rect;
        })
        .join("");
      return `<text class="axis" x="${left - 8}" y="${i * row + 19}" text-anchor="end">${esc(bar.label)}</text>${rects}
        <text class="axis" x="${(left + offset + 6).toFixed(1)}" y="${i * row + 19}">${label(total, format)}</text>`;
    })
    .join("");
  const legend = names.length > 1
    ? `<p class="legend">${names.map((n, k) => `<span class="key part-${k}"></span>${esc(n)}`).join(" ")}</p>`
    : "";
  return `<svg class="chart bars" id="${esc(id)}" viewBox="0 0 ${W} ${height}" role="img"
      aria-label="${esc(title)}"><title>${esc(title)}</title>${body}</svg>${legend}`;
}
