"""Worked examples for the page's explainers, small enough to compute on every request.

The zig-zag (LeCun et al. 1998, "Efficient BackProp" §4.3): a linear unit y = a·w fed by
features a = φ(x). The gradient of one sample's loss ½(y − y*)² is e·a with e = y − y*, so
when every feature is positive (sigmoid outputs) both weights of a step move the same way:
the path from w_0 to a target whose weights have opposite signs can only advance by
alternating steps towards (+,+) and (−,−), a staircase. Zero-centred features (tanh) let a
step point anywhere, and the path heads for the target.
"""

from dataclasses import asdict, dataclass

import numpy as np

from gradient_flow_lab.core.activations import get_activation

ZIGZAG_START = (0.0, 0.0)
ZIGZAG_TARGET = (1.0, -1.0)  # weights of opposite sign: the direction sigmoid features cannot take
ZIGZAG_NEAR = 0.1  # "reached": within this fraction of the starting distance to the target


@dataclass
class Descent:
    activation: str
    path: np.ndarray  # [steps + 1, 2]: w_0 … w_steps
    loss: np.ndarray  # [steps + 1]: ½ mean_n ((w − w*)·a_n)² over the samples, at each w
    same_sign: np.ndarray  # [steps]: the step's two gradient components share a sign (or one is 0)
    path_length: float  # Σ ‖w_{n+1} − w_n‖
    direct_length: float  # ‖w* − w_0‖
    steps_to_near: int | None  # the first n with ‖w_n − w*‖ ≤ ZIGZAG_NEAR ‖w_0 − w*‖


def zigzag_samples(steps: int, seed: int) -> np.ndarray:
    """x_n ~ N(0, I₂), n = 1..steps [steps, 2]: the same for every activation."""
    return np.random.default_rng([seed, 7]).standard_normal((steps, 2))


def sample_grad(w: np.ndarray, a: np.ndarray, y_target: float) -> np.ndarray:
    """∂/∂w of ½(a·w − y*)²: (a·w − y*) a."""
    return (a @ w - y_target) * a


def zigzag_descent(activation: str, steps: int = 150, lr: float = 0.5, seed: int = 0) -> Descent:
    """Stochastic gradient descent, one sample per step, from ZIGZAG_START towards the
    teacher's weights ZIGZAG_TARGET (y*_n = a_n·w*), on features a_n = φ(x_n)."""
    phi = get_activation(activation).phi
    A = phi(zigzag_samples(steps, seed))  # [steps, 2]
    w_target = np.array(ZIGZAG_TARGET)
    w = np.array(ZIGZAG_START)
    path = np.empty((steps + 1, 2))
    path[0] = w
    same = np.empty(steps, dtype=bool)
    with np.errstate(all="ignore"):  # a large lr diverges: a result, not an error
        for n, a in enumerate(A):
            g = sample_grad(w, a, a @ w_target)
            same[n] = g[0] * g[1] >= 0
            w = w - lr * g
            path[n + 1] = w
        d = path - w_target
        gram = A.T @ A / steps  # mean a aᵀ: the loss is ½ dᵀ G d
        loss = 0.5 * np.einsum("ni,ij,nj->n", d, gram, d)
        distance = np.linalg.norm(d, axis=1)
        path_length = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())
    near = distance <= ZIGZAG_NEAR * distance[0]
    return Descent(activation, path, loss, same, path_length, float(distance[0]),
                   int(np.argmax(near)) if near.any() else None)


# --- the lessons and their claims ---------------------------------------------------------------
#
# A lesson is a set of page states (the first its own, the others its "now try" variants), each
# in the page URL's words (static/js/state.js PROPS: "models", "seq_len", …; every key that the
# run or the training depends on is named, so nothing rests on the page's defaults), and the
# claims its text makes about that state's run. A claim is data — a kind from CLAIM_KINDS, a
# model's catalogue key, a threshold — checked here on the core's results (tests/test_lessons.py,
# on the state's own seed and on seeds 0–9) and on the page by static/js/lessons.js's twin of
# `claim_holds`, which shows each claim with ✓ and the number it was checked on. The sentences
# come from the claim's kind (static/i18n: lessons.claim.<kind>), so a claim and its words cannot
# drift apart. `seeds`: where a claim depends on the seed, the seeds of 0–9 on which it holds
# (the page says so); None: it holds on all ten.

CLAIM_SEEDS = tuple(range(10))

CLAIM_KINDS = {
    # explorer runs: the model's summary and series
    "horizon_all": "its gradient stays above 10⁻³ of its value at T back to t = 1 (memory horizon: all)",
    "horizon_max": "memory horizon ≤ value steps",
    "ratio_max": "log10(‖∂L/∂h_1‖ / ‖∂L/∂h_T‖) ≤ value (a gradient cut to exactly 0 counts as −∞)",
    "ratio_min": "log10(‖∂L/∂h_1‖ / ‖∂L/∂h_T‖) ≥ value",
    "grad_zero": "‖∂L/∂h_1‖ = 0 exactly, with no overflow (every unit was off at some step)",
    "keeps_more": "the model's log10 ratio is above `other`'s",
    "under_bound": "‖∂L/∂h_t‖ ≤ ‖∂L/∂h_T‖ (γσ_max)^(T−t) at every t (loss at T)",
    "sign_uniform_all": "every step's ∂L/∂W_hh column is sign-uniform (the statistic is 1 at t = 2..T)",
    "sign_uniform_mean_max": "the statistic's mean over t = 2..T ≤ value",
    "cell_ratio_min": "log10(‖∂L/∂c_1‖ / ‖∂L/∂c_T‖) ≥ value",
    "cell_ratio_max": "log10(‖∂L/∂c_1‖ / ‖∂L/∂c_T‖) ≤ value",
    # trainings: the final held-out metric
    "metric_max": "the final held-out metric is finite and ≤ value",
    "metric_min": "the final held-out metric is ≥ value, or not finite",
}


@dataclass(frozen=True)
class Claim:
    kind: str
    model: str  # the catalogue key of the model it is about
    value: float | None = None
    other: str | None = None  # keeps_more: the model it is compared with
    seeds: tuple[int, ...] | None = None  # where it varies: the seeds of CLAIM_SEEDS it holds on


@dataclass(frozen=True)
class LessonState:
    key: str  # "main", or the variant's name
    tab: str  # "explore" | "train"
    settings: dict  # the page's state keys and values
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class Lesson:
    id: str
    look: str  # the CSS selector of the part of the page to look at
    states: tuple[LessonState, ...]


# every key an explorer lesson names (the rest of the page's state does not change the run but
# its playback), and a training lesson's
RUN_KEYS = ("models", "seq_len", "hidden_size", "input", "init", "sigma_max", "forget_bias", "loss", "seed")
TRAIN_KEYS = ("train_models", "train_task", "train_seq_len", "train_hidden_size", "train_batch_size",
              "train_optimizer", "train_lr", "train_momentum", "train_clip", "train_steps",
              "train_eval_every", "train_eval_size", "train_seed")


def _run(models, seq_len=50, input="gaussian", init="xavier", sigma_max="none", forget_bias="1"):
    return {"models": list(models), "seq_len": str(seq_len), "hidden_size": "16", "input": input,
            "init": init, "sigma_max": sigma_max, "forget_bias": forget_bias, "loss": "last", "seed": "0"}


def _explore(key, settings, *claims):
    return LessonState(key, "explore", settings, claims)


# a tanh RNN trained by SGD with momentum on a short adding problem: its gradient explodes now
# and then, and one unclipped step throws the weights away (seeds 0–9: the held-out MSE ends
# at 0.14–1.7 with clipping at 1, above 10¹⁰⁰ without)
CLIP_TRAINING = {
    "train_models": ["rnn-tanh"], "train_task": "adding", "train_seq_len": "20", "train_hidden_size": "32",
    "train_batch_size": "32", "train_optimizer": "sgd", "train_lr": "0.1", "train_momentum": "0.9",
    "train_clip": "1", "train_steps": "150", "train_eval_every": "50", "train_eval_size": "200",
    "train_seed": "0",
}
IRNN_DEAD_SEEDS = (1, 4)  # seeds of 0–9 on which the identity-started relu RNN's gradient is cut to 0
IRNN_ALIVE = tuple(s for s in CLAIM_SEEDS if s not in IRNN_DEAD_SEEDS)

LESSONS = (
    Lesson("sigmoid-tanh", "#chart-flow", (
        _explore("main", _run(["rnn-sigmoid", "rnn-tanh"], sigma_max="1"),
                 Claim("ratio_max", "rnn-sigmoid", -30), Claim("keeps_more", "rnn-tanh", other="rnn-sigmoid"),
                 Claim("under_bound", "rnn-sigmoid"), Claim("under_bound", "rnn-tanh")),
    )),
    Lesson("crossing", "#explain-bound", (
        _explore("main", _run(["rnn-sigmoid", "rnn-tanh"], 100, "impulse", "orthogonal", "1.5"),
                 Claim("ratio_min", "rnn-tanh", 0), Claim("ratio_max", "rnn-sigmoid", -30),
                 Claim("under_bound", "rnn-tanh")),
        _explore("below", _run(["rnn-sigmoid", "rnn-tanh"], 100, "impulse", "orthogonal", "0.9"),
                 Claim("ratio_max", "rnn-tanh", -3), Claim("ratio_max", "rnn-sigmoid", -30),
                 Claim("under_bound", "rnn-tanh")),
    )),
    Lesson("impulse", "#chart-flow", (
        _explore("main", _run(["rnn-sigmoid", "rnn-tanh", "lstm", "gru"], 100, "impulse", "orthogonal", "1"),
                 Claim("horizon_max", "rnn-sigmoid", 10), Claim("horizon_all", "rnn-tanh"),
                 Claim("horizon_all", "lstm"), Claim("horizon_max", "gru", 30)),
    )),
    Lesson("forget-bias", "#explain-highway", (
        _explore("main", _run(["rnn-tanh", "lstm"], 100, "impulse", forget_bias="0"),
                 Claim("cell_ratio_max", "lstm", -8)),
        _explore("bias3", _run(["rnn-tanh", "lstm"], 100, "impulse", forget_bias="3"),
                 Claim("cell_ratio_min", "lstm", -1), Claim("keeps_more", "lstm", other="rnn-tanh")),
    )),
    Lesson("zigzag", "#explain-zigzag", (
        _explore("main", _run(["rnn-sigmoid", "rnn-tanh"], 30),
                 Claim("sign_uniform_all", "rnn-sigmoid"), Claim("sign_uniform_mean_max", "rnn-tanh", 0.1)),
    )),
    Lesson("irnn", "#chart-flow", (
        _explore("main", _run(["rnn-relu", "rnn-tanh"], 100, init="identity"),
                 Claim("ratio_min", "rnn-relu", -1, seeds=IRNN_ALIVE),
                 Claim("keeps_more", "rnn-relu", other="rnn-tanh", seeds=IRNN_ALIVE),
                 Claim("ratio_max", "rnn-tanh", -3, seeds=(0, 1, 2, 4, 5, 6, 7, 8, 9))),
        _explore("dead", {**_run(["rnn-relu", "rnn-tanh"], 100, init="identity"), "seed": "1"},
                 Claim("grad_zero", "rnn-relu", seeds=IRNN_DEAD_SEEDS)),
        _explore("xavier", _run(["rnn-relu", "rnn-tanh"], 100),
                 Claim("ratio_max", "rnn-relu", -1)),
    )),
    Lesson("clipping", "#panel-train", (
        LessonState("main", "train", CLIP_TRAINING, (Claim("metric_max", "rnn-tanh", 10),)),
        LessonState("off", "train", {**CLIP_TRAINING, "train_clip": "none"},
                    (Claim("metric_min", "rnn-tanh", 1e100),)),
    )),
)


def lessons_as_dicts() -> list[dict]:
    """The lessons as plain data (for JSON: the page builds its lesson list and checks from it)."""
    return [asdict(lesson) for lesson in LESSONS]


def claim_holds(claim: Claim, models: dict, metric: dict | None = None) -> tuple[bool, float | None]:
    """Whether `claim` holds, and the number it was judged on (log10 ratios, horizons (None:
    all), fractions, the metric). `models`: catalogue key → the run's `core.run.ModelResult`
    (or any object with its `summary`, `grad_norm`, `bound`, `sign_uniform`, `cell_grad_norm`);
    `metric`: catalogue key → a training's final held-out metric."""
    kind = claim.kind
    if kind in ("metric_max", "metric_min"):
        v = metric[claim.model]
        finite = bool(np.isfinite(v))
        return (finite and v <= claim.value) if kind == "metric_max" else (not finite or v >= claim.value), v
    m = models[claim.model]
    u = m.summary
    overflow = u["overflow_step"] is not None
    if kind == "horizon_all":
        return not overflow and u["memory_horizon"] is None, u["memory_horizon"]
    if kind == "horizon_max":
        h = u["memory_horizon"]
        return not overflow and h is not None and h <= claim.value, h
    if kind in ("ratio_max", "ratio_min", "grad_zero"):
        r = _ratio(m)
        if kind == "grad_zero":
            return r == -np.inf, r
        holds = r <= claim.value if kind == "ratio_max" else np.isfinite(r) and r >= claim.value
        return bool(holds), r
    if kind == "keeps_more":
        r, r_other = _ratio(m), _ratio(models[claim.other])
        return bool(r > r_other), r
    if kind == "under_bound":
        g = m.grad_norm
        with np.errstate(all="ignore"):
            ok = g <= g[-1] * m.bound * (1 + 1e-9)
        return bool(ok.all()), None
    if kind in ("sign_uniform_all", "sign_uniform_mean_max"):
        s = m.sign_uniform[1:]
        mean = float(np.mean(s))
        return bool(np.all(s == 1.0)) if kind == "sign_uniform_all" else mean <= claim.value, mean
    if kind in ("cell_ratio_min", "cell_ratio_max"):
        c = m.cell_grad_norm
        with np.errstate(all="ignore"):
            r = float(np.log10(c[0]) - np.log10(c[-1]))
        holds = r >= claim.value if kind == "cell_ratio_min" else r <= claim.value
        return bool(np.isfinite(r) and holds), r
    raise ValueError(f"unknown claim kind {kind!r}; choose from {list(CLAIM_KINDS)}")


def _ratio(m) -> float:
    """log10(‖∂L/∂h_1‖ / ‖∂L/∂h_T‖); −∞ for a gradient cut to 0 without overflow, NaN on overflow."""
    if m.summary["overflow_step"] is not None:
        return float("nan")
    g = m.grad_norm
    if g[0] == 0 and g[-1] > 0:
        return -np.inf
    return float(m.summary["log10_grad_ratio"])
