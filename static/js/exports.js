// The run on screen as a file: JSON (RunData.toJSON), CSV, or a runnable PyTorch script that
// rebuilds it (torch-script.js), named after its T, H and seed ("_partial" while the run is
// incomplete). The buttons are enabled once a forward step has come. The script needs what the
// stream did not carry — the parameters, the inputs and targets — so the export asks for the
// same run again with include "params" (POST /api/runs), and says in words if that fails.

import { depthLabel, modelLabel } from "./catalogue.js";
import { t } from "./i18n.js";
import { torchScript } from "./torch-script.js";
import { fetchRun } from "./weights-client.js";

export class Exports {
  /**
   * @param buttons   {json, csv, torch}
   * @param current   () => the RunData on screen, or null
   * @param networks  the NetworkPanel (what the server said of each uploaded network)
   * @param message   the MessageBox (an export that failed)
   */
  constructor(buttons, { current, networks, message }) {
    Object.assign(this, { buttons, current, networks, message });
    buttons.json.addEventListener("click", () => {
      const run = current();
      if (run) download(JSON.stringify(run.toJSON()), "application/json", fileName(run, "json"));
    });
    buttons.csv.addEventListener("click", () => {
      const run = current();
      if (run) download(run.toCSV(), "text/csv", fileName(run, "csv"));
    });
    buttons.torch.addEventListener("click", () => this.torch());
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
    for (const button of Object.values(this.buttons)) button.disabled = !ok;
  }
}

function fileName(run, ext) {
  const c = run.config;
  return `gradient-flow-lab_T${c.seq_len}_H${c.hidden_size}_seed${c.seed}${run.complete ? "" : "_partial"}.${ext}`;
}

function download(text, type, name) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
