"""The HTTP contract (docs/api.md) through FastAPI's TestClient: every endpoint,
the shape of a run for every cell and input kind, the defaults filled into `config`, a table
of bad input (4xx with a `detail` naming the field and the limit, never a 5xx), the work
budgets, 503 with Retry-After, and an exploding run answered with nulls."""

import json
import math
import re

import numpy as np
import pytest
from contract import ALL_MODELS, GAMMA, GATES, LABELS, MODELS
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sse import loads_strict, parse

from gradient_flow_lab import __version__
from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.routers.pages import PLOTLY_JS_VERSION, PLOTLY_VERSIONED
from gradient_flow_lab.app.settings import Settings

ENDPOINTS = ["/api/runs", "/api/runs/stream"]

INCLUDE_ALL = ["hidden", "cell_state", "gates", "grads", "jacobian", "params"]
SUMMARY_KEYS = {"log10_grad_ratio", "memory_horizon", "overflow_step", "overflow_phase", "sigma_max"}



def param_shapes(cell: str, D: int, H: int, O: int) -> dict[str, tuple[int, ...]]:
    """The contract's parameter names and shapes."""
    if cell == "rnn":
        return {"W_xh": (D, H), "W_hh": (H, H), "b_h": (H,), "W_hy": (H, O), "b_y": (O,)}
    if cell == "lstm":
        return {"W_x": (D, 4 * H), "W_h": (H, 4 * H), "b": (4 * H,), "W_hy": (H, O), "b_y": (O,)}
    return {"W_x": (D, 3 * H), "W_h": (H, 3 * H), "b_x": (3 * H,), "b_h": (3 * H,),
            "W_hy": (H, O), "b_y": (O,)}


VALUES = [[0.5, -1.0, 2.0], [0.0, 0.25, -0.75], [1.5, 1.0, 0.0], [-2.0, 0.5, 0.125],
          [0.0, 0.0, 1.0], [0.3, -0.3, 0.6]]
# sizes are all different, so a transposed array cannot pass for the right one
KIND_REQUESTS = {
    "gaussian": {"input": {"kind": "gaussian"}, "seq_len": 7, "input_size": 3, "output_size": 2,
                 "batch_size": 4},
    "sine": {"input": {"kind": "sine"}, "seq_len": 7, "input_size": 3, "output_size": 2, "batch_size": 4},
    "impulse": {"input": {"kind": "impulse"}, "seq_len": 7, "input_size": 3, "output_size": 2,
                "batch_size": 4},
    "adding": {"input": {"kind": "adding"}, "seq_len": 7, "batch_size": 3},
    "values": {"input": {"kind": "values", "values": VALUES}, "output_size": 2},
}
# (T, B, D, O) of each request above
KIND_SIZES = {"gaussian": (7, 4, 3, 2), "sine": (7, 4, 3, 2), "impulse": (7, 4, 3, 2),
              "adding": (7, 3, 2, 1), "values": (6, 1, 3, 2)}
H = 5


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(Settings()), raise_server_exceptions=False)


def make_client(**overrides) -> TestClient:
    """A client of an app with some settings changed from their defaults."""
    return TestClient(create_app(Settings(**overrides)), raise_server_exceptions=False)


def post_json(client: TestClient, body: dict, path: str = "/api/runs") -> dict:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return loads_strict(r.content)


def shape(a) -> tuple[int, ...]:
    """The shape of a nested list, checking that it is rectangular and holds numbers or null."""
    if isinstance(a, list):
        inner = {shape(x) for x in a}
        assert len(inner) <= 1, f"ragged: {a!r:.200}"
        return (len(a), *(inner.pop() if inner else ()))
    assert a is None or (isinstance(a, int | float) and not isinstance(a, bool)), repr(a)
    return ()


def check_model(m: dict, key: str, T: int, D: int, O: int, include: set[str], H: int = H):
    """One model of a RunResult against the contract's shapes (per-step arrays: batch item 0)."""
    spec = MODELS[key]
    cell = spec["cell"]
    assert m["label"] == LABELS[key]
    assert m["cell"] == cell
    assert m["activation"] == spec.get("activation")
    assert isinstance(m["loss"], float)
    assert shape(m["grad_norm"]) == (T,)
    assert all(isinstance(x, float) and x >= 0 for x in m["grad_norm"])

    def present(name: str, wanted: bool):
        assert (name in m) == wanted, f"{name} present: {name in m}, expected {wanted}"

    present("hidden", "hidden" in include)
    if "hidden" in include:
        assert shape(m["hidden"]) == (T, H)
    present("grads", "grads" in include)
    if "grads" in include:
        assert shape(m["grads"]) == (T, H)
    present("jacobian_norm", "jacobian" in include)
    if "jacobian" in include:
        assert shape(m["jacobian_norm"]) == (T,)
        assert m["jacobian_norm"][-1] == pytest.approx(1.0, rel=1e-12)  # ∂s_T/∂s_T = I
    present("bound", cell == "rnn")
    if cell == "rnn":
        assert shape(m["bound"]) == (T,)
    present("cell_state", cell == "lstm" and "cell_state" in include)
    if "cell_state" in m:
        assert shape(m["cell_state"]) == (T, H)
    if "gates" in include and cell != "rnn":
        assert set(m["gates"]) == set(GATES[cell])
        for rows in m["gates"].values():
            assert shape(rows) == (T, H)
    else:
        assert not m.get("gates")
    shapes = param_shapes(cell, D, H, O)
    present("params", "params" in include)
    if "params" in include:
        assert {k: shape(v) for k, v in m["params"].items()} == shapes
    assert set(m["param_grad_norm"]) == set(shapes)
    assert all(isinstance(v, float) and v >= 0 for v in m["param_grad_norm"].values())
    assert set(m["summary"]) == SUMMARY_KEYS
    s = m["summary"]
    assert s["memory_horizon"] is None or isinstance(s["memory_horizon"], int)
    assert s["overflow_step"] is None and s["overflow_phase"] is None
    assert isinstance(s["sigma_max"], float) and s["sigma_max"] > 0


# --- endpoints -----------------------------------------------------------------------------

def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_healthz_is_not_behind_the_run_limit():
    assert make_client(max_concurrent_runs=0).get("/healthz").json() == {"status": "ok"}


def test_meta(client):
    r = client.get("/api/meta")
    assert r.status_code == 200
    meta = r.json()
    assert meta["version"] == __version__
    assert meta["cells"] == ["rnn", "lstm", "gru"]
    gammas = {a["name"]: a["gamma"] for a in meta["activations"]}
    assert gammas == GAMMA
    # the model catalogue: the contract's models, labels, γ and gates; the page offers them and
    # the linear RNN, after the other RNNs
    catalogue = {m["key"]: m for m in meta["models"]}
    page = [*list(MODELS)[:3], "rnn-linear", *list(MODELS)[3:]]
    assert [k for k, m in catalogue.items() if m["page"]] == page
    for key, request_model in MODELS.items():
        m = catalogue[key]
        assert m["label"] == LABELS[key]
        assert {"cell": m["cell"], "activation": m["activation"]} == {"activation": None, **request_model}
        assert m["gamma"] == (GAMMA[m["activation"]] if m["cell"] == "rnn" else None)
        assert tuple(m["gates"]) == GATES[m["cell"]]
    assert catalogue["rnn-sigmoid"]["gamma_label"] == "1/4" and catalogue["rnn-tanh"]["gamma_label"] == "1"
    assert (catalogue["rnn-linear"]["label"], catalogue["rnn-linear"]["gamma_label"]) == ("RNN (linear)", "1")
    # the fields of an answer: every include value asks for something, and params is one
    assert {f["include"] for f in meta["fields"]} - {None} | {"params"} == set(meta["include"])
    assert set(meta["input_kinds"]) >= {"gaussian", "sine", "impulse", "adding", "values"}
    assert set(meta["init_schemes"]) >= {"xavier", "orthogonal", "normal", "identity"}
    limits = meta["limits"]
    defaults = Settings()
    for name in ("seq_len_max", "hidden_size_max", "input_size_max", "batch_size_max", "models_max",
                 "body_bytes_max", "work_units_max", "jacobian_work_units_max"):
        assert limits[name] == getattr(defaults, name), name
    assert 1 <= limits["models_max"] <= 8
    assert isinstance(meta["defaults"], dict)


def test_meta_defaults_are_a_request_that_gives_the_default_run(client):
    defaults = client.get("/api/meta").json()["defaults"]
    assert post_json(client, defaults)["config"] == post_json(client, {})["config"]


def test_meta_reports_the_settings_and_they_are_enforced():
    c = make_client(seq_len_max=40, hidden_size_max=12, models_max=2, batch_size_max=3)
    limits = c.get("/api/meta").json()["limits"]
    assert (limits["seq_len_max"], limits["hidden_size_max"], limits["models_max"],
            limits["batch_size_max"]) == (40, 12, 2, 3)
    assert c.post("/api/runs", json={"seq_len": 40, "hidden_size": 12, "batch_size": 3,
                                     "models": [{"cell": "gru"}]}).status_code == 200
    r = c.post("/api/runs", json={"seq_len": 41})
    assert r.status_code == 422
    assert "seq_len" in r.json()["detail"] and "40" in r.json()["detail"]


def test_settings_from_environment():
    settings = Settings.from_env({"GFL_SEQ_LEN_MAX": "300", "GFL_WORK_UNITS_MAX": "5e8"})
    limits = TestClient(create_app(settings)).get("/api/meta").json()["limits"]
    assert limits["seq_len_max"] == 300
    assert limits["work_units_max"] == 5e8


def test_index_page(client):
    """The page in each language, with the catalogue the scripts read and the model checkboxes
    of both tabs written from it."""
    for lang in ("en", "ko"):
        r = client.get(f"/?lang={lang}")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert f'<html lang="{lang}"' in r.text
        embedded = re.search(r'<script type="application/json" id="gfl-catalogue">(.*?)</script>', r.text)
        meta = client.get("/api/meta").json()
        assert json.loads(embedded.group(1)) == {k: meta[k] for k in ("models", "fields", "palette")}
        for name in ("models", "train_models"):
            boxes = re.findall(rf'<input type="checkbox" name="{name}" value="([^"]+)">', r.text)
            assert boxes == ["rnn-sigmoid", "rnn-tanh", "rnn-relu", "rnn-linear", "lstm", "gru"], name
        assert r.text.count('<span class="hint">γ = 1/4</span>') == 3  # sigmoid: Explore, Train, Sweep
        for module in ("js/main.js", "css/page.css"):
            assert f"/{module}" in r.text


def test_plotly_is_served_locally(client):
    r = client.get("/vendor/plotly.min.js")
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert b"plotly" in r.content[:1000].lower()
    assert len(r.content) > 1_000_000
    page = client.get("/")
    assert PLOTLY_VERSIONED in page.text and client.get(PLOTLY_VERSIONED).content == r.content
    # the installed `plotly` package's plotly.js (what `Run.figure` draws with), of the version
    # its URL says: the page and the Python figures cannot drift apart
    import plotly.offline

    assert r.content == plotly.offline.get_plotlyjs().encode()
    assert plotly.offline.get_plotlyjs_version() == PLOTLY_JS_VERSION
    assert f"plotly.js v{PLOTLY_JS_VERSION}".encode() in r.content[:200]


def test_nothing_the_page_serves_names_an_internet_address():
    """The page works offline: no file of static/ or templates/ holds an http(s) address (plotly.js,
    from the installed package, fetches none: the page draws no maps and shows no Chart Studio
    link); XML namespace names are not addresses."""
    from conftest import ROOT

    address = re.compile(r"https?://(?!www\.w3\.org/)")
    files = [path for folder in ("static", "templates") for path in sorted((ROOT / folder).rglob("*"))
             if path.is_file() and path.suffix in (".js", ".html", ".css", ".json", ".svg", ".md")]
    assert len(files) > 50
    found = [f"{path.relative_to(ROOT)}:{n}" for path in files
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if address.search(line)]
    assert found == []


@pytest.mark.parametrize("path", ENDPOINTS)
def test_openapi_has_an_example_for_every_input_kind(client, path):
    spec = client.get("/openapi.json").json()
    body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    kinds = {ex["value"].get("input", {}).get("kind", "gaussian") for ex in body["examples"].values()}
    assert kinds >= {"gaussian", "sine", "impulse", "adding", "values"}


def test_every_openapi_example_runs(client):
    spec = client.get("/openapi.json").json()
    examples = spec["paths"]["/api/runs"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    for name, example in examples.items():
        r = client.post("/api/runs", json=example["value"])
        assert r.status_code == 200, (name, r.text)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/runs", 405), ("PUT", "/api/runs/stream", 405), ("GET", "/api/nothing", 404),
])
def test_wrong_method_or_path_is_a_json_error(client, method, path, status):
    r = client.request(method, path)
    assert r.status_code == status
    assert isinstance(r.json()["detail"], str)


# --- RunResult shape ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KIND_REQUESTS))
def test_run_shape_every_cell(client, kind):
    T, B, D, O = KIND_SIZES[kind]
    body = {**KIND_REQUESTS[kind], "models": ALL_MODELS, "hidden_size": H, "include": INCLUDE_ALL}
    result = post_json(client, body)
    assert len(result["models"]) == len(MODELS)
    for m, key in zip(result["models"], MODELS, strict=True):
        check_model(m, key, T, D, O, set(INCLUDE_ALL))
    assert shape(result["inputs"]) == (T, B, D)
    assert shape(result["targets"]) == (T, B, O)
    assert result["config"]["input"]["kind"] == kind


@pytest.mark.parametrize("include", [[], ["hidden"], ["grads", "jacobian"], ["cell_state"], ["gates"],
                                     ["params"]], ids=lambda v: "+".join(v) or "nothing")
def test_run_shape_per_include(client, include):
    body = {**KIND_REQUESTS["gaussian"], "models": ALL_MODELS, "hidden_size": H, "include": include}
    result = post_json(client, body)
    for m, key in zip(result["models"], MODELS, strict=True):
        check_model(m, key, 7, 3, 2, set(include))
    assert ("inputs" in result) == ("params" in include)
    assert ("targets" in result) == ("params" in include)


def test_default_include(client):
    result = post_json(client, {"models": ALL_MODELS, "seq_len": 6, "hidden_size": H})
    assert result["config"]["include"] == ["hidden", "grads", "jacobian"]
    for m, key in zip(result["models"], MODELS, strict=True):
        check_model(m, key, 6, 4, 1, {"hidden", "grads", "jacobian"})


@pytest.mark.parametrize("key", list(MODELS))
def test_smallest_run(client, key):
    body = {"models": [MODELS[key]], "seq_len": 1, "hidden_size": 1, "input_size": 1,
            "include": INCLUDE_ALL}
    check_model(post_json(client, body)["models"][0], key, 1, 1, 1, set(INCLUDE_ALL), H=1)


# --- config: the request with every default filled in ---------------------------------------

DEFAULT_CONFIG = {
    "models": [{"cell": "rnn", "activation": "sigmoid"}, {"cell": "rnn", "activation": "tanh"},
               {"cell": "lstm", "activation": None}],
    "seq_len": 50, "hidden_size": 16, "input_size": 4, "output_size": 1, "batch_size": 1,
    "input": {"kind": "gaussian", "values": None},
    "init": {"scheme": "xavier", "std": 0.1, "sigma_max": None, "forget_bias": 1.0, "bias_std": 0.0},
    "loss": {"kind": "mse", "at": "last"}, "seed": 0, "include": ["hidden", "grads", "jacobian"],
}


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param({}, {}, id="empty"),
    pytest.param({"models": [{"cell": "rnn"}]}, {"models": [{"cell": "rnn", "activation": "tanh"}]},
                 id="bare-rnn-gets-tanh"),
    pytest.param({"models": [{}]}, {"models": [{"cell": "rnn", "activation": "tanh"}]},
                 id="empty-model-is-tanh-rnn"),
    pytest.param({"input": {"kind": "adding"}}, {"input": {"kind": "adding", "values": None},
                                                 "input_size": 2, "output_size": 1}, id="adding"),
    pytest.param({"input": {"kind": "values", "values": [[1, 2], [3, 4], [5, 6]]}},
                 {"input": {"kind": "values", "values": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]},
                  "seq_len": 3, "input_size": 2}, id="values"),
    pytest.param({"init": {"scheme": "orthogonal"}, "loss": {"at": "all"}, "seed": 7},
                 {"init": {**DEFAULT_CONFIG["init"], "scheme": "orthogonal"},
                  "loss": {"kind": "mse", "at": "all"}, "seed": 7}, id="partial-objects"),
])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_config_has_every_default(client, path, body, expected):
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    if path == "/api/runs":
        config = loads_strict(r.content)["config"]
    else:
        start = parse(r.text)[0]
        assert start.event == "start"
        config = start.data["config"]
    assert config == {**DEFAULT_CONFIG, **expected}


def test_config_is_a_request_that_reproduces_the_run(client):
    body = {"models": [{"cell": "rnn", "activation": "relu"}, {"cell": "gru"}], "seq_len": 9,
            "input": {"kind": "sine"}, "init": {"bias_std": 0.2}, "include": ["params", "grads"]}
    first = post_json(client, body)
    assert post_json(client, first["config"]) == first


# --- what the numbers mean ------------------------------------------------------------------

def test_same_seed_same_numbers_other_seed_other_numbers(client):
    body = {"models": ALL_MODELS, "seq_len": 8, "hidden_size": H, "include": INCLUDE_ALL}
    a = client.post("/api/runs", json=body).content
    assert client.post("/api/runs", json=body).content == a
    b = post_json(client, {**body, "seed": 1})
    assert b["inputs"] != loads_strict(a)["inputs"]
    assert b["models"][0]["params"] != loads_strict(a)["models"][0]["params"]


def test_models_of_a_cell_type_share_weights(client):
    models = [*ALL_MODELS, {"cell": "lstm"}, {"cell": "gru"}]
    result = post_json(client, {"models": models, "seq_len": 5, "hidden_size": H, "include": ["params"]})
    params = [m["params"] for m in result["models"]]
    assert params[0] == params[1] == params[2]  # the three RNNs differ only in φ
    assert params[3] == params[5]
    assert params[4] == params[6]
    assert result["models"][0]["loss"] != result["models"][1]["loss"]


def test_values_are_the_inputs(client):
    result = post_json(client, {**KIND_REQUESTS["values"], "include": ["params"]})
    assert result["inputs"] == [[row] for row in VALUES]


def test_impulse_is_zero_after_the_first_step(client):
    result = post_json(client, {**KIND_REQUESTS["impulse"], "include": ["params"]})
    X = np.asarray(result["inputs"])
    assert np.all(X[1:] == 0)
    assert np.all(X[0] != 0)


def test_adding_problem(client):
    result = post_json(client, {"input": {"kind": "adding"}, "seq_len": 20, "batch_size": 16,
                                "models": [{"cell": "gru"}], "include": ["params"]})
    X, Y = np.asarray(result["inputs"]), np.asarray(result["targets"])
    assert X.shape == (20, 16, 2) and Y.shape == (20, 16, 1)
    values, markers = X[..., 0], X[..., 1]
    assert np.all((values >= 0) & (values <= 1))
    assert np.all(markers[:10].sum(axis=0) == 1) and np.all(markers[10:].sum(axis=0) == 1)
    np.testing.assert_allclose(Y[-1, :, 0], (values * markers).sum(axis=0), rtol=1e-15)


def recurrent_blocks(m: dict) -> list[np.ndarray]:
    W = np.asarray(m["params"]["W_hh" if m["cell"] == "rnn" else "W_h"])
    Hs = W.shape[0]
    return [W[:, k:k + Hs] for k in range(0, W.shape[1], Hs)]


@pytest.mark.parametrize("scheme", ["xavier", "orthogonal", "normal", "identity"])
def test_init_schemes(client, scheme):
    body = {"models": ALL_MODELS, "seq_len": 3, "hidden_size": 6, "include": ["params"],
            "init": {"scheme": scheme, "std": 0.05}}
    for m in post_json(client, body)["models"]:
        for W in recurrent_blocks(m):
            if scheme == "xavier":  # Glorot uniform on an H×H block
                assert np.abs(W).max() <= np.sqrt(6 / 12) and W.std() > 0
            elif scheme == "orthogonal":
                np.testing.assert_allclose(W @ W.T, np.eye(6), atol=1e-12)
            elif scheme == "normal":
                assert 0.02 < W.std() < 0.08
            else:
                np.testing.assert_array_equal(W, np.eye(6))


@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_sigma_max_rescales_every_recurrent_block(client, sigma):
    body = {"models": ALL_MODELS, "seq_len": 3, "hidden_size": 6, "include": ["params"],
            "init": {"sigma_max": sigma}}
    for m in post_json(client, body)["models"]:
        norms = [np.linalg.norm(W, 2) for W in recurrent_blocks(m)]
        np.testing.assert_allclose(norms, sigma, rtol=1e-12)


@pytest.mark.parametrize("bias_std", [0.0, 0.5])
def test_biases_and_the_forget_gate_shift(client, bias_std):
    """Biases are 0, or N(0, bias_std²); the LSTM's forget block (the second H) is then shifted."""
    H6 = 6
    body = {"models": ALL_MODELS, "seq_len": 3, "hidden_size": H6, "include": ["params"],
            "init": {"bias_std": bias_std, "forget_bias": 2.5}}
    for m in post_json(client, body)["models"]:
        biases = {k: np.asarray(v) for k, v in m["params"].items() if k.startswith("b")}
        assert set(biases) == {k for k in param_shapes(m["cell"], 1, 1, 1) if k.startswith("b")}
        if m["cell"] == "lstm":
            biases["b"][H6:2 * H6] -= 2.5
        for name, b in biases.items():
            if bias_std == 0:
                np.testing.assert_array_equal(b, 0.0, err_msg=f"{m['label']} {name}")
            else:
                assert np.all(b != 0) and np.abs(b).max() < 10 * bias_std, f"{m['label']} {name}"


def test_gaussian_inputs_and_targets_are_standard_normal(client):
    result = post_json(client, {"seq_len": 1000, "batch_size": 8, "output_size": 2, "hidden_size": 2,
                                "models": [{"cell": "rnn"}], "include": ["params"]})
    for name in ("inputs", "targets"):
        x = np.asarray(result[name]).ravel()
        assert abs(x.mean()) < 0.05 and abs(x.std() - 1) < 0.05, name


def test_sine_inputs_are_bounded_waves(client):
    result = post_json(client, {"seq_len": 100, "batch_size": 2, "input": {"kind": "sine"},
                                "models": [{"cell": "rnn"}], "include": ["params"]})
    X = np.asarray(result["inputs"])
    assert np.abs(X).max() <= 1.0 and X.std() > 0.5


def memory_horizon(grad_norm: list[float]) -> int | None:
    """The contract: the largest k with grad_norm[T−j] ≥ 1e-3 grad_norm[T] for all j ≤ k."""
    g = grad_norm[::-1]
    k = 0
    while k + 1 < len(g) and g[k + 1] >= 1e-3 * g[0]:
        k += 1
    return None if k == len(g) - 1 else k


@pytest.mark.parametrize("sigma", [None, 0.8, 1.5])
def test_summary_bound_and_sigma_max_follow_their_definitions(client, sigma):
    body = {"models": ALL_MODELS, "seq_len": 40, "hidden_size": 8, "include": ["params"],
            "init": {"scheme": "orthogonal", "sigma_max": sigma}}
    result = post_json(client, body)
    for m in result["models"]:
        s, gn, P = m["summary"], m["grad_norm"], m["params"]
        assert s["log10_grad_ratio"] == pytest.approx(math.log10(gn[0] / gn[-1]), rel=1e-12, abs=1e-12)
        assert s["memory_horizon"] == memory_horizon(gn)
        W = np.asarray(P["W_hh"] if m["cell"] == "rnn" else P["W_h"])
        Hs = W.shape[0]
        blocks = [W[:, k:k + Hs] for k in range(0, W.shape[1], Hs)]
        assert s["sigma_max"] == pytest.approx(max(np.linalg.norm(b, 2) for b in blocks), rel=1e-12)
        if sigma is not None:
            assert s["sigma_max"] == pytest.approx(sigma, rel=1e-12)
        if m["cell"] == "rnn":
            base = GAMMA[m["activation"]] * s["sigma_max"]
            expected = [base ** (40 - t) for t in range(1, 41)]
            np.testing.assert_allclose(m["bound"], expected, rtol=1e-12)


def test_loss_at_all_sums_over_steps(client):
    body = {"models": [{"cell": "rnn", "activation": "tanh"}], "seq_len": 6, "include": ["hidden", "params"],
            "output_size": 2}
    last = post_json(client, body)
    every = post_json(client, {**body, "loss": {"at": "all"}})
    m, P = every["models"][0], every["models"][0]["params"]
    Hs, Y = np.asarray(m["hidden"]), np.asarray(every["targets"])[:, 0]
    residual = Hs @ np.asarray(P["W_hy"]) + np.asarray(P["b_y"]) - Y
    per_step = 0.5 * np.sum(residual**2, axis=1)
    assert m["loss"] == pytest.approx(per_step.sum(), rel=1e-12)
    assert last["models"][0]["loss"] == pytest.approx(per_step[-1], rel=1e-12)


# --- an exploding run is a result, not an error ----------------------------------------------

EXPLODING = {"models": [{"cell": "rnn", "activation": "relu"}], "seq_len": 1000,
             "init": {"scheme": "orthogonal", "sigma_max": 5.0}, "include": ["hidden", "grads"]}


@pytest.mark.parametrize("include", [["hidden", "grads"], ["hidden", "grads", "jacobian", "params"]],
                         ids=["hidden+grads", "with-jacobian-and-params"])
def test_exploding_run_is_200_with_nulls(client, include):
    r = client.post("/api/runs", json={**EXPLODING, "include": include})
    assert r.status_code == 200, r.text
    assert b"NaN" not in r.content and b"Infinity" not in r.content
    result = loads_strict(r.content)
    m = result["models"][0]
    s = m["summary"]
    assert isinstance(s["overflow_step"], int) and not isinstance(s["overflow_step"], bool)
    assert 1 <= s["overflow_step"] <= 1000
    assert s["overflow_phase"] == "forward"
    assert None in m["grad_norm"]
    t = s["overflow_step"]
    # the first value that stopped being finite is the hidden state at overflow_step
    assert all(x is not None for row in m["hidden"][:t - 1] for x in row)
    assert any(x is None for x in m["hidden"][t - 1])


# request, and a phase that at least one of its models must report
OVERFLOWING = {
    "relu-sigma5": ({"init": {"scheme": "orthogonal", "sigma_max": 5.0}, "seq_len": 1000}, "forward"),
    # zero inputs keep h_t = 0 (finite, tanh' = 1) while ∂L/∂h_t grows like 3^(T−t)
    "identity-sigma3": ({"init": {"scheme": "identity", "sigma_max": 3.0},
                         "input": {"kind": "values", "values": [[0.0] * 4] * 700}}, "backward"),
    "normal-std10": ({"init": {"scheme": "normal", "std": 10, "bias_std": 10}, "seq_len": 300,
                      "input": {"kind": "sine"}}, "forward"),
    "orthogonal-sigma100": ({"init": {"scheme": "orthogonal", "sigma_max": 100}, "seq_len": 300}, None),
    "huge-values": ({"input": {"kind": "values", "values": [[1e308, -1e308]] * 30}}, "forward"),
}


def has_null(rows) -> bool:
    return any(x is None for row in rows for x in row)


@pytest.mark.parametrize("case", list(OVERFLOWING))
def test_overflow_step_marks_the_first_value_that_stopped_being_finite(client, case):
    """overflow_step and overflow_phase agree with where the nulls are, in the order of
    computation: forward t = 1..T, then backward t = T..1."""
    request, expected_phase = OVERFLOWING[case]
    body = {**request, "models": [*ALL_MODELS, {"cell": "rnn", "activation": "linear"}],
            "include": ["hidden", "cell_state", "grads", "jacobian"]}
    r = client.post("/api/runs", json=body)
    assert r.status_code == 200, r.text
    models = loads_strict(r.content)["models"]
    assert expected_phase in {m["summary"]["overflow_phase"] for m in models}
    for m in models:
        s, gn, jn = m["summary"], m["grad_norm"], m["jacobian_norm"]
        step, phase = s["overflow_step"], s["overflow_phase"]
        states = [m["hidden"], *([m["cell_state"]] if "cell_state" in m else [])]
        label = f"{m['label']}: step {step}, phase {phase}"
        assert (step is None) == (phase is None), label
        if phase is None:
            assert not any(has_null(x) for x in states) and m["loss"] is not None, label
            assert None not in gn and None not in jn, label
        elif phase == "forward":
            assert not any(has_null(x[:step - 1]) for x in states), label
            assert any(has_null(x[step - 1:step]) for x in states) or (step == len(gn) and m["loss"] is None)
        else:
            assert not any(has_null(x) for x in states) and m["loss"] is not None, label
            later = gn[step:] if phase == "backward" else jn[step:]
            assert None not in later, label
            if phase == "backward":
                assert gn[step - 1] is None or (step == 1 and None in m["param_grad_norm"].values()), label
            else:
                assert jn[step - 1] is None and None not in gn, label


json_leaf = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
             | st.text(max_size=6))
any_json = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=10)
size = st.sampled_from([-1, 0, 1, 3, 2000, 2001, 2**63, 1.5, "3", None, True]) | any_json
fuzzed_body = st.fixed_dictionaries({}, optional={
    "models": st.lists(st.fixed_dictionaries({}, optional={
        "cell": st.sampled_from(["rnn", "lstm", "gru"]) | any_json,
        "activation": st.sampled_from(["sigmoid", "tanh", "relu", None]) | any_json}), max_size=9) | any_json,
    "seq_len": size, "hidden_size": size, "input_size": size, "output_size": size, "batch_size": size,
    "input": st.fixed_dictionaries({}, optional={
        "kind": st.sampled_from(["gaussian", "sine", "impulse", "adding", "values"]) | any_json,
        "values": st.lists(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=3), max_size=4)
        | any_json}) | any_json,
    "init": st.dictionaries(st.sampled_from(["scheme", "std", "sigma_max", "forget_bias", "bias_std"]),
                            st.floats(allow_nan=True, allow_infinity=True) | any_json) | any_json,
    "loss": st.fixed_dictionaries({}, optional={"at": st.sampled_from(["last", "all"]) | any_json}),
    "seed": st.integers() | any_json,
    "include": st.lists(st.sampled_from(INCLUDE_ALL)) | any_json,
})


@settings(max_examples=60, deadline=None)
@given(body=fuzzed_body, path=st.sampled_from(ENDPOINTS))
def test_never_a_5xx_for_any_json_body(client, body, path):
    raw_body = json.dumps(body, allow_nan=True).encode()  # may hold NaN and Infinity tokens
    r = client.post(path, content=raw_body, headers={"content-type": "application/json"})
    assert r.status_code < 500, (raw_body, r.text[:300])
    if r.status_code >= 400:
        assert isinstance(loads_strict(r.content)["detail"], str)
    elif path == "/api/runs":
        loads_strict(r.content)
    else:
        assert parse(r.text)[-1].event == "done"


# --- bad input: 4xx with a detail that names the field (and the limit) ------------------------

def raw(text: str) -> bytes:
    return text.encode()


BAD_INPUT = [
    # wrong types
    pytest.param({"seq_len": "abc"}, ["seq_len"], id="seq_len-string"),
    pytest.param({"hidden_size": 2.5}, ["hidden_size"], id="hidden_size-fraction"),
    pytest.param({"models": {"cell": "rnn"}}, ["models"], id="models-not-a-list"),
    pytest.param({"models": ["rnn"]}, ["models.0"], id="model-not-an-object"),
    pytest.param({"include": "hidden"}, ["include"], id="include-not-a-list"),
    pytest.param({"input": "gaussian"}, ["input"], id="input-not-an-object"),
    pytest.param({"models": None}, ["models"], id="models-null"),
    pytest.param({"seq_len": True}, ["seq_len"], id="seq_len-bool"),
    pytest.param({"seq_len": 1e3}, ["seq_len"], id="seq_len-float"),
    pytest.param({"input": {"kind": "values", "values": [[True]]}}, ["input.values"], id="values-bool"),
    pytest.param({"seq_len": 2000, "hidden_size": 128, "models": [{"cell": "rnn"}] * 8,
                  "include": ["hidden", "grads", "preactivation"]},
                 ["include", "response_numbers_max"], id="answer-too-large"),
    # sizes out of range
    pytest.param({"seq_len": 0}, ["seq_len"], id="seq_len-0"),
    pytest.param({"seq_len": -3}, ["seq_len"], id="seq_len-negative"),
    pytest.param({"seq_len": 2001}, ["seq_len", "2000", "seq_len_max"], id="seq_len-over-max"),
    pytest.param({"seq_len": 10**30}, ["seq_len", "seq_len_max"], id="seq_len-huge"),
    pytest.param({"hidden_size": 0}, ["hidden_size"], id="hidden_size-0"),
    pytest.param({"hidden_size": 257}, ["hidden_size", "256", "hidden_size_max"], id="hidden_size-over-max"),
    pytest.param({"input_size": 65}, ["input_size", "64", "input_size_max"], id="input_size-over-max"),
    pytest.param({"output_size": 17}, ["output_size", "16", "output_size_max"], id="output_size-over-max"),
    pytest.param({"batch_size": 0}, ["batch_size"], id="batch_size-0"),
    pytest.param({"batch_size": 257}, ["batch_size", "256", "batch_size_max"], id="batch_size-over-max"),
    pytest.param({"seed": -1}, ["seed"], id="seed-negative"),
    pytest.param({"seed": 2**64}, ["seed"], id="seed-over-63-bits"),
    # unknown names
    pytest.param({"models": [{"cell": "transformer"}]}, ["models.0.cell"], id="unknown-cell"),
    pytest.param({"models": [{"cell": "rnn", "activation": "swish"}]}, ["models.0.activation"],
                 id="unknown-activation"),
    pytest.param({"input": {"kind": "noise"}}, ["input.kind"], id="unknown-input-kind"),
    pytest.param({"init": {"scheme": "he"}}, ["init.scheme"], id="unknown-init-scheme"),
    pytest.param({"include": ["hidden", "everything"]}, ["include.1"], id="unknown-include-item"),
    pytest.param({"loss": {"at": "middle"}}, ["loss.at"], id="unknown-loss-at"),
    pytest.param({"models": [{"cell": "lstm", "activation": "tanh"}]}, ["models.0.activation", "lstm"],
                 id="activation-for-lstm"),
    pytest.param({"models": [{"cell": "rnn"}, {"cell": "gru", "activation": "relu"}]},
                 ["models.1.activation", "gru"], id="activation-for-gru"),
    pytest.param({"num_layers": 2}, ["num_layers"], id="unknown-field"),
    pytest.param({"init": {"gain": 2.0}}, ["init.gain"], id="unknown-nested-field"),
    pytest.param({"models": [{"cell": "rnn", "dropout": 0.5}]}, ["models.0.dropout"],
                 id="unknown-model-field"),
    # input.values
    pytest.param({"input": {"kind": "values", "values": "1,2,3"}}, ["input.values"],
                 id="values-not-an-array"),
    pytest.param({"input": {"kind": "values", "values": [1, 2, 3]}}, ["input.values"], id="values-1d"),
    pytest.param({"input": {"kind": "values", "values": [[1, 2], [3]]}}, ["input.values"],
                 id="values-ragged"),
    pytest.param({"input": {"kind": "values", "values": []}}, ["input.values"], id="values-empty"),
    pytest.param({"input": {"kind": "values", "values": [[], []]}}, ["input.values"], id="values-empty-rows"),
    pytest.param({"input": {"kind": "values", "values": [["a"]]}}, ["input.values"], id="values-strings"),
    pytest.param({"input": {"kind": "values"}}, ["input.values"], id="values-missing"),
    pytest.param({"input_size": 3, "input": {"kind": "values", "values": [[1, 2], [3, 4]]}},
                 ["input_size", "3", "2"], id="values-width-vs-input_size"),
    pytest.param({"seq_len": 5, "input": {"kind": "values", "values": [[1, 2], [3, 4]]}},
                 ["seq_len", "5", "2"], id="values-length-vs-seq_len"),
    pytest.param({"batch_size": 2, "input": {"kind": "values", "values": [[1, 2]]}}, ["batch_size"],
                 id="values-batch_size"),
    pytest.param({"input": {"kind": "values", "values": [[0.0]] * 2001}}, ["seq_len", "seq_len_max"],
                 id="values-longer-than-seq_len_max"),
    pytest.param({"input": {"kind": "gaussian", "values": [[1, 2]]}}, ["input.values"],
                 id="values-with-another-kind"),
    pytest.param(raw('{"input":{"kind":"values","values":[[NaN]]}}'), ["input.values"], id="values-NaN"),
    pytest.param(raw('{"input":{"kind":"values","values":[[1, Infinity]]}}'), ["input.values"],
                 id="values-Infinity"),
    pytest.param(raw('{"input":{"kind":"values","values":[[-Infinity, 1]]}}'), ["input.values"],
                 id="values-minus-Infinity"),
    pytest.param(raw('{"input":{"kind":"values","values":[[1e999]]}}'), ["input.values"],
                 id="values-overflowing-literal"),
    # init
    pytest.param(raw('{"init":{"sigma_max":NaN}}'), ["init.sigma_max"], id="sigma_max-NaN"),
    pytest.param(raw('{"init":{"sigma_max":Infinity}}'), ["init.sigma_max"], id="sigma_max-Infinity"),
    pytest.param({"init": {"sigma_max": -1.0}}, ["init.sigma_max"], id="sigma_max-negative"),
    pytest.param({"init": {"sigma_max": 0}}, ["init.sigma_max"], id="sigma_max-0"),
    pytest.param({"init": {"scheme": "normal", "std": 0}}, ["init.std"], id="std-0"),
    pytest.param(raw('{"init":{"bias_std":NaN}}'), ["init.bias_std"], id="bias_std-NaN"),
    pytest.param(raw('{"init":{"forget_bias":-Infinity}}'), ["init.forget_bias"], id="forget_bias-Infinity"),
    # models
    pytest.param({"models": []}, ["models"], id="models-empty"),
    pytest.param({"models": [{"cell": "gru"}] * 9}, ["models", "8", "models_max"], id="models-over-max"),
    # the adding problem's fixed sizes
    pytest.param({"input": {"kind": "adding"}, "input_size": 3}, ["input_size"], id="adding-input_size"),
    pytest.param({"input": {"kind": "adding"}, "output_size": 2}, ["output_size"], id="adding-output_size"),
    pytest.param({"input": {"kind": "adding"}, "seq_len": 1}, ["seq_len"], id="adding-seq_len-1"),
    # not JSON, or not an object
    pytest.param(raw('{"seq_len": '), ["json"], id="invalid-json"),
    pytest.param(raw('{"seq_len": 5} trailing'), ["json"], id="json-trailing-garbage"),
    pytest.param(raw("{'seq_len': 5}"), ["json"], id="json-single-quotes"),
    pytest.param(b"\xff\xfe{}", [], id="not-utf8"),
    pytest.param(raw("[1, 2]"), ["body"], id="body-array"),
    pytest.param(raw('"run"'), ["body"], id="body-string"),
    pytest.param(raw("42"), ["body"], id="body-number"),
    pytest.param(raw("null"), ["body"], id="body-null"),
    pytest.param(raw("[" * 100_000 + "]" * 100_000), [], id="deeply-nested-json"),
    pytest.param(raw('{"hidden_size": ' + "9" * 5000 + "}"), [], id="integer-with-5000-digits"),
]


def check_error(r, substrings: list[str], statuses=(400, 413, 422)):
    assert r.status_code in statuses, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json")
    body = loads_strict(r.content)
    assert isinstance(body["detail"], str) and body["detail"]
    for s in substrings:
        assert s.lower() in body["detail"].lower(), f"{s!r} not in detail {body['detail']!r}"
    return body


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(("body", "substrings"), BAD_INPUT)
def test_bad_input(client, path, body, substrings):
    if isinstance(body, bytes):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
    else:
        r = client.post(path, json=body)
    check_error(r, substrings)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_not_json_content_type(client, path):
    r = client.post(path, content=b"seq_len=5", headers={"content-type": "application/x-www-form-urlencoded"})
    check_error(r, [], statuses=(400, 415, 422))


def test_error_lists_every_problem(client):
    r = client.post("/api/runs", json={"seq_len": 5000, "hidden_size": 1000})
    body = check_error(r, ["seq_len", "hidden_size"])
    assert len(body["errors"]) == 2


# --- the body size limit ---------------------------------------------------------------------

def padded(size: int) -> bytes:
    """A valid request body of exactly `size` bytes."""
    head = b'{"models": [{"cell": "gru"}], "seq_len": 3}'
    return head[:-1] + b" " * (size - len(head)) + b"}"


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_limit(path, chunked):
    c = make_client(body_bytes_max=1000)
    body = padded(1001)
    content = iter([body[:500], body[500:]]) if chunked else body
    r = c.post(path, content=content, headers={"content-type": "application/json"})
    if chunked:
        assert "content-length" not in {k.lower() for k in r.request.headers}
    check_error(r, ["body_bytes_max"], statuses=(413, 422))
    # a body at the limit is fine
    ok = c.post(path, content=padded(1000), headers={"content-type": "application/json"})
    assert ok.status_code == 200, ok.text


def test_body_over_the_default_limit(client):
    limit = Settings().body_bytes_max
    r = client.post("/api/runs", content=padded(limit + 1), headers={"content-type": "application/json"})
    check_error(r, ["body_bytes_max"], statuses=(413, 422))


# --- the work budgets --------------------------------------------------------------------------

MODEST = {"seq_len": 200, "hidden_size": 32, "include": ["hidden", "grads"]}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_work_over_the_budget(client, path):
    c = make_client(work_units_max=1e6)
    check_error(c.post(path, json=MODEST), ["work_units_max"], statuses=(422,))
    assert client.post(path, json=MODEST).status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_jacobian_over_its_budget(path):
    c = make_client(jacobian_work_units_max=1e5)
    body = {"seq_len": 50, "hidden_size": 16, "include": ["hidden", "grads", "jacobian"]}
    check_error(c.post(path, json=body), ["jacobian", "jacobian_work_units_max", "drop"], statuses=(422,))
    # dropping jacobian, as the message says, is enough
    assert c.post(path, json={**body, "include": ["hidden", "grads"]}).status_code == 200


def test_jacobian_over_the_default_budget(client):
    body = {"models": [{"cell": "rnn"}], "seq_len": 2000, "hidden_size": 256, "include": ["jacobian"]}
    check_error(client.post("/api/runs", json=body), ["jacobian", "jacobian_work_units_max"], statuses=(422,))


@pytest.mark.parametrize("key", list(MODELS))
def test_maximum_sizes_are_refused_by_the_budget(client, key):
    """Over the work budget is a 422, never a 500 or a hang: probe every cell at the maximum
    sizes (the budget refuses them before any work starts)."""
    body = {"models": [MODELS[key]] * 8, "seq_len": 2000, "hidden_size": 256, "input_size": 64,
            "batch_size": 256}
    check_error(client.post("/api/runs", json=body), ["work_units_max"], statuses=(422,))


# --- 503 when every run slot is taken ---------------------------------------------------------

@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_slots_gives_503_with_retry_after(path):
    r = make_client(max_concurrent_runs=0).post(path, json={"seq_len": 5})
    body = check_error(r, ["max_concurrent_runs"], statuses=(503,))
    assert int(r.headers["retry-after"]) >= 1
    assert body["detail"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_held_slot_gives_503_until_released(path):
    app = create_app(Settings(max_concurrent_runs=1, queue_seconds=0))  # no line: 503 at once
    c = TestClient(app, raise_server_exceptions=False)
    app.state.limiter.acquire()  # another run is in progress
    try:
        r = c.post(path, json={"seq_len": 5})
        check_error(r, [], statuses=(503,))
        assert int(r.headers["retry-after"]) >= 1
    finally:
        app.state.limiter.release()
    assert c.post(path, json={"seq_len": 5}).status_code == 200


def test_slots_are_released_after_errors_and_streams():
    app = create_app(Settings(max_concurrent_runs=1, work_units_max=1e6))
    c = TestClient(app, raise_server_exceptions=False)
    for _ in range(3):
        assert c.post("/api/runs", json=MODEST).status_code == 422  # over the budget
        assert c.post("/api/runs/stream", json=MODEST).status_code == 422
        assert c.post("/api/runs", json={"seq_len": 0}).status_code == 422
        assert c.post("/api/runs/stream", json={"seq_len": 5}).status_code == 200
        assert c.post("/api/runs", json={"seq_len": 5}).status_code == 200
    assert app.state.limiter.active == 0


def test_a_nonfinite_preactivation_sets_overflow_step(client):
    """z_t = x_t W_xh + … overflows to inf while σ(z) stays finite: the null in `preactivation`
    is still flagged by overflow_step."""
    body = {"models": [{"cell": "rnn", "activation": "sigmoid"}], "hidden_size": 4, "input_size": 3,
            "input": {"kind": "values", "values": [[1e308, -1e308, 1e308]] * 4},
            "include": ["preactivation", "hidden"]}
    result = post_json(client, body)["models"][0]
    nulls = [t for t, row in enumerate(result["preactivation"], start=1) if None in row]
    assert nulls, "the test needs an overflowing pre-activation"
    assert result["summary"]["overflow_step"] == nulls[0]
    assert result["summary"]["overflow_phase"] == "forward"
