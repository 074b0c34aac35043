"""Every sentence the page writes about a run is true of that run.

static/js/sentences.js chooses each sentence (an i18n key) and the numbers it quotes from the
API's JSON; core/claims.py states the key's claim again on the run's arrays. For a matrix of
runs from the live server's POST /api/runs — every model, T = 20, 100, 1000, gaussian and
impulse input, a σ_max at which relu explodes and one at which tanh saturates, a loss at every
step, a relu RNN whose gradient is cut to 0, the page's default state at seeds 0–9 and over
them — the page's functions are called in Chromium on the answers (one evaluate for all),
each chosen key's claim is checked by the twin, and the numbers in the English and the Korean
text are checked to be the run's (recomputed here, not read from the summary)."""

import math
import re

import httpx
import numpy as np
import pytest
from browser_helpers import offline_page, wait_for

from gradient_flow_lab.core import claims
from gradient_flow_lab.core.activations import ACTIVATIONS
from gradient_flow_lab.core.tasks import Task

pytestmark = pytest.mark.browser

ALL = [{"cell": "rnn", "activation": a} for a in ("sigmoid", "tanh", "relu")] + [
    {"cell": "lstm"},
    {"cell": "gru"},
]
DEFAULT = [{"cell": "rnn", "activation": "sigmoid"}, {"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}]
INCLUDE = ["hidden", "preactivation", "gates"]
SEEDS = list(range(10))


def requests() -> list[dict]:
    out = [
        {"seq_len": T, "input": {"kind": kind}, "models": ALL}
        for T in (20, 100, 1000)
        for kind in ("gaussian", "impulse")
    ]
    out += [
        {"seq_len": T, "models": ALL, "init": {"scheme": "orthogonal", "sigma_max": 3}} for T in (100, 1000)
    ]
    out += [
        {
            "seq_len": 100,
            "models": ALL,
            "init": {"scheme": "orthogonal", "sigma_max": 30},
        },  # saturated φ′ = 0
        {"seq_len": 100, "models": ALL, "loss": {"at": "all"}},
        {
            "seq_len": 100,
            "models": ALL[1:3],
            "init": {"scheme": "identity"},
            "seed": 1,
        },  # relu's gradient cut to 0
    ]
    out += [{"seq_len": 50, "models": DEFAULT, "seed": s} for s in SEEDS]
    return [{**r, "include": INCLUDE} for r in out]


PAGE_SENTENCES = """async (answers) => {
  const s = await import('/static/js/sentences.js');
  const c = await import('/static/js/catalogue.js');
  const i18n = await import('/static/js/i18n.js');
  const trees = answers.map((a) => {
    const T = a.config.seq_len;
    const at = a.config.loss.at;
    const models = s.runModels(a).map((m) => ({ ...m, label: c.modelLabel(m) }));
    const rnns = models.filter((m) => m.cell === 'rnn');
    return {
      headline: s.headline(a),
      untrained: s.untrainedNote(a),
      models: models.map((m, k) => ({
        clause: s.clause(m, T, k === 0),
        reading: s.reading(m, T, at),
        pin: s.pinNumbers(m, T),
        live: [T + 1, T + 2, Math.floor(1.5 * T), 2 * T].map((p) => s.liveLine(m.grad_norm, T, p)),
      })),
      why: rnns.map((m) => s.whyLine(m, s.preactivationHistogram(m.preactivation, m.activation))),
      ceiling: s.ceilingLines(T, rnns.map((m) => ({ ...m, name: m.label }))),
      zigzag: s.zigzagLines(rnns),
      highway: s.highwayLines(T, a.config.init.forget_bias, models.filter((m) => m.cell === 'lstm')),
    };
  });
  // each sentence with its text; ±Infinity and NaN as words (JSON has no numbers for them)
  const sayAll = (x) => JSON.parse(JSON.stringify(x, (k, v) => (v && typeof v === 'object' && 'quotes' in v
    ? { ...v, said: s.say(v) } : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
  const en = sayAll(trees);
  await i18n.setLanguage('ko');
  const ko = sayAll(trees);
  await i18n.setLanguage('en');
  return { en, ko };
}"""


@pytest.fixture(scope="module")
def page(context, live_server):
    page, rec = offline_page(context)
    page.goto(live_server.url + "/")
    wait_for(page, "document.getElementById('chart-why').data !== undefined")
    yield page
    problems = rec.problems()
    page.close()
    assert not problems, problems


@pytest.fixture(scope="module")
def answers(live_server) -> list[dict]:
    with httpx.Client(base_url=live_server.url, timeout=120) as client:
        out = []
        for body in requests():
            r = client.post("/api/runs", json=body)
            assert r.status_code == 200, r.text
            out.append(r.json())
        return out


# what the page's sentences read of a model (the rest stays here: hidden states, every layer's copy)
READ = (
    "label",
    "cell",
    "activation",
    "loss",
    "summary",
    "grad_norm",
    "cell_grad_norm",
    "sign_uniform",
    "preactivation",
)


def for_the_page(answer: dict) -> dict:
    models = [
        {
            **{k: m[k] for k in READ if k in m},
            **({"gates": {"forget": m["gates"]["forget"]}} if m["cell"] == "lstm" else {}),
        }
        for m in answer["models"]
    ]
    return {"config": answer["config"], "models": models}


@pytest.fixture(scope="module")
def said(page, answers) -> dict:
    """Every sentence of every run as the page chooses it, with `said` in English and Korean."""
    return page.evaluate(PAGE_SENTENCES, [for_the_page(a) for a in answers])


def array(values) -> np.ndarray:
    """A JSON array (nulls: not finite) as float64, NaN for null."""
    return np.array(
        [
            [np.nan if v is None else v for v in row]
            if isinstance(row, list)
            else (np.nan if row is None else row)
            for row in values
        ],
        dtype=np.float64,
    )


def dphi_of_z(a):
    """φ′ as a function of z (the core's takes the output φ(z))."""
    return lambda z: a.dphi(a.phi(z))


# ------------------------------------------------------------------ the numbers in the words

SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻·", "0123456789-.")
NUMBER = re.compile(r"(?<![\d.⁰¹²³⁴⁵⁶⁷⁸⁹])(\d+(?:\.\d+)?)(?: × 10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?(?![\d⁰¹²³⁴⁵⁶⁷⁸⁹])")
POWER = re.compile(r"10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹·]+)")


def numbers(text: str) -> list[tuple[float, float]]:
    """The plain numbers written in `text` ("49", "3.1", "2.1 × 10⁻⁵"), each with half a unit
    of its last digit (of its last nonzero digit for a whole number: "19000" may be rounded)."""
    out = []
    for m in NUMBER.finditer(text):
        digits = m.group(1)
        # "19000" may be 3 significant digits' 18734: its zeros are not digits shown
        places = len(digits.split(".")[1]) if "." in digits else -(len(digits) - len(digits.rstrip("0")))
        half = 0.5 * 10**-places if digits != "0" else 0.0
        scale = 10 ** int(m.group(2).translate(SUPERSCRIPT)) if m.group(2) else 1
        out.append((float(digits) * scale, half * scale))
    return out


def says_number(text: str, value: float) -> bool:
    """Whether `text` writes `value`, rounded to the digits it shows."""
    return any(abs(v - value) <= half * (1 + 1e-9) + 1e-12 for v, half in numbers(text))


def says_integer(text: str, n: int) -> bool:
    """Whether `text` writes the whole number n as it is ("49", in "49 steps" or "49단계")."""
    return re.search(rf"(?<![\d.]){n}(?!\d|\.\d)", text) is not None


def says_power(text: str, exponent: float) -> bool:
    """Whether `text` writes 10^exponent as "10⁻³³" or "10⁻³³·²", rounded to the digits it shows."""
    for m in POWER.finditer(text):
        e = m.group(1).translate(SUPERSCRIPT)
        half = 0.5 * 10 ** -(len(e.split(".")[1]) if "." in e else 0)
        if abs(float(e) - exponent) <= half * (1 + 1e-9):
            return True
    return False


def says_ratio(text: str, x: float) -> bool:
    """The ratio 10^x as the page words it: a power of ten, a percentage or "1.3×"."""
    if x <= -1.5 or x >= 1.5:
        return says_power(text, x)
    return says_number(text, 100 * 10**x if x < 0 else 10**x)


def texts(sentence: dict) -> list[str]:
    """The sentence in English and in Korean."""
    return [sentence["en"], sentence["ko"]]


def paired(en, ko):
    """The same tree in the two languages, each sentence {key, quotes, en, ko}."""
    if isinstance(en, dict) and "quotes" in en:
        return {**en, "en": en["said"], "ko": ko["said"]}
    if isinstance(en, dict):
        return {k: paired(en[k], ko[k]) for k in en}
    if isinstance(en, list):
        return [paired(a, b) for a, b in zip(en, ko, strict=True)]
    return en


@pytest.fixture(scope="module")
def runs(answers, said) -> list[tuple[dict, dict]]:
    return list(zip(answers, paired(said["en"], said["ko"]), strict=True))


# ------------------------------------------------------------------ the headline and the cards


def test_the_matrix_meets_every_kind_of_reading(runs):
    keys = {m["reading"]["key"].rsplit(".", 1)[-1] for _, tree in runs for m in tree["models"]}
    assert {"vanished", "kept_all", "exploded", "all", "zero", "cut"} <= keys, keys
    assert keys & {"overflow_forward", "overflow_backward", "overflow_loss"}, keys


def check_gradient_sentence(s: dict, model: dict, T: int) -> None:
    g = array(model["grad_norm"])
    hidden = array(model["hidden"]) if model.get("hidden") else None
    assert claims.gradient_claim(s["key"], s["quotes"], g, hidden, model["loss"]), (
        s["key"],
        s["quotes"],
        s["en"],
    )
    q = s["quotes"]
    if "log10_ratio" in q and s["key"] != "compare.pin.numbers":
        for text in texts(s):
            assert says_ratio(text, claims.log10_ratio(g)), text
    if s["key"] == "compare.pin.numbers" and q.get("log10_ratio") is not None:
        for text in texts(s):
            assert says_power(text, claims.log10_ratio(g)), text
    if "horizon" in q:
        h = claims.horizon(g)
        for text in texts(s):
            assert says_integer(text, T - 1 if h is None else h), text
    if "steps_back" in q:
        for text in texts(s):
            assert says_integer(text, q["steps_back"]), text
    if "t" in q:
        for text in texts(s):
            assert says_integer(text, q["t"]), text
    if s["key"] == "explore.reading.cut":  # the norm it fell from, in one step, to 0
        for text in texts(s):
            assert says_number(text, g[q["zero_at"]]), text


def test_each_reading_and_clause_is_true_of_its_run(runs):
    for answer, tree in runs:
        T = answer["config"]["seq_len"]
        for model, m in zip(answer["models"], tree["models"], strict=True):
            for s in (m["reading"], m["clause"], m["pin"]):
                check_gradient_sentence(s, model, T)


def test_the_headline_quotes_each_models_clause(runs):
    for answer, tree in runs:
        h = tree["headline"]
        T = answer["config"]["seq_len"]
        for text in texts(h):
            assert says_integer(text, T - 1), text
        for m in tree["models"]:
            for lang in ("en", "ko"):
                assert m["clause"][lang] in h[lang]
        assert h["key"] == (
            "explore.headline.all" if answer["config"]["loss"]["at"] == "all" else "explore.headline"
        )


def test_the_live_lines_of_the_backward_sweep(runs):
    for answer, tree in runs:
        for model, m in zip(answer["models"], tree["models"], strict=True):
            g = array(model["grad_norm"])
            for s in m["live"]:
                assert claims.live_claim(s["key"], s["quotes"], g), (s["key"], s["quotes"])
                for text in texts(s):
                    assert says_integer(text, s["quotes"]["t"]), text
                if s["key"] == "explore.card.backward":
                    t = s["quotes"]["t"]
                    for text in texts(s):
                        assert says_ratio(text, math.log10(g[t - 1] / g[-1])), text


def test_the_untrained_line_names_the_runs_seed(runs):
    for answer, tree in runs:
        s = tree["untrained"]
        assert s["key"] == "explore.untrained"  # every model drawn from the seed, none uploaded
        for text in texts(s):
            assert says_integer(text, answer["config"]["seed"]), text


def test_the_seeds_spread_is_the_horizons_of_the_seeds(page, live_server, answers):
    """The card's line over seeds 0–9 (POST /api/runs with `seeds`) against the horizons
    recomputed from the ten single runs' gradients."""
    body = {"seq_len": 50, "models": DEFAULT, "seeds": SEEDS}
    band = httpx.post(live_server.url + "/api/runs", json=body, timeout=120).json()
    singles = answers[-len(SEEDS) :]
    for i, model in enumerate(band["models"]):
        spread = page.evaluate(
            """async ([h, T]) => {
          const s = await import('/static/js/sentences.js');
          const x = s.seedsSpread(h, T);
          return { ...x, en: s.say(x) };
        }""",
            [model["summary"]["memory_horizon"], 50],
        )
        want = claims.horizon_spread(
            [claims.horizon(array(a["models"][i]["grad_norm"])) for a in singles], 50
        )
        assert spread["quotes"] == want
        for name in ("median", "low", "high"):
            assert says_number(spread["en"], want[name]), (spread["en"], want)


# ------------------------------------------------------------------ the explainers


def test_the_why_lines_are_the_runs_preactivations(runs):
    for answer, tree in runs:
        rnns = [m for m in answer["models"] if m["cell"] == "rnn"]
        for model, parts in zip(rnns, tree["why"], strict=True):
            a = ACTIVATIONS[model["activation"]]
            want = claims.preactivation_shares(array(model["preactivation"]), dphi_of_z(a), a.gamma, 8)
            by_key = {p["key"].rsplit(".", 1)[-1]: p for p in parts}
            main = by_key["main"]
            if want["mean_dphi"] is None:
                assert main["quotes"]["mean_dphi"] is None
            else:
                assert main["quotes"]["mean_dphi"] == pytest.approx(want["mean_dphi"], rel=1e-9, abs=1e-15)
                for text in texts(main):
                    assert says_number(text, want["mean_dphi"]), text
            assert main["quotes"]["saturated"] == pytest.approx(want["saturated"], abs=1e-12)
            for text in texts(main):
                assert says_number(text, 100 * want["saturated"]), text
            for name in ("off", "nonfinite"):
                assert (name in by_key) == (want[name] > 0), (name, want)
                if name in by_key:
                    assert by_key[name]["quotes"][name] == pytest.approx(want[name], abs=1e-12)
                    for text in texts(by_key[name]):
                        assert says_number(text, 100 * want[name]), text


def test_the_ceiling_lines_are_the_runs_derivatives(runs):
    for answer, tree in runs:
        T = answer["config"]["seq_len"]
        bound, *lines = tree["ceiling"]
        for text in texts(bound):
            assert says_integer(text, T - 1) and says_power(text, (T - 1) * math.log10(0.25)), text
        rnns = [m for m in answer["models"] if m["cell"] == "rnn"]
        for model, s in zip(rnns, lines, strict=True):
            z = array(model["preactivation"]).ravel()
            z = z[np.isfinite(z)]
            if model["activation"] == "relu":
                share = float((z > 0).mean())
                assert s["quotes"]["active"] == pytest.approx(share, abs=1e-12)
                for text in texts(s):
                    assert says_number(text, 100 * share), text
                continue
            mean = claims.log10_geometric_mean(dphi_of_z(ACTIVATIONS[model["activation"]])(z))
            q = float(s["quotes"]["log10_mean_dphi"])  # "-Infinity" too
            assert q == pytest.approx(mean, rel=1e-9) if np.isfinite(mean) else q == mean
            if np.isfinite(mean):
                for text in texts(s):
                    assert says_number(text, 10**mean) and says_power(text, (T - 1) * mean), text
            else:  # some φ′ is exactly 0: so is the product over the steps
                for text in texts(s):
                    assert "Infinity" not in text and says_number(text, 0), text


def test_the_zigzag_and_highway_lines(runs):
    for answer, tree in runs:
        T = answer["config"]["seq_len"]
        rnns = [m for m in answer["models"] if m["cell"] == "rnn"]
        for model, s in zip(rnns, tree["zigzag"], strict=True):
            u = array(model["sign_uniform"])[1:]
            u = u[np.isfinite(u)]
            if s["key"] == "learn.zigzag.live_one":
                assert (u == 1).all() and s["quotes"]["n"] == len(u)
                for text in texts(s):
                    assert says_integer(text, len(u)), text
            else:
                assert not (u == 1).all()
                for text in texts(s):
                    assert says_number(text, u.mean()), text
        lstms = [m for m in answer["models"] if m["cell"] == "lstm"]
        for model, s in zip(lstms, tree["highway"], strict=True):
            f = array(model["gates"]["forget"])
            c = array(model["cell_grad_norm"])
            for text in texts(s):
                assert (
                    says_number(text, f.mean())
                    and says_number(text, claims.forget_path(f))
                    and says_integer(text, T - 1)
                ), text
            if np.isfinite(c[-1]) and c[-1] > 0:
                for text in texts(s):
                    assert says_number(text, c[0] / c[-1]), text


# ------------------------------------------------------------------ the Train tab


OUTCOMES = [
    ("adding", 0.0099),
    ("adding", 0.01),
    ("adding", 0.12),
    ("adding", 0.16),
    ("adding", None),
    ("temporal_order", 0.995),
    ("temporal_order", 0.99),
    ("temporal_order", 0.5),
    ("temporal_order", 0.28),
]


def test_the_training_verdicts(page):
    """The verdict of each outcome of the `done` event (its `solved` the core's), the status line's
    solved models and the at-chance message, on outcomes at and around the criteria."""
    done = []
    for task, value in OUTCOMES:
        t = Task(task, 20)
        done.append(
            {
                "label": f"{task} {value}",
                "metric": t.metric,
                "value": value,
                "baseline": t.metric_baseline,
                "solved": t.solved(value) if value is not None else False,
            }
        )
    said = page.evaluate(
        """async (done) => {
      const s = await import('/static/js/sentences.js');
      const i18n = await import('/static/js/i18n.js');
      const out = done.map((r) => ({ ...s.verdict(r), en: s.say(s.verdict(r)) }));
      const groups = ['mse', 'accuracy'].map((metric) => {
        const rs = done.filter((r) => r.metric === metric);
        const about = { steps: 100, seconds: '1.0', metric, baseline: rs[0].baseline, seqLen: 20 };
        return s.trainingDone(rs, about);
      });
      // at T = 1 the message cannot say "halve T"
      const accuracy = done.filter((r) => r.metric === 'accuracy');
      const short = s.trainingDone(accuracy, { steps: 100, seconds: '1.0', metric: 'accuracy',
        baseline: accuracy[0].baseline, seqLen: 1 }).chance;
      await i18n.setLanguage('ko');
      done.forEach((r, k) => { out[k].ko = s.say(s.verdict(r)); });
      await i18n.setLanguage('en');
      return { out, groups, short: { key: short.key, en: s.say(short), halve: s.say(groups[1].chance) } };
    }""",
        done,
    )
    for r, s in zip(done, said["out"], strict=True):
        ok = claims.solved(r["metric"], r["value"])
        assert (s["key"] == "train.verdict.solved") == ok, (r, s["key"])
        if r["value"] is not None:
            scale = 1 if r["metric"] == "mse" else 100
            for text in texts(s):
                assert says_number(text, scale * r["value"]) and says_number(text, scale * r["baseline"]), (
                    text
                )
    for metric, group in zip(("mse", "accuracy"), said["groups"], strict=True):
        rs = [r for r in done if r["metric"] == metric]
        assert group["status"]["quotes"]["solved"] == [
            r["label"] for r in rs if claims.solved(metric, r["value"])
        ]
        want = [
            r["label"]
            for r in rs
            if not claims.solved(metric, r["value"]) and claims.at_chance(metric, r["value"], r["baseline"])
        ]
        assert (group["chance"]["quotes"]["at_chance"] if group["chance"] else []) == want
    short = said["short"]
    assert short["key"] == "train.message.chance.short"
    assert "halve" not in short["en"] and "T = 1" in short["en"]
    assert "halve it" in short["halve"]


# ------------------------------------------------------------------ explainer 2's example, W_hh's spectrum

# GET /api/explain/zigzag: the page's own (150 steps at lr 0.5, the run's seed) at seeds 0–3, a
# small lr that never gets near, large ones that go far but stay finite, and one that overflows
ZIGZAGS = [
    *({"seed": s} for s in range(4)),
    {"seed": 7, "steps": 30},
    {"seed": 0, "lr": 0.05},
    {"seed": 2, "lr": 2.0},
    {"seed": 1, "lr": 5.0},
    {"seed": 0, "lr": 10.0, "steps": 2000},
]
MANY = [*ALL, {"cell": "rnn", "activation": "linear"}]
GATED = [{"cell": "lstm"}, {"cell": "gru"}]
# POST /api/runs with the parameters: every model, σ_max below, at and above 1 and 4
SPECTRA = [
    {"models": MANY},
    *({"models": MANY, "init": {"scheme": "orthogonal", "sigma_max": s}} for s in (0.5, 1, 2, 4, 6)),
    {"models": MANY, "init": {"scheme": "identity"}},
    {"models": MANY, "init": {"scheme": "xavier", "sigma_max": 3}, "hidden_size": 48},
    {"models": MANY, "init": {"scheme": "normal", "std": 0.5}, "seed": 3},
    *({"models": [*GATED, m], "init": {"sigma_max": 1.5}} for m in MANY),
    {"models": GATED},
]

PAGE_EXAMPLES = """async ([zigzags, spectra]) => {
  const s = await import('/static/js/sentences.js');
  const { singularValues } = await import('/static/js/spectrum-math.js');
  const i18n = await import('/static/js/i18n.js');
  // the run on screen: of the example's seed, of another, none
  const zigzag = zigzags.map((z) => [z.seed, z.seed + 1, null].map((seed) => s.zigzagPathLines(z, seed)));
  const spectrum = spectra.map((w) => s.spectrumNote(w && singularValues(w)));
  const sayAll = () => JSON.parse(JSON.stringify({ zigzag, spectrum },
    (k, v) => (v && typeof v === 'object' && 'quotes' in v ? { ...v, said: s.say(v) } : v)));
  const en = sayAll();
  await i18n.setLanguage('ko');
  const ko = sayAll();
  await i18n.setLanguage('en');
  return { en, ko };
}"""


def first_w_hh(answer: dict) -> list | None:
    """The W_hh whose spectrum the page draws: the first vanilla RNN's (static/js/main.js)."""
    return next((m["params"]["W_hh"] for m in answer["models"] if m["cell"] == "rnn"), None)


@pytest.fixture(scope="module")
def examples(page, live_server) -> dict:
    with httpx.Client(base_url=live_server.url, timeout=120) as client:
        zigzags = [client.get("/api/explain/zigzag", params=p).json() for p in ZIGZAGS]
        spectra = []
        for body in SPECTRA:
            r = client.post("/api/runs", json={"seq_len": 20, **body, "include": ["params"]})
            assert r.status_code == 200, r.text
            spectra.append(r.json())
    said = page.evaluate(PAGE_EXAMPLES, [zigzags, [first_w_hh(a) for a in spectra]])
    return {"zigzags": zigzags, "spectra": spectra, **paired(said["en"], said["ko"])}


def check_zigzag_path(s: dict, path: np.ndarray, z: dict) -> None:
    """One activation's line against its path w_0…w_steps."""
    assert claims.zigzag_claim(s["key"], s["quotes"], path, z["target"], z["near"]), (s["key"], s["quotes"])
    q = s["quotes"]
    for text in texts(s):
        if s["key"] == "learn.zigzag.live_path_overflow":
            assert says_integer(text, q["overflow_at"]), text
            continue
        length = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())
        assert says_number(text, 100 * q["same_sign"]), text
        assert says_number(text, length) and says_number(text, length / math.sqrt(2)), text
        assert says_integer(text, z["steps"] if q["near"] is None else q["near"]), text
        assert says_integer(text, 10), text  # "within 10 % of the target": z["near"]


def test_the_zigzag_lines_are_true_of_their_paths(examples):
    keys = set()
    for z, each_run in zip(examples["zigzags"], examples["zigzag"], strict=True):
        assert z["near"] == 0.1 and z["start"] == [0, 0] and z["target"] == [1, -1]
        assert [m["activation"] for m in z["models"]] == ["sigmoid", "tanh"]
        paths = [array(m["path"]) for m in z["models"]]
        for run_seed, (setup, *lines) in zip((z["seed"], z["seed"] + 1, None), each_run, strict=True):
            q = setup["quotes"]
            assert claims.zigzag_claim(setup["key"], q, paths[0], z["target"], z["near"], run_seed), q
            for text in texts(setup):
                assert says_integer(text, z["steps"]) and says_integer(text, z["seed"]), text
                assert says_number(text, z["lr"]), text
            for s, path in zip(lines, paths, strict=True):
                check_zigzag_path(s, path, z)
            keys |= {setup["key"], *(s["key"] for s in lines)}
        # explainer 2's text: each sigmoid step moves both weights the same way (or one not at all)
        if np.isfinite(paths[0]).all():
            step = np.diff(paths[0], axis=0)
            assert (step[:, 0] * step[:, 1] >= 0).all()
    assert keys == {
        "learn.zigzag.live_setup",
        "learn.zigzag.live_setup_no_run",
        "learn.zigzag.live_path",
        "learn.zigzag.live_path_never",
        "learn.zigzag.live_path_overflow",
    }, keys


def test_the_spectrum_note_is_w_hhs(examples):
    gammas = {"tanh": ACTIVATIONS["tanh"].gamma, "sigmoid": ACTIVATIONS["sigmoid"].gamma}
    # the note's "1 (tanh's and relu's 1/γ)"
    assert ACTIVATIONS["relu"].gamma == ACTIVATIONS["linear"].gamma == gammas["tanh"] == 1
    regimes = set()
    for answer, s in zip(examples["spectra"], examples["spectrum"], strict=True):
        w = first_w_hh(answer)
        w_hh = None if w is None else np.array(w, dtype=np.float64)
        assert claims.spectrum_claim(s["key"], s["quotes"], w_hh, gammas), (answer["config"], s)
        rnns = [m for m in answer["models"] if m["cell"] == "rnn"]
        assert all(m["params"]["W_hh"] == w for m in rnns)  # one spectrum for all: they share W_hh
        if w_hh is None:
            continue
        q = s["quotes"]
        regimes.add((q["above_tanh"] > 0, q["above_sigmoid"] > 0))
        assert q["sigma_max"] == pytest.approx(rnns[0]["summary"]["sigma_max"], rel=1e-12)
        for text in texts(s):
            assert says_number(text, q["sigma_max"]), text
            for n in (q["n"], q["above_tanh"], q["above_sigmoid"], 1, 4):
                assert says_integer(text, n), text
    assert regimes == {(False, False), (True, False), (True, True)}, regimes
