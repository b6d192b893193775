// An ML backend's training runs (/api/ml/{id}/trainings, newest first): each run's status, how long it
// took, how many annotations it had and what it reported, and a chart of the model's held-out accuracy
// by run, drawn as inline SVG.

import { api } from "./api.js";
import { h } from "./dom.js";
import { ago, duration } from "./widgets.js";

// Names models report held-out accuracy under: the built-in model's training job and its /webhook
// answer say `validation:accuracy`; others commonly say one of the rest.
const ACCURACY_METRICS = ["validation:accuracy", "val_accuracy", "eval_accuracy", "accuracy"];
const SVG = "http://www.w3.org/2000/svg";

/** A run's held-out accuracy, if it reported one (a number in [0, 1]). */
export function heldOutAccuracy(run) {
  for (const name of ACCURACY_METRICS) {
    const value = run.metrics?.[name];
    if (typeof value === "number" && value >= 0 && value <= 1) return value;
  }
  return null;
}

const percent = (value) => `${Math.round(value * 1000) / 10}%`;

function metricText(name, value) {
  if (value === null || typeof value === "object") return `${name}: ${JSON.stringify(value)}`;
  if (typeof value === "number" && !Number.isInteger(value)) return `${name}: ${value.toFixed(3)}`;
  return `${name}: ${value}`;
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}

/** The chart: runs that reported an accuracy, oldest on the left; 0 to 100% up the side. */
export function accuracyChart(runs) {
  const points = runs.filter((run) => heldOutAccuracy(run) !== null).reverse();
  if (!points.length) {
    return h("p", { class: "muted", "data-testid": "accuracy-chart-empty" },
      `No run has reported a held-out accuracy yet (a metric named ${ACCURACY_METRICS.join(", ")}).`);
  }
  const width = 420, height = 170, left = 40, right = 14, top = 12, bottom = 30;
  const x = (i) => left + (points.length === 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (points.length - 1));
  const y = (value) => top + (1 - value) * (height - top - bottom);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "accuracy-chart",
    "data-testid": "accuracy-chart", "aria-label": `Held-out accuracy of ${points.length} training runs` });
  for (const level of [0, 0.5, 1]) {
    chart.append(svg("line", { x1: left, x2: width - right, y1: y(level), y2: y(level), class: "grid" }),
      svg("text", { x: left - 6, y: y(level) + 4, "text-anchor": "end", class: "axis" }, percent(level)));
  }
  chart.append(svg("polyline", { class: "line", points: points.map((run, i) => `${x(i)},${y(heldOutAccuracy(run))}`).join(" ") }));
  points.forEach((run, i) => {
    const value = heldOutAccuracy(run);
    chart.append(
      svg("circle", { cx: x(i), cy: y(value), r: 4, class: "point", "data-run": run.id, "data-accuracy": value },
        svg("title", {}, `Run ${run.id}: ${percent(value)} held-out accuracy`)),
      svg("text", { x: x(i), y: height - bottom + 16, "text-anchor": "middle", class: "axis" }, `#${run.id}`));
  });
  return h("figure", { class: "chart" }, chart, h("figcaption", { class: "muted" }, "Held-out accuracy by training run"));
}

function runRow(run) {
  const accuracy = heldOutAccuracy(run);
  // The version has its own column; a model that trained nothing says why in `reason`.
  const metrics = Object.entries(run.metrics || {}).filter(([name]) => name !== "model_version");
  const untrained = run.metrics?.trained === false;
  return h("tr", { "data-run": run.id, "data-status": run.status },
    h("td", {}, `#${run.id}`),
    h("td", {}, h("span", { class: `run-status ${run.status}` }, run.status)),
    h("td", { title: run.started_at }, ago(run.started_at)),
    h("td", { class: "num" }, duration(run.started_at, run.finished_at)),
    h("td", { class: "num" }, run.annotations),
    h("td", {}, run.trigger === "manual" ? "by hand" : "annotations"),
    h("td", { class: "version" }, run.model_version || ""),
    h("td", {}, accuracy === null ? "" : h("strong", {}, percent(accuracy)),
      untrained ? h("div", { class: "status warn" }, `The model did not train${run.metrics.reason ? `: ${run.metrics.reason}` : "."}`) : null,
      metrics.length ? h("div", { class: "metrics muted" }, metrics.map(([k, v]) => metricText(k, v)).join(" · ")) : null,
      run.error ? h("div", { class: "error" }, run.error) : null));
}

/** The runs of `backend` as a chart and a table; `refresh()` reads them again and answers them. */
export function trainingHistory(backend) {
  const element = h("section", { class: "training-history", "data-testid": `training-history-${backend.id}` });
  element.runs = [];
  element.refresh = async () => {
    const runs = await api("GET", `/api/ml/${backend.id}/trainings`);
    element.runs = runs;
    const body = runs.length
      ? [accuracyChart(runs), h("table", { class: "runs" },
        h("thead", {}, h("tr", {}, ["Run", "Status", "Started", "Duration", "Annotations", "Started by", "Model version",
          "Metrics"].map((title) => h("th", {}, title)))),
        h("tbody", {}, runs.map(runRow)))]
      : [h("p", { class: "muted" }, "No training runs yet: start one from the model's menu, or switch on training on annotation submission.")];
    element.replaceChildren(h("h3", {}, `Training runs of ${backend.title || `model ${backend.id}`}`), ...body);
    return runs;
  };
  return element;
}

/** Whether any of `runs` is still going. */
export const running = (runs) => runs.some((run) => run.status === "running");
