// The run on screen as a file: JSON (RunData.toJSON) or CSV, named after its T, H and seed
// ("_partial" while the run is incomplete). The buttons are enabled once a forward step has come.

export class Exports {
  /** `current`: () => the RunData on screen, or null. */
  constructor(jsonButton, csvButton, current) {
    Object.assign(this, { jsonButton, csvButton, current });
    jsonButton.addEventListener("click", () => {
      const run = current();
      if (run) download(JSON.stringify(run.toJSON()), "application/json", fileName(run, "json"));
    });
    csvButton.addEventListener("click", () => {
      const run = current();
      if (run) download(run.toCSV(), "text/csv", fileName(run, "csv"));
    });
  }

  update() {
    const run = this.current();
    const ok = !!run && run.fwdCount > 0;
    this.jsonButton.disabled = !ok;
    this.csvButton.disabled = !ok;
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
