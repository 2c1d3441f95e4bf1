// Line charts drawn as SVG: series sampled by the page while it is open (the broker keeps no
// history), kept per topic or subscription for as long as the tab lives.

const SVG = "http://www.w3.org/2000/svg";
/** The drawing's size: charts of half the page, and "wide" ones across it. */
const SIZE = { normal: [640, 200], wide: [1280, 220] };
const PAD = { left: 64, right: 12, top: 12, bottom: 26 };
/** How far back the charts reach, and so how long samples are kept. */
export const WINDOW_SECONDS = 5 * 60;

const histories = new Map();

/** The samples ({t, ...values}) kept under `key`, oldest first. */
export function history(key) {
  if (!histories.has(key)) histories.set(key, []);
  return histories.get(key);
}

/** Add a sample of `values` at the current time, forgetting what fell out of the window. */
export function record(key, values) {
  const samples = history(key);
  const now = Date.now();
  samples.push({ t: now, ...values });
  while (samples.length && samples[0].t < now - WINDOW_SECONDS * 1000) samples.shift();
  return samples;
}

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A round upper bound for a duration axis: seconds, minutes or hours that halve evenly. */
export function niceSeconds(value) {
  const steps = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400];
  return steps.find((step) => value <= step) ?? 86400 * Math.ceil(value / 86400);
}

/** A round upper bound for the axis: 1, 2 or 5 times a power of ten. */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/**
 * Draw `series` over the last WINDOW_SECONDS into a new SVG.
 * @param {{title: string, samples: Object[], series: {field: string, label: string,
 *   className: string}[], format: (v: number) => string, axisFormat?: (v: number) => string,
 *   ceiling?: (v: number) => number, wide?: boolean}} spec
 */
export function lineChart({ title, samples, series, format, axisFormat, ceiling = niceMax, wide = false }) {
  const [WIDTH, HEIGHT] = wide ? SIZE.wide : SIZE.normal;
  const now = Date.now();
  const start = now - WINDOW_SECONDS * 1000;
  const values = samples.flatMap((s) => series.map((line) => s[line.field] || 0));
  const top = ceiling(Math.max(0, ...values));
  const x = (t) => PAD.left + ((t - start) / (now - start)) * (WIDTH - PAD.left - PAD.right);
  const y = (v) => HEIGHT - PAD.bottom - (v / top) * (HEIGHT - PAD.top - PAD.bottom);
  const latest = samples.length ? samples[samples.length - 1] : null;
  const summary = series.map((line) => `${line.label} ${latest ? format(latest[line.field] || 0) : "no data yet"}`);
  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", class: "chart",
    "aria-label": `${title}, last ${WINDOW_SECONDS / 60} minutes: now ${summary.join(", ")}`,
  });
  for (const fraction of [0, 0.5, 1]) {
    const value = top * fraction;
    chart.append(svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value), class: "grid" }));
    chart.append(svg("text", { x: PAD.left - 6, y: y(value) + 4, "text-anchor": "end", class: "axis" }, (axisFormat || format)(value)));
  }
  for (const [label, t] of [[`−${WINDOW_SECONDS / 60} min`, start], ["now", now]]) {
    const anchor = t === now ? "end" : "start";
    chart.append(svg("text", { x: x(t), y: HEIGHT - 6, "text-anchor": anchor, class: "axis" }, label));
  }
  for (const line of series) {
    const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(s[line.field] || 0).toFixed(1)}`);
    if (points.length === 1) points.push(`${(x(samples[0].t) + 2).toFixed(1)},${points[0].split(",")[1]}`);
    if (points.length) chart.append(svg("polyline", { points: points.join(" "), class: `line ${line.className}` }));
  }
  return chart;
}

/** The chart with its title and a legend that says the latest values in words. */
export function chartFigure(spec) {
  const latest = spec.samples.length ? spec.samples[spec.samples.length - 1] : null;
  const figure = document.createElement("figure");
  figure.className = "chart-figure";
  const caption = document.createElement("figcaption");
  caption.append(spec.title);
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const line of spec.series) {
    const item = document.createElement("li");
    item.className = line.className;
    item.textContent = `${line.label}: ${latest ? spec.format(latest[line.field] || 0) : "—"}`;
    legend.append(item);
  }
  caption.append(legend);
  figure.append(caption, lineChart(spec));
  return figure;
}
