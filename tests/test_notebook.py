"""examples/gradient_flow.ipynb, executed headless (nbclient, an ipykernel of this interpreter): no
cell errs, the committed notebook holds no outputs, the training shows its progress bar in
Jupyter, the remote cell talks to the test's server (GFL_URL) and finds its run equal to the
local one."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "gradient_flow.ipynb"


def test_the_committed_notebook_has_no_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


def test_the_notebook_runs_without_an_error(live_server, torch, monkeypatch):
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as e:
        from conftest import need

        need("nbclient", f"{e}; install the test extra (pip install -e '.[test]')")
    monkeypatch.setenv("GFL_URL", live_server.url)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()

    def text(cell) -> str:
        # what the cell printed, whole (a kernel may send one print in several stream messages),
        # then what it displayed
        printed = "".join(out.get("text", "") for out in cell.outputs)
        shown = [str(out.get("data", {}).get(mime, ""))
                 for out in cell.outputs for mime in ("text/plain", "text/html")]
        return "\n".join([printed, *shown])

    cells = [c for c in nb.cells if c.cell_type == "code"]
    training = next(c for c in cells if "gfl.train(" in c.source)
    assert "<progress" in text(training) and "120/120" in text(training)
    figures = [
        c for c in cells if any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in c.outputs)
    ]
    assert len(figures) >= 5  # gradient flow, gates, loss, flow, layers
    remote = next(c for c in cells if "gfl.Client(" in c.source)
    assert "remote == local: True" in text(remote) and "refused: 422 seq_len" in text(remote)
    torch_cell = next(c for c in cells if "gfl.from_torch(" in c.source)
    first = text(torch_cell).split()
    assert pytest.approx(float(first[0]), rel=1e-10) == float(first[1])  # the lab's loss is torch's
