"""Your own network and data in the Explore tab, in Debian's Chromium through Playwright against a
live server (offline pages, as in tests/test_browser.py).

A 2-layer bidirectional nn.LSTM with an nn.Linear head, made with torch and saved with
safetensors, is dropped on the page: the page says what the server found, runs it, shows its four
(layer, direction) units in the depth × time view and switches the flow chart to a chosen one; a
PyTorch pickle gets the API's words next to the control; a CSV sequence and class targets are
used; a link with weights= reproduces the run after a reload (and one whose weights are gone says
what to do); the PyTorch export runs with torch and prints the page's numbers. Screenshots at
1280×800 and 390×844, in English and Korean, go to tests/artifacts/networks-*.png.
"""

import json
import re
import shutil
import subprocess
import sys

import httpx
import numpy as np
import pytest
from browser_helpers import offline_page, probe, wait_for, wait_rendered

pytestmark = pytest.mark.browser

HTTP_ERROR_LOG = "Failed to load resource: the server responded with a status of"
T, D, H, O = 12, 3, 8, 2
READY = "document.querySelector('#network-list .network')?.dataset.state === 'ready'"

# what the charts drew for the depth view and the flow chart's lines, by identity (meta)
DEPTH = r"""
() => {
  const heat = document.getElementById('chart-depth');
  const lines = document.getElementById('chart-depth-lines');
  const main = (heat.data || []).find((d) => d.meta?.kind === 'depth');
  const filled = (row) => row.filter((v) => v !== null && !Number.isNaN(v)).length;
  return {
    rows: main ? main.meta.rows : [],
    labels: heat.layout?.yaxis?.ticktext || [],
    filled: main ? main.z.map(filled) : [],
    lines: (lines.data || []).filter((d) => d.meta?.kind === 'depth-line')
      .map((d) => ({ layer: d.meta.layer, direction: d.meta.direction, n: d.x.length, name: d.name })),
  };
}
"""
FLOW = r"""
() => (document.getElementById('chart-flow').data || []).filter((d) => d.meta?.kind === 'line')
  .map((d) => ({ layer: d.meta.layer, direction: d.meta.direction, name: d.name, x: Array.from(d.x),
                 y: Array.from(d.y) }))
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory, torch):
    """The user's files: a 2-layer bidirectional nn.LSTM with an nn.Linear head saved with
    safetensors (under the prefixes rnn. and head.), the same as a torch.save pickle, a CSV
    sequence (T × D), integer class targets (T) and a .npy sequence."""
    from safetensors.torch import save_file

    root = tmp_path_factory.mktemp("networks")
    torch.manual_seed(3)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(D, H, num_layers=2, bidirectional=True)
            self.head = torch.nn.Linear(2 * H, O)

    net = Net().float()
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, root / "lstm2b.safetensors")
    torch.save(net.state_dict(), root / "lstm2b.pt")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((T, D))
    np.savetxt(root / "sequence.csv", x, delimiter=",", header="a,b,c", comments="")
    np.save(root / "sequence.npy", x.astype(np.float32))
    classes = rng.integers(0, O, size=T)
    np.savetxt(root / "classes.csv", classes, fmt="%d")
    parameters = sum(v.numel() for v in state.values())
    return {
        "root": root,
        "weights": root / "lstm2b.safetensors",
        "pickle": root / "lstm2b.pt",
        "csv": root / "sequence.csv",
        "npy": root / "sequence.npy",
        "classes": root / "classes.csv",
        "x": x,
        "y": classes,
        "parameters": parameters,
    }


def upload(page, path):
    page.set_input_files("#weights-file", str(path))
    wait_for(page, READY)


def only_yours(page):
    """Uncheck the lab's models: the run is the uploaded network alone."""
    for key in page.eval_on_selector_all('input[name="models"]:checked', "els => els.map((e) => e.value)"):
        page.uncheck(f'input[name="models"][value="{key}"]')


def exported(page) -> dict:
    with page.expect_download() as download:
        page.click("#export-json")
    return json.loads(download.value.path().read_text())


def run(page):
    page.click("#run")
    wait_rendered(page)


def weights_id(path) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_uploaded_network_is_described_run_and_seen_layer_by_layer(page, live_server, files, artifacts):
    page.goto(live_server.url + "/?seq_len=12&speed=max")
    upload(page, files["weights"])
    info = page.text_content("#network-list .network-info")
    assert info == (
        f"LSTM · 2 layers · bidirectional · input {D} · hidden {H} · head: {O} outputs · "
        f"{files['parameters']:,} parameters"
    )
    assert page.text_content("#network-list .network-name") == "lstm2b.safetensors"
    assert page.is_checked('input[name="weights"]')
    assert f"weights={weights_id(files['weights'])}" in page.url  # the id, readable in the link
    only_yours(page)
    run(page)

    # the depth × time view: the four units, the top layer first, every step filled
    d = page.evaluate(DEPTH)
    assert [(r["layer"], r["direction"]) for r in d["rows"]] == [
        (2, "forward"),
        (2, "backward"),
        (1, "forward"),
        (1, "backward"),
    ]
    assert d["labels"] == ["layer 2/2 →", "layer 2/2 ←", "layer 1/2 →", "layer 1/2 ←"]
    assert [(u["layer"], u["direction"], u["n"]) for u in d["lines"]] == [
        (2, "forward", T),
        (2, "backward", T),
        (1, "forward", T),
        (1, "backward", T),
    ]
    # loss at the last step: the top layer's backward direction has a gradient at t = T only
    # (a gray row of exact zeros), every other unit at every step
    assert d["filled"] == [T, 1, T, T]

    data = exported(page)
    model = data["models"][0]
    assert model["num_layers"] == 2 and model["bidirectional"] and model["hidden_size"] == H
    assert data["config"]["models"] == [
        {
            "cell": "lstm",
            "activation": None,
            "num_layers": 2,
            "bidirectional": True,
            "weights": weights_id(files["weights"]),
        }
    ]
    units = {(u["layer"], u["direction"]): u for u in model["layers"]}
    assert list(units) == [(1, "forward"), (1, "backward"), (2, "forward"), (2, "backward")]
    assert model["grad_norm"] == units[(2, "forward")]["grad_norm"]
    # the same numbers as POST /api/runs
    answer = httpx.post(
        live_server.url + "/api/runs",
        json={**data["config"], "include": data["config"]["include"]},
        timeout=30,
    ).json()
    assert answer["models"] == data["models"]

    # the flow chart shows the top layer's forward direction, then the chosen unit
    flow = page.evaluate(FLOW)
    assert [(f["layer"], f["direction"]) for f in flow] == [(2, "forward")]
    assert flow[0]["y"] == units[(2, "forward")]["grad_norm"][::-1]  # drawn from t = T back
    assert page.is_visible("#unit-chooser")
    page.select_option("#layer", "1")
    page.select_option("#direction", "backward")
    wait_for(page, "() => document.getElementById('chart-flow').data?.[0]?.meta?.layer === 1")
    wait_for(page, "document.documentElement.dataset.settled === 'true'")
    flow = page.evaluate(FLOW)
    assert [(f["layer"], f["direction"]) for f in flow] == [(1, "backward")]
    assert flow[0]["name"] == "LSTM · lstm2b.safetensors · layer 1/2 ←"
    assert flow[0]["y"] == units[(1, "backward")]["grad_norm"][::-1]
    s = probe(page)
    assert [(r["units"], r["cols"], r["filled"]) for r in s["grads"]] == [(H, T, T)]
    assert "layer 1/2 ←" in s["grads"][0]["label"]
    assert "layer=1" in page.url and "direction=backward" in page.url
    page.screenshot(path=artifacts / "networks-layer-chooser-1280x800.png", full_page=True)


def test_a_pytorch_pickle_gets_the_api_words_next_to_the_control(page, live_server, files):
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(live_server.url + "/")
    page.set_input_files("#weights-file", str(files["pickle"]))
    wait_for(page, "!document.getElementById('weights-error').hidden")
    with files["pickle"].open("rb") as f:
        answer = httpx.post(live_server.url + "/api/weights", files={"file": ("lstm2b.pt", f)})
    assert answer.status_code == 415
    error = page.text_content("#weights-error")
    assert error.startswith("lstm2b.pt: The server does not read this kind of file: ")
    assert answer.json()["detail"] in error and "safetensors" in error
    assert page.locator("#network-list .network").count() == 0
    # a file that is not even an array: the page's own words
    page.set_input_files("#sequence-file", str(files["pickle"]))
    wait_for(page, "!document.getElementById('data-error').hidden")
    assert "is not a number" in page.text_content("#data-error")


def test_a_csv_sequence_and_class_targets_are_the_run(page, live_server, files):
    page.goto(live_server.url + "/?speed=max")
    upload(page, files["weights"])
    only_yours(page)
    page.set_input_files("#sequence-file", str(files["csv"]))
    wait_for(page, "document.getElementById('input').value === 'values'")
    assert page.text_content("#sequence-info") == f"sequence.csv: {T} × {D} (T × D): the input menu reads it"
    assert page.input_value("#seq_len") == str(T) and page.is_disabled("#seq_len")
    page.check('input[name="loss_kind"][value="xent"]')
    page.set_input_files("#targets-file", str(files["classes"]))
    wait_for(page, "document.getElementById('targets').value === 'file'")
    run(page)
    data = exported(page)
    config = data["config"]
    assert config["input"]["kind"] == "values" and config["seq_len"] == T and config["input_size"] == D
    assert np.allclose(np.array(config["input"]["values"]), files["x"], rtol=1e-15, atol=0)
    assert config["loss"] == {"kind": "xent", "at": "last"} and config["output_size"] == O
    assert config["targets"]["classes"] == files["y"].tolist()
    assert "input=values" in page.url and "targets=file" in page.url and len(page.url) < 1000  # no arrays
    # a .npy of the same numbers (float32) is the same sequence, to float32's precision
    page.set_input_files("#sequence-file", str(files["npy"]))
    wait_for(page, "document.getElementById('sequence-info').textContent.startsWith('sequence.npy')")
    run(page)
    config = exported(page)["config"]
    assert np.allclose(np.array(config["input"]["values"]), files["x"], rtol=1e-6)

    # a link cannot carry the arrays: it says so instead of running
    page.goto(page.url)
    wait_for(page, "!document.getElementById('message').hidden")
    assert "sequence and targets from files" in page.text_content("#message")
    assert page.evaluate("document.documentElement.dataset.run") in (None, "idle")


def test_a_link_with_weights_reproduces_the_run_after_a_reload(page, live_server, files):
    page.goto(live_server.url + "/?seq_len=12&speed=max&models=gru&num_layers=2")
    upload(page, files["weights"])
    run(page)
    before = exported(page)
    assert [m["num_layers"] for m in before["models"]] == [2, 2]
    link = page.url
    assert "weights=sha256:" in link and "num_layers=2" in link
    page.reload()
    wait_rendered(page)
    after = exported(page)
    assert after == before  # every number
    assert page.is_checked('input[name="weights"]')
    # described again from the server (GET /api/weights/{id}), without the file's name
    assert page.text_content("#network-list .network-name").startswith("network ")
    assert "2 layers · bidirectional" in page.text_content("#network-list .network-info")

    # a network the server no longer keeps: said in words, with what to do; nothing runs
    gone = "sha256:" + "0" * 64
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(live_server.url + f"/?models=lstm&weights={gone}")
    wait_for(page, "!document.getElementById('message').hidden")
    message = page.text_content("#message")
    assert gone in message and "Upload the same file again" in message
    assert page.locator('#network-list .network[data-state="gone"]').count() == 1
    assert "upload the same file again" in page.text_content("#network-list .network-info")


def test_the_pytorch_export_runs_and_prints_the_page_numbers(page, live_server, files, tmp_path):
    page.goto(
        live_server.url + "/?models=rnn-sigmoid,gru&num_layers=2&bidirectional=1&seq_len=12&hidden_size=5"
        "&loss=all&speed=max"
    )
    upload(page, files["weights"])
    run(page)
    data = exported(page)
    with page.expect_download() as download:
        page.click("#export-torch")
    script = tmp_path / download.value.suggested_filename
    download.value.save_as(script)
    assert script.suffix == ".py"
    text = script.read_text()
    assert "torch.nn.LSTM(input_size=3, hidden_size=8, num_layers=2, bidirectional=True)" in text
    assert "torch.nn.GRU(input_size=3, hidden_size=5, num_layers=2, bidirectional=True)" in text
    assert 'from_file(rnn, head, HERE / "lstm2b.safetensors", prefix="rnn.", head_prefix="head.")' in text
    shutil.copy(files["weights"], tmp_path / "lstm2b.safetensors")  # "put it next to this script"
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    printed = {}
    model = None
    for line in out.stdout.splitlines():
        if m := re.match(r"model (\d+): ", line):
            model = int(m.group(1))
        elif m := re.match(r"\s+layer (\d) (forward|backward) ‖∂L/∂h_t‖ t=1\.\.\d+: (\[.*\])$", line):
            printed[(model, int(m.group(1)), m.group(2))] = json.loads(m.group(3))
    expected = {
        (i, u["layer"], u["direction"]): u["grad_norm"]
        for i, m in enumerate(data["models"])
        for u in m["layers"]
    }
    assert set(printed) == set(expected) and len(printed) == 3 * 4
    for key, norms in expected.items():
        assert np.allclose(printed[key], norms, rtol=1e-9, atol=1e-300), key
    worst = float(
        re.search(r"largest relative difference from the lab's ‖∂L/∂h_t‖: (\S+)", out.stdout).group(1)
    )
    assert worst < 1e-9


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_screenshots(context, live_server, files, artifacts, width, height, lang):
    page, rec = offline_page(context, width=width, height=height)
    page.goto(live_server.url + f"/?lang={lang}&models=lstm&num_layers=2&seq_len=40&speed=max")
    page.locator("#network").evaluate("(el) => { el.open = true; }")
    upload(page, files["weights"])
    page.set_input_files("#sequence-file", str(files["csv"]))
    wait_for(page, "document.getElementById('input').value === 'values'")
    run(page)
    assert page.evaluate(DEPTH)["rows"] and len(page.evaluate(DEPTH)["rows"]) == 2 + 4
    if lang == "ko":
        assert page.text_content("#network > summary") == "내 네트워크"
        assert page.text_content("#depth-title") == "깊이 × 시간"
    name = f"networks-{width}x{height}-{lang}"
    page.screenshot(path=artifacts / f"{name}.png")
    page.locator("#network").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / f"{name}-panel.png")
    page.locator(".card-depth").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / f"{name}-depth.png")
    page.screenshot(path=artifacts / f"{name}-full.png", full_page=True)
    problems = rec.problems()
    page.close()
    assert not problems, problems


# ---------------------------------------------------------------- arrays.js, against numpy

PARSE = r"""
async ({ kind, b64, text, name }) => {
  const a = await import('/static/js/arrays.js');
  try {
    const bytes = Uint8Array.from(atob(b64 || ''), (c) => c.charCodeAt(0));
    const f = kind === 'npy' ? a.parseNpy(bytes.buffer, name) : a.parseCsv(text, name);
    const classes = f.shape.length <= 2 && f.integer ? f.nested({ classes: true }) : null;
    return { shape: f.shape, data: Array.from(f.data), integer: f.integer, nested: f.nested(), classes };
  } catch (e) {
    return { error: e.key || String(e), values: e.values };
  }
}
"""


@pytest.fixture(scope="module")
def parse(context, live_server):
    import base64
    import io

    page, rec = offline_page(context)
    page.goto(live_server.url + "/")

    def run(array=None, *, text=None, fortran=False, name="x.npy"):
        if text is not None:
            return page.evaluate(PARSE, {"kind": "csv", "text": text, "name": "x.csv"})
        buffer = io.BytesIO()
        np.save(buffer, np.asfortranarray(array) if fortran else array)
        return page.evaluate(
            PARSE, {"kind": "npy", "b64": base64.b64encode(buffer.getvalue()).decode(), "name": name}
        )

    yield run
    problems = rec.problems()
    page.close()
    assert not problems, problems


@pytest.mark.parametrize("dtype", ["<f4", "<f8", ">f8", "<f2", "<i8", ">i4", "|u1"])
@pytest.mark.parametrize("shape", [(7,), (7, 3), (7, 2, 3)])
def test_npy_files_read_as_numpy_reads_them(parse, dtype, shape):
    rng = np.random.default_rng(len(shape))
    a = (rng.standard_normal(shape) * 50).astype(dtype)
    got = parse(a)
    assert got["shape"] == list(shape)
    assert got["data"] == a.astype(np.float64).ravel(order="C").tolist()  # exactly, in C order
    assert got["integer"] == (a.dtype.kind in "iu")
    expected = a.astype(np.float64) if a.ndim > 1 else a.astype(np.float64)[:, None]
    assert got["nested"] == expected.tolist()


def test_npy_and_csv_refusals_and_forms(parse):
    assert parse(np.zeros((3, 2)), fortran=True)["error"] == "arrays.npy.fortran"
    assert parse(np.zeros((3, 2), dtype=np.complex128))["error"] == "arrays.npy.dtype"
    assert parse(np.array([1.0, np.nan]))["error"] == "arrays.not_finite"
    assert parse(np.zeros((2, 2, 2, 2)))["error"] == "arrays.dims"
    csv = parse(text="a; b\n# a comment\n1; 2.5\n-3e-2\t4\n")
    assert (csv["shape"], csv["data"]) == ([2, 2], [1, 2.5, -0.03, 4])
    assert parse(text="1,2\n3\n")["error"] == "arrays.csv.ragged"
    assert parse(text="1,2\n3,x\n")["values"] == {"name": "x.csv", "line": 2, "value": "x"}
    classes = parse(text="0\n1\n1\n0\n")
    assert (
        classes["integer"]
        and classes["classes"] == [0, 1, 1, 0]
        and classes["nested"] == [[0], [1], [1], [0]]
    )
