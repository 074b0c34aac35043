"""The page's own numbers (static/js/gradient-math.js) and its catalogue (static/js/catalogue.js),
run in Debian's Chromium against the core's: the bound, φ and φ′, γ and its label, the product
of gates along the cell-state path, the pre-activation histogram, the geometric mean of φ′.

The modules are imported, as the page imports them, into a page of the live server; their
inputs are the API's numbers where there are any."""

from fractions import Fraction

import httpx
import numpy as np
import pytest
from browser_helpers import offline_page, wait_for

from gradient_flow_lab.core.activations import ACTIVATIONS
from gradient_flow_lab.core.analysis import pascanu_bound

pytestmark = pytest.mark.browser

IMPORTS = """const m = await import('/static/js/gradient-math.js');
             const c = await import('/static/js/catalogue.js');"""


@pytest.fixture(scope="module")
def js(context, live_server):
    """js(body, arg): the value of `body` (a function body; `m` is gradient-math.js, `c`
    catalogue.js, `arg` the argument) evaluated in the page."""
    page, rec = offline_page(context)
    page.goto(live_server.url + "/")
    wait_for(page, "document.getElementById('chart-why').data !== undefined")

    def evaluate(body: str, arg=None):
        return page.evaluate(f"async (arg) => {{ {IMPORTS} {body} }}", arg)

    yield evaluate
    problems = rec.problems()
    page.close()
    assert not problems, problems


@pytest.fixture(scope="module")
def meta(live_server) -> dict:
    return httpx.get(live_server.url + "/api/meta", timeout=30).json()


def run(live_server, **request) -> dict:
    r = httpx.post(live_server.url + "/api/runs", json=request, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def array(values) -> np.ndarray:
    """A JSON array (nulls: not finite) as float64, NaN for null."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


# ---------------------------------------------------------------- the catalogue


def test_the_plotly_bundle_has_every_trace_type_the_page_draws(js):
    """Every trace type that a module of static/js names is one of the served plotly.js's traces."""
    import re

    from conftest import ROOT

    named = set()
    for module in (ROOT / "static" / "js").rglob("*.js"):
        text = module.read_text(encoding="utf-8")
        named |= set(re.findall(r'\btype: "(scatter\w*|bar\w*|heatmap\w*|histogram\w*|contour\w*|box|violin|'
                                r'pie|image|surface|mesh3d|scatter3d|parcoords|sankey|table|candlestick|ohlc|'
                                r'indicator|sunburst|treemap|funnel\w*|waterfall|carpet|choropleth\w*|densitymap)"',
                                text))
    traces = js("return Object.keys(Plotly.PlotSchema.get().traces);")
    assert named >= {"scatter", "heatmap", "bar"} and named <= set(traces), named - set(traces)


def test_the_page_catalogue_is_the_apis(js, meta):
    page = js("return { models: c.MODELS, keys: c.MODEL_KEYS, fields: c.FIELDS };")
    assert page["models"] == {m["key"]: m for m in meta["models"]}
    assert page["keys"] == [m["key"] for m in meta["models"] if m["page"]]
    assert page["fields"] == meta["fields"]


def test_model_keys_of_api_models(js, meta):
    models = [{"cell": m["cell"], "activation": m["activation"]} for m in meta["models"]]
    keys = js("return arg.map(c.modelKey);", models)
    assert keys == [m["key"] for m in meta["models"]]
    assert js("return c.modelKey({ cell: 'rnn', activation: null });") == "rnn-tanh"  # the API's default


def test_gamma_is_the_cores(js):
    gammas = js("return Object.values(c.MODELS).filter((e) => e.activation)"
                ".map((e) => [e.activation, e.gamma]);")
    assert {a: g for a, g in gammas} == {name: a.gamma for name, a in ACTIVATIONS.items()}


@pytest.mark.parametrize(("gamma", "label"),
                         [(0.25, "1/4"), (1.0, "1"), (0.5, "1/2"), (2.0, "2"), (0.3, "0.3"), (None, "")])
def test_gamma_label(js, gamma, label):
    assert js("return m.gammaLabel(arg);", gamma) == label
    assert js("return c.gammaLabel(arg);", gamma) == label  # the catalogue's is the same function


def test_gamma_labels_read_as_their_gamma(js, meta):
    for model in meta["models"]:
        if model["gamma"] is None:
            continue
        label = js("return m.gammaLabel(arg);", model["gamma"])
        assert Fraction(label) == Fraction(model["gamma"])
        if "gamma_label" in model:
            assert label == model["gamma_label"]


# ---------------------------------------------------------------- the bound


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("sigma_max", [0.3, 1.0, 1.7, 4.0, 9.5])
@pytest.mark.parametrize("T", [1, 2, 50, 1000])
def test_pascanu_bound_matches_the_core(js, activation, sigma_max, T):
    gamma = ACTIVATIONS[activation].gamma
    page = js("return [m.pascanuBound(...arg), m.boundBack(...arg)];", [gamma, sigma_max, T])
    core = pascanu_bound(gamma, sigma_max, T)
    # (γσ)^k overflows to inf and underflows to 0 at the same k in both; JSON has no inf
    np.testing.assert_allclose(array(page[0]), core, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(array(page[1]), core[::-1], rtol=1e-13, atol=1e-300)


def test_the_bound_of_a_run_is_the_apis(js, live_server):
    """The page's bound from the catalogue's γ and the run's σ_max is the API's `bound`."""
    T = 80
    rnns = [{"cell": "rnn", "activation": a} for a in ("sigmoid", "tanh", "relu")]
    body = run(live_server, seq_len=T, models=rnns, init={"scheme": "orthogonal", "sigma_max": 1.3})
    for model in body["models"]:
        key = f"rnn-{model['activation']}"
        page = js("return m.pascanuBound(c.MODELS[arg.key].gamma, arg.sigma, arg.T);",
                  {"key": key, "sigma": model["summary"]["sigma_max"], "T": T})
        np.testing.assert_allclose(array(page), array(model["bound"]), rtol=1e-13)
        # as the flow chart draws it: times ‖∂L/∂h_T‖, gaps where not drawable
        g_T = model["grad_norm"][-1]
        scaled = js("return arg.bound.map((b) => m.scaledBound(b, arg.g));",
                    {"bound": model["bound"], "g": g_T})
        expected = array(model["bound"]) * g_T
        expected[~(np.isfinite(expected) & (expected > 0))] = np.nan
        np.testing.assert_array_equal(array(scaled), expected)


@pytest.mark.parametrize(("factor", "regime"), [(0.25, "vanish"), (1 - 1e-6, "vanish"), (1.0, "flat"),
                                                (1 + 1e-12, "flat"), (1.5, "explode")])
def test_regime_of_the_factor(js, factor, regime):
    assert js("return m.regime(arg);", factor) == regime


# ---------------------------------------------------------------- φ and φ′

Z = [-800.0, -40.0, -12.0, -6.0, -2.5, -1.0, -0.3, -1e-9, 0.0, 1e-9, 0.3, 1.0, 2.5, 6.0, 12.0, 40.0, 800.0]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_phi_and_dphi_match_the_core(js, activation):
    """The page's φ′ takes z, the core's the output h = φ(z): the same numbers."""
    a = ACTIVATIONS[activation]
    phi, dphi = js("const f = m.PHI[arg.name]; return [arg.z.map(f.phi), arg.z.map(f.dphi)];",
                   {"name": activation, "z": Z})
    z = np.array(Z)
    h = a.phi(z.copy())
    np.testing.assert_allclose(array(phi), h, rtol=1e-15, atol=0)
    np.testing.assert_allclose(array(dphi), a.dphi(h), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_gamma_is_the_sup_of_dphi(js, activation):
    z = np.linspace(-10, 10, 20001)
    peak = js("return Math.max(...arg.z.map(m.PHI[arg.name].dphi));", {"name": activation, "z": z.tolist()})
    assert peak == pytest.approx(ACTIVATIONS[activation].gamma, rel=1e-9)


# ---------------------------------------------------------------- Π f along the cell-state path


@pytest.fixture(scope="module")
def lstm_run(live_server) -> dict:
    return run(live_server, seq_len=60, hidden_size=12, models=[{"cell": "lstm"}, {"cell": "gru"}],
               include=["gates"], init={"scheme": "xavier", "forget_bias": 1.0}, seed=3)["models"]


@pytest.mark.parametrize(("model", "gate"), [(0, "forget"), (1, "update")])
def test_gate_product_matches_numpy(js, lstm_run, model, gate):
    """mean_u Π_{k=t+1..T} g_k,u for t = 1..T, from the API's gates."""
    g = np.array(lstm_run[model]["gates"][gate], dtype=np.float64)  # [T, H]
    T = g.shape[0]
    expected = np.array([np.prod(g[t:], axis=0).mean() for t in range(1, T + 1)])  # t = 1..T
    page = js("return m.gateProduct(arg);", g.tolist())
    np.testing.assert_allclose(array(page), expected, rtol=1e-12)
    assert page[-1] == 1.0


def test_backward_product_step_by_step_and_a_missing_gate(js, lstm_run):
    f = lstm_run[0]["gates"]["forget"]
    means = js("""const p = new m.BackwardProduct(arg.f[0].length); const out = [p.mean];
                  for (let k = arg.f.length - 1; k >= 1; k--) out.push(p.times(arg.f[k]).mean);
                  return out;""", {"f": f})
    page = js("return m.gateProduct(arg);", f)
    assert means == page[::-1]
    with_gap = js("""const p = new m.BackwardProduct(2); p.times([0.5, null]);
                     return [p.prod, p.mean, new m.BackwardProduct(2).times(null).mean];""")
    (prod, mean, none) = with_gap
    assert prod[0] == 0.5 and np.isnan(prod[1]) and np.isnan(mean) and np.isnan(none)


# ---------------------------------------------------------------- the pre-activation histogram


@pytest.fixture(scope="module")
def preactivations(live_server) -> dict:
    """z_t of each RNN of a run whose relu states explode (|z| well beyond the chart's ±8)."""
    body = run(live_server, seq_len=120, hidden_size=16, include=["preactivation"], seed=5,
               models=[{"cell": "rnn", "activation": a} for a in ("sigmoid", "tanh", "relu")],
               init={"scheme": "orthogonal", "sigma_max": 2.5})
    return {m["activation"]: m["preactivation"] for m in body["models"]}


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_histogram_matches_numpy_and_the_core(js, preactivations, activation):
    zs = [v for step in preactivations[activation] for v in step]
    a = ACTIVATIONS[activation]
    page = js("""const h = new m.Histogram(-8, 8, 0.25);
                 h.add(arg.z, +1, m.PHI[arg.name].dphi, arg.gamma);
                 return { counts: h.counts, below: h.below, above: h.above, nonfinite: h.nonfinite, n: h.n,
                          density: h.density(), centres: h.centres(), mean: h.meanDerivative,
                          saturated: h.saturated };""",
              {"z": zs, "name": activation, "gamma": a.gamma})
    z = array(zs)
    finite = z[np.isfinite(z)]
    edges = np.linspace(-8, 8, 65)
    counts, _ = np.histogram(finite[(finite >= -8) & (finite < 8)], bins=edges)
    assert page["counts"] == counts.tolist()
    assert page["below"] == int((finite < -8).sum()) and page["above"] == int((finite >= 8).sum())
    assert page["nonfinite"] == int((~np.isfinite(z)).sum()) and page["n"] == len(zs)
    np.testing.assert_allclose(page["density"], counts / len(zs) / 0.25, rtol=1e-15)
    np.testing.assert_allclose(page["centres"], (edges[:-1] + edges[1:]) / 2, rtol=0, atol=1e-15)
    d = a.dphi(a.phi(finite.copy()))
    assert page["mean"] == pytest.approx(d.mean(), rel=1e-12)
    assert page["saturated"] == int((d < 0.1 * a.gamma).sum())


def test_histogram_takes_steps_away_as_well(js, preactivations):
    """Playback backwards: adding steps 1..T and taking T..k+1 away leaves steps 1..k."""
    steps = preactivations["tanh"]
    page = js("""const d = m.PHI.tanh.dphi; const all = new m.Histogram(-8, 8, 0.25);
                 const some = new m.Histogram(-8, 8, 0.25);
                 arg.forEach((z) => all.add(z, +1, d, 1));
                 for (let k = arg.length - 1; k >= 40; k--) all.add(arg[k], -1, d, 1);
                 arg.slice(0, 40).forEach((z) => some.add(z, +1, d, 1));
                 return [all.counts, some.counts, all.n, some.n, all.meanDerivative, some.meanDerivative];""",
              steps)
    assert page[0] == page[1] and page[2] == page[3] == 40 * 16
    assert page[4] == pytest.approx(page[5], rel=1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_geometric_mean_of_dphi_matches_the_core(js, preactivations, activation):
    zs = [v for step in preactivations[activation] for v in step if v is not None]
    a = ACTIVATIONS[activation]
    page = js("return m.meanLog10(arg.z, m.PHI[arg.name].dphi);", {"z": zs, "name": activation})
    expected = np.mean(np.log10(a.dphi(a.phi(np.array(zs)))))
    assert page == pytest.approx(expected, rel=1e-9)
    assert page <= np.log10(a.gamma)  # the typical factor per step never beats γ


def test_active_share_of_relu(js, preactivations):
    zs = [v for step in preactivations["relu"] for v in step if v is not None]
    assert js("return m.activeShare(arg);", zs) == pytest.approx(np.mean(np.array(zs) > 0), rel=1e-15)


# ---------------------------------------------------------------- small helpers of the explainers


def test_relative_to_last_first_zero_and_log_range(js, live_server):
    body = run(live_server, seq_len=700, hidden_size=32, models=[{"cell": "rnn", "activation": "sigmoid"}])
    g = body["models"][0]["grad_norm"]
    rel, zero = js("return [m.relativeToLast(arg), m.firstZero(arg)];", g)
    expected = array(g) / g[-1]
    expected[~(np.isfinite(expected) & (expected > 0))] = np.nan
    np.testing.assert_allclose(array(rel), expected, rtol=1e-15)
    zeros = [t for t, v in enumerate(g, start=1) if v == 0]
    assert zeros and zero == max(zeros)  # the sigmoid's gradient underflows far back
    assert js("return m.firstZero([1, 2, 3]);") is None
    lo, hi = js("return m.logRange(arg, [1]);", g)
    logs = np.log10([v for v in [*g, 1] if v])
    span = logs.max() - logs.min()
    assert lo == pytest.approx(logs.min() - 0.04 * span) and hi == pytest.approx(logs.max() + 0.04 * span)
    assert js("return m.logRange([0, null, -1]);") == [-1, 1]
