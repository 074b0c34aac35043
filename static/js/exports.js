// The run on screen as a file: JSON (RunData.toJSON), CSV, or a runnable PyTorch script that
// rebuilds it (torch-script.js), named after its T, H and seed ("_partial" while the run is
// incomplete). The buttons are enabled once a forward step has come. The script needs what the
// stream did not carry — the parameters, the inputs and targets — so the export asks for the
// same run again with include "params" (POST /api/runs), and says in words if that fails.
// The gradient-flow chart as a PNG with its title, the run's settings and the key of its line
// styles; the current settings as a curl command (POST /api/runs with state.js's exact body) or
// as Python (the gradient_flow_lab package: gfl.run(**request)), shown in a dialog to copy.

import { depthLabel, modelLabel } from "./catalogue.js";
import { t } from "./i18n.js";
import { requestBody } from "./state.js";
import { readTheme } from "./theme.js";
import { torchScript } from "./torch-script.js";
import { fetchRun } from "./weights-client.js";

export class Exports {
  /**
   * @param buttons   {json, csv, torch}
   * @param current   () => the RunData on screen, or null
   * @param networks  the NetworkPanel (what the server said of each uploaded network)
   * @param message   the MessageBox (an export that failed)
   */
  constructor(buttons, { current, networks, message, values = () => null, chart = null }) {
    Object.assign(this, { buttons, current, networks, message, values, chart });
    buttons.json.addEventListener("click", () => {
      const run = current();
      if (run) download(JSON.stringify(run.toJSON()), "application/json", fileName(run, "json"));
    });
    buttons.csv.addEventListener("click", () => {
      const run = current();
      if (run) download(run.toCSV(), "text/csv", fileName(run, "csv"));
    });
    buttons.torch.addEventListener("click", () => this.torch());
    buttons.png?.addEventListener("click", () => this.png());
    // the settings, not the run on screen: these two work before any run
    buttons.curl?.addEventListener("click", () => showSnippet(t("explore.export.curl.heading"), curlCommand(this.values())));
    buttons.python?.addEventListener("click", () => showSnippet(t("explore.export.python.heading"),
      pythonSnippet(this.values())));
  }

  /** The gradient-flow chart as a PNG: a title, the run's settings, the chart, the key. */
  async png() {
    const run = this.current();
    if (!run || !this.chart?.data) return;
    const theme = readTheme();
    const width = 1200;
    const height = 560;
    const url = await window.Plotly.toImage(this.chart, { format: "png", width, height, scale: 2 });
    const image = await new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = reject;
      img.src = url;
    });
    const scale = 2;
    const head = 74;
    const foot = 44;
    const canvas = document.createElement("canvas");
    canvas.width = width * scale;
    canvas.height = (head + height + foot) * scale;
    const g = canvas.getContext("2d");
    g.scale(scale, scale);
    g.fillStyle = theme.surface;
    g.fillRect(0, 0, width, head + height + foot);
    g.fillStyle = theme.text;
    g.font = `600 22px ${theme.font}`;
    g.fillText(t(this.chartTitle()), 24, 34);
    g.fillStyle = theme.muted;
    g.font = `14px ${theme.font}`;
    g.fillText(settingsLine(run.config), 24, 58);
    g.drawImage(image, 0, head, width, height);
    drawKey(g, theme, 24, head + height + 24);
    canvas.toBlob((blob) => downloadBlob(blob, fileName(run, "png")), "image/png");
  }

  chartTitle() {
    return document.querySelector('input[name="view"]:checked')?.value === "jac" ? "explore.export.png.title.jac"
      : "explore.export.png.title.grad";
  }

  async torch() {
    const run = this.current();
    if (!run) return;
    const button = this.buttons.torch;
    button.disabled = true;
    document.documentElement.dataset.exporting = "torch";
    try {
      const result = await fetchRun({ ...run.config, include: ["params"] });
      const labels = run.models.map((m) => [modelLabel(m), depthLabel(m)].filter(Boolean).join(" · "));
      const text = torchScript({ config: run.config, result, labels, networks: (id) => this.networks.network(id) });
      download(text, "text/x-python", fileName(run, "py"));
    } catch (e) {
      const error = e.message;
      this.message.show(() => t("explore.export.torch.failed", { error }));
    } finally {
      delete document.documentElement.dataset.exporting;
      this.update();
    }
  }

  update() {
    const run = this.current();
    const ok = !!run && run.fwdCount > 0;
    for (const [name, button] of Object.entries(this.buttons)) {
      if (name !== "curl" && name !== "python") button.disabled = !ok || (name === "png" && !run.complete);
    }
  }
}

/** The run's settings in one line: T, H, the input, the initialisation, the loss, the seed. */
export function settingsLine(c) {
  const sigma = c.init.sigma_max === null || c.init.sigma_max === undefined ? t("explore.export.png.off") : c.init.sigma_max;
  return t("explore.export.png.settings", {
    T: c.seq_len, H: c.hidden_size, input: c.input.kind, init: c.init.scheme, sigma, loss: c.loss.at,
    seed: c.seed ?? "—",
  });
}

/** The key of the chart's line styles, drawn as the chart draws them. */
function drawKey(g, theme, x, y) {
  const items = [[[], "explore.key.measured"], [[7, 5], "explore.key.bound"], [[2, 4], "explore.key.horizon"]];
  g.font = `13px ${theme.font}`;
  g.lineWidth = 2;
  for (const [dash, key] of items) {
    g.strokeStyle = theme.muted;
    g.setLineDash(dash);
    g.beginPath();
    g.moveTo(x, y - 4);
    g.lineTo(x + 30, y - 4);
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = theme.text;
    const text = t(key);
    g.fillText(text, x + 38, y);
    x += 38 + g.measureText(text).width + 28;
  }
}

/** The settings as curl: POST /api/runs with the exact body of the page's request. */
export function curlCommand(values) {
  const body = requestBody("explore", values);
  return `curl -sS -X POST '${location.origin}/api/runs' \\\n  -H 'Content-Type: application/json' \\\n  --data-binary @- <<'JSON'\n${body}\nJSON\n`;
}

/** A JSON value as a Python literal (True, False, None; strings as JSON writes them). */
function python(value, indent = "") {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number" || typeof value === "string") return JSON.stringify(value);
  const inner = `${indent}    `;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== "object" || v === null)) return `[${value.map((v) => python(v)).join(", ")}]`;
    return `[\n${value.map((v) => `${inner}${python(v, inner)},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${python(v, inner)},`);
  return `{\n${entries.join("\n")}\n${indent}}`;
}

/** The settings as Python: the same request computed in-process by the gradient_flow_lab package. */
export function pythonSnippet(values) {
  // parsed back so that a seed beyond 2⁵³ keeps its digits (requestBody writes them as they are)
  const text = requestBody("explore", values);
  const seed = text.match(/"seed":(\d+)/)?.[1];
  let literal = python(JSON.parse(text));
  if (seed) literal = literal.replace(/"seed": [^,\n]+/, `"seed": ${seed}`);
  return [
    "import gradient_flow_lab as gfl",
    "",
    `request = ${literal}`,
    "run = gfl.run(**request)",
    "for model in run.models:",
    '    print(model.label, model.loss, model.summary["memory_horizon"])',
    'run.figure("gradient_flow").show()',
    "",
  ].join("\n");
}

/** A code snippet in the page's dialog, with a Copy button (the text can be selected by hand). */
function showSnippet(heading, text) {
  const dialog = document.getElementById("snippet");
  dialog.querySelector(".snippet-heading").textContent = heading;
  dialog.querySelector(".snippet-code").textContent = text;
  const status = dialog.querySelector(".snippet-status");
  status.textContent = "";
  dialog.querySelector(".snippet-copy").onclick = async () => {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = t("explore.export.copied");
    } catch {
      getSelection().selectAllChildren(dialog.querySelector(".snippet-code"));
      status.textContent = t("explore.export.copy_by_hand");
    }
  };
  dialog.querySelector(".snippet-close").onclick = () => dialog.close();
  dialog.showModal();
}

function fileName(run, ext) {
  const c = run.config;
  return `gradient-flow-lab_T${c.seq_len}_H${c.hidden_size}_seed${c.seed}${run.complete ? "" : "_partial"}.${ext}`;
}

function download(text, type, name) {
  downloadBlob(new Blob([text], { type }), name);
}

export function downloadBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
