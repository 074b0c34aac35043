"""The Sweep tab's own numbers (static/js/sweep-plan.js), run in Debian's Chromium against numpy
and the server's: an axis's values from what was typed (numpy's linspace and geomspace), the
seeds, the grid's size (itertools.product), a point's request (the server's `with_value`), the
seeds' median and 10–90 % band (numpy's quantiles), the heatmap's cells and the lines gathered
from results, the rate and ETA.

The module is imported, as the page imports it, into a page of the live server."""

import itertools

import numpy as np
import pytest
from browser_helpers import offline_page, wait_for

from gradient_flow_lab.app.sweeps import with_value

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def js(context, live_server):
    """js(body, arg): the value of `body` (a function body; `s` is sweep-plan.js, `arg` the
    argument) evaluated in the page."""
    page, rec = offline_page(context)
    page.goto(live_server.url + "/?tab=sweep")
    wait_for(page, "document.getElementById('sweep-size').textContent !== ''")

    def evaluate(body: str, arg=None):
        return page.evaluate(
            f"async (arg) => {{ const s = await import('/static/js/sweep-plan.js'); {body} }}", arg
        )

    yield evaluate
    problems = rec.problems()
    page.close()
    assert not problems, problems


def values(js, text, kind="number"):
    return js("return s.parseValues(arg[0], arg[1]);", [text, kind])


# ---------------------------------------------------------------- an axis's values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5, 1, 2, 4", [0.5, 1, 2, 4]),
        ("0.5 1;2", [0.5, 1, 2]),
        ("3", [3]),
        ("-1, 0, 1e-3", [-1, 0, 0.001]),
    ],
)
def test_a_list_is_its_numbers(js, text, expected):
    assert values(js, text) == {"values": expected}


@pytest.mark.parametrize(
    ("start", "stop", "num"), [(0.5, 4, 8), (0, 1, 11), (2, -2, 5), (0.1, 0.3, 3), (7, 9, 1)]
)
def test_a_range_is_numpys_linspace(js, start, stop, num):
    got = values(js, f"{start}:{stop}:{num}")["values"]
    np.testing.assert_allclose(got, np.linspace(start, stop, num), rtol=1e-11, atol=1e-15)
    assert got[0] == start and got[-1] == (stop if num > 1 else start)
    if (start, stop, num) == (0.1, 0.3, 3):
        assert got == [0.1, 0.2, 0.3]  # kept to 12 digits: 0.1 + 0.1 is 0.2 on an axis and in a URL


@pytest.mark.parametrize(("start", "stop", "num"), [(0.1, 10, 5), (1, 1000, 4), (4, 0.5, 4)])
def test_a_log_range_is_numpys_geomspace(js, start, stop, num):
    got = values(js, f"{start}:{stop}:{num}:log")["values"]
    np.testing.assert_allclose(got, np.geomspace(start, stop, num), rtol=1e-11)
    assert js("return s.isGeometric(arg);", got) is True
    assert js("return s.isGeometric(arg);", np.linspace(start, stop, num).tolist()) is False


def test_integers_and_names(js):
    assert values(js, "10, 20, 50", "integer") == {"values": [10, 20, 50]}
    assert values(js, "10:50:5", "integer") == {"values": [10, 20, 30, 40, 50]}
    assert values(js, "10.5, 20", "integer") == {"error": {"code": "integer", "item": "10.5"}}
    assert values(js, "1:2:5", "integer")["error"]["code"] == "repeated"  # 1, 1.25 → 1, 1
    assert values(js, "tanh relu", ["sigmoid", "tanh", "relu"]) == {"values": ["tanh", "relu"]}
    assert values(js, "tanh, gelu", ["sigmoid", "tanh", "relu"]) == {
        "error": {"code": "choice", "item": "gelu", "choices": "sigmoid, tanh, relu"}
    }


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("  ", "empty"),
        ("1, two", "number"),
        ("1:2", "range"),
        ("1:2:3:lin", "range"),
        (":2:3", "range"),
        ("1:2:0", "points"),
        ("1:2:2.5", "points"),
        ("0:1:3:log", "log"),
        ("1, 2, 1", "repeated"),
        ("1, Infinity", "number"),
    ],
)
def test_what_is_wrong_is_named(js, text, code):
    assert values(js, text)["error"]["code"] == code


def test_seeds(js):
    assert js("return s.parseSeeds('0-4, 9');") == {"values": [0, 1, 2, 3, 4, 9]}
    assert js("return s.seedsText([0, 1, 2, 3, 4, 9, 11, 12]);") == "0-4, 9, 11-12"
    for text in ["0-4", "3", "0, 2, 4-6"]:
        parsed = js("return s.parseSeeds(arg).values;", text)
        assert js("return s.parseSeeds(s.seedsText(arg)).values;", parsed) == parsed
    assert js("return s.parseSeeds('4-2');") == {"error": {"code": "seed", "item": "4-2"}}
    assert js("return s.parseSeeds('-1');")["error"]["code"] == "seed"
    assert js("return s.parseSeeds('1, 0-2');") == {"error": {"code": "repeated", "item": "1"}}


# ---------------------------------------------------------------- the grid and its points


def test_the_size_is_the_product(js):
    grid = {"init.sigma_max": [0.5, 1, 2], "seq_len": [20, 40], "input.kind": ["gaussian", "sine"]}
    seeds = [0, 1, 2, 3, 4]
    points = len(list(itertools.product(*grid.values(), seeds)))
    assert js("return s.sweepSize(arg.grid, arg.seeds, 3);", {"grid": grid, "seeds": seeds}) == {
        "points": points,
        "results": 3 * points,
    }


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("init.sigma_max", 2.5),
        ("seq_len", 20),
        ("init.scheme", "orthogonal"),
        ("optimizer.lr", 0.1),
        ("models", [{"cell": "lstm"}]),
        ("loss.at", "all"),
    ],
)
def test_a_points_request_is_the_servers(js, path, value):
    base = {
        "seq_len": 50,
        "init": {"scheme": "xavier", "forget_bias": 1.0},
        "models": [{"cell": "gru"}],
        "seed": 3,
    }
    page = js(
        "return s.pointRequest(arg.base, {[arg.path]: arg.value}, 7);",
        {"base": base, "path": path, "value": value},
    )
    server = {**with_value(base, path, value), "seed": 7}
    assert page == server
    assert js("return arg;", base) == base  # the base is not touched
    assert js("return s.getPath(arg.r, arg.path);", {"r": server, "path": path}) == value


# ---------------------------------------------------------------- statistics over seeds


def test_quantiles_and_the_band_are_numpys(js):
    rng = np.random.default_rng(0)
    for n in [1, 2, 3, 5, 10, 17]:
        x = rng.lognormal(size=n)
        page = js("return s.spread(arg);", [*x.tolist(), None])
        assert page["n"] == n and page["missing"] == 1
        np.testing.assert_allclose(
            [page["lo"], page["median"], page["hi"]], np.quantile(x, [0.1, 0.5, 0.9]), rtol=1e-13
        )
    assert js("return s.spread([null, null]);") == {
        "median": None,
        "lo": None,
        "hi": None,
        "n": 0,
        "missing": 2,
    }


def results_grid(rng, metric="decay_rate"):
    """Synthetic results of a 3 × 2 grid, 5 seeds, 2 models; some null (not finite)."""
    out = []
    for sigma, T, seed, model in itertools.product([0.5, 1.0, 2.0], [20, 40], range(5), range(2)):
        value = None if rng.random() < 0.1 else float(rng.normal(sigma, 0.2))
        out.append(
            {
                "point": {"init.sigma_max": sigma, "seq_len": T},
                "seed": seed,
                "model": model,
                "metrics": {metric: value},
            }
        )
    return out


def test_heat_cells_are_medians_over_the_seeds(js):
    results = results_grid(np.random.default_rng(1))
    page = js(
        """return s.heatCells(arg, {xs: [0.5, 1, 2], ys: [20, 40], dx: (r) => r.point['init.sigma_max'],
                 dy: (r) => r.point.seq_len, metric: 'decay_rate'});""",
        results,
    )
    for j, T in enumerate([20, 40]):
        for i, sigma in enumerate([0.5, 1.0, 2.0]):
            cell = [r for r in results if r["point"] == {"init.sigma_max": sigma, "seq_len": T}]
            finite = [r["metrics"]["decay_rate"] for r in cell if r["metrics"]["decay_rate"] is not None]
            assert page["n"][j][i] == len(cell) == 10
            assert page["z"][j][i] == pytest.approx(float(np.median(finite)), rel=1e-13)
            # what a click opens: a result of the cell whose value is nearest the median
            pick = page["pick"][j][i]["metrics"]["decay_rate"]
            assert abs(pick - np.median(finite)) == pytest.approx(
                min(abs(v - np.median(finite)) for v in finite)
            )


def test_a_success_rate_is_the_share_solved_and_horizons_are_censored_at_T(js):
    results = [
        {"point": {"seq_len": T}, "seed": k, "model": 0, "metrics": {"solved": k < solved}}
        for T, solved in [(10, 5), (20, 3), (40, 0)]
        for k in range(5)
    ]
    page = js(
        """return s.lineSeries(arg, {xs: [10, 20, 40], dx: (r) => r.point.seq_len, series: () => 'one',
                 metric: 'success_rate'});""",
        results,
    )
    assert [p["value"] for p in page[0]["points"]] == [1.0, 0.6, 0.0]
    horizons = [
        {"point": {"seq_len": 30}, "seed": k, "model": 0, "metrics": {"memory_horizon": v}}
        for k, v in enumerate([4, 9, None])
    ]
    cells = js(
        """return s.heatCells(arg, {xs: [30], ys: ['m'], dx: (r) => r.point.seq_len, dy: () => 'm',
                  metric: 'memory_horizon', seqLen: (r) => r.point.seq_len});""",
        horizons,
    )
    assert cells["z"] == [[9]] and cells["censored"] == [[1]]  # median of 4, 9 and (≥ 30 counted as) 30


def test_lines_have_a_band_per_point(js):
    results = results_grid(np.random.default_rng(2))
    page = js(
        """return s.lineSeries(arg, {xs: [0.5, 1, 2], dx: (r) => r.point['init.sigma_max'],
                 series: (r) => `${r.model}|${r.point.seq_len}`, metric: 'decay_rate'});""",
        results,
    )
    assert sorted(s["key"] for s in page) == ["0|20", "0|40", "1|20", "1|40"]
    for series in page:
        model, T = map(int, series["key"].split("|"))
        for p in series["points"]:
            x = [
                r["metrics"]["decay_rate"]
                for r in results
                if r["model"] == model
                and r["point"]["seq_len"] == T
                and r["point"]["init.sigma_max"] == p["x"]
                and r["metrics"]["decay_rate"] is not None
            ]
            np.testing.assert_allclose(
                [p["lo"], p["value"], p["hi"]], np.quantile(x, [0.1, 0.5, 0.9]), rtol=1e-13
            )


def test_pace(js):
    assert js("return s.pace(10, 40, 5);") == {"rate": 2, "eta": 15}
    assert js("return s.pace(0, 40, 5);") == {"rate": None, "eta": None}
    assert js("return s.estimate(40, 2);") == 20


# ---------------------------------------------------------------- a point opened in its tab


def test_a_point_opens_as_its_tabs_url(js):
    run = {
        "models": [{"cell": "lstm", "num_layers": 1, "bidirectional": False, "weights": None}],
        "seq_len": 20,
        "hidden_size": 8,
        "batch_size": 4,
        "input": {"kind": "impulse", "values": None},
        "input_size": None,
        "init": {"scheme": "normal", "std": 0.3, "bias_std": 0.6, "sigma_max": None, "forget_bias": 1.0},
        "loss": {"at": "last", "kind": "mse"},
        "include": [],
        "targets": None,
        "seed": 7,
    }
    body = "const o = await import('/static/js/sweep-open.js'); return o.openLink(arg[0], arg[1], arg[2]);"
    link = js(body, ["run", run, "ko"])
    q = dict(pair.split("=") for pair in link["search"][1:].split("&"))
    assert link["missing"] == [] and "tab" not in q  # the Explore tab is the page's default
    assert (q["models"], q["seq_len"], q["hidden_size"], q["batch_size"], q["input"], q["seed"]) == (
        "lstm",
        "20",
        "8",
        "4",
        "impulse",
        "7",
    )
    assert (q["init"], q["init_std"], q["bias_std"], q["sigma_max"], q["lang"]) == (
        "normal",
        "0.3",
        "0.6",
        "none",
        "ko",
    )
    train = {
        "models": [{"cell": "gru", "activation": None}],
        "task": "copy",
        "seq_len": 10,
        "hidden_size": 16,
        "batch_size": 32,
        "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9},
        "clip": None,
        "steps": 300,
        "eval_every": 50,
        "eval_size": 200,
        "seed": 2,
        "init": {"scheme": "xavier", "std": 0.1, "bias_std": 0.0, "sigma_max": 2.0, "forget_bias": 1.0},
    }
    link = js(body, ["train", train, ""])
    q = dict(pair.split("=") for pair in link["search"][1:].split("&"))
    assert (
        q["tab"],
        q["train_models"],
        q["train_task"],
        q["train_optimizer"],
        q["train_clip"],
        q["train_seed"],
    ) == ("train", "gru", "copy", "sgd", "none", "2")
    assert (q["train_init"], q["train_sigma_max"], q["train_forget_bias"]) == ("xavier", "2", "1")
    assert link["missing"] == []  # the Train tab sets the initialisation too
