"""What the page's sentences about a run claim, stated on the run's numbers.

The twin of static/js/sentences.js: the page chooses a text (an i18n key) from a run's summary
and quotes some of its numbers (the sentence's `quotes`); here each key's claim is written out
again from the arrays themselves — ‖∂L/∂h_t‖ for t = 1..T (index t − 1, NaN where not
finite), the hidden states, the pre-activations — without the summary the page chose from. A
test (tests/test_browser_sentences.py) runs the page's choice on many runs and asks these
functions whether what it said is true. docs/page.md lists every sentence and its claim.

THRESHOLD is the memory horizon's 10⁻³; a quoted log10 is compared with the one recomputed
here to LOG_TOLERANCE (the API's numbers are float64 written as JSON, read back exactly).
"""

import numpy as np

THRESHOLD = 1e-3
# a norm that falls to exactly 0 from below this underflowed; from above it, one step cut it
UNDERFLOW_FROM = 1e-300
EXPLODED = 1e3  # "it exploded": ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ ≥ 10³
LOG_TOLERANCE = 1e-9


def log10_ratio(grad_norm: np.ndarray) -> float:
    """log10(‖∂L/∂h₁‖ / ‖∂L/∂h_T‖), NaN unless both ends are finite and positive."""
    g1, gT = float(grad_norm[0]), float(grad_norm[-1])
    if not (np.isfinite(g1) and np.isfinite(gT) and g1 > 0 and gT > 0):
        return float("nan")
    return float(np.log10(g1) - np.log10(gT))


def horizon(grad_norm: np.ndarray) -> int | None:
    """The memory horizon by its definition (core/analysis.py): the largest k such that
    ‖∂L/∂h_{T−j}‖ ≥ 10⁻³ ‖∂L/∂h_T‖ for every j = 0..k; None when that reaches t = 1. A norm
    that is not finite fails, and k is at least 0."""
    T = len(grad_norm)
    gT = float(grad_norm[-1])
    for j in range(T):
        g = float(grad_norm[T - 1 - j])
        if not (np.isfinite(g) and np.isfinite(gT) and g >= THRESHOLD * gT):
            return max(j - 1, 0)
    return None


def first_nonfinite(rows: np.ndarray) -> int | None:
    """The first t (1..T) whose row of `rows` [T, …] has a value that is not finite."""
    bad = ~np.isfinite(rows.reshape(len(rows), -1)).all(axis=1)
    return int(np.argmax(bad)) + 1 if bad.any() else None


def last_nonfinite(values: np.ndarray) -> int | None:
    """The largest t (1..T) whose value is not finite: the first to go in a sweep from T back."""
    bad = ~np.isfinite(values)
    return int(len(values) - np.argmax(bad[::-1])) if bad.any() else None


def _same_log(quoted, measured: float) -> bool:
    return (
        quoted is not None
        and np.isfinite(measured)
        and abs(quoted - measured) <= LOG_TOLERANCE * max(1, abs(measured))
    )


def _finite(grad_norm: np.ndarray) -> bool:
    return bool(np.isfinite(grad_norm).all())


def gradient_claim(
    key: str, quotes: dict, grad_norm: np.ndarray, hidden: np.ndarray | None = None, loss: float | None = None
) -> bool:
    """Whether a sentence about one model's gradient over T steps is true of `grad_norm` [T]
    (with `hidden` [T, H] and the run's `loss` for the forward sweep's overflow): the headline's
    clauses (explore.clause.*), the cards' readings (explore.reading.*) and a pinned run's line
    (compare.pin.numbers), by the key's last word."""
    T = len(grad_norm)
    g = grad_norm
    r = log10_ratio(g)
    kind = key.rsplit(".", 1)[-1]
    quoted = quotes.get("log10_ratio")
    if kind in ("ratio", "pow", "all"):  # "… is 10⁻³³ of its start", with a loss at every step too
        return _finite(g) and _same_log(quoted, r)
    if kind == "vanished":  # below 10⁻³ at t = 1, and the horizon quoted
        h = horizon(g)
        return (
            _finite(g)
            and _same_log(quoted, r)
            and 10**r <= THRESHOLD
            and h is not None
            and quotes["horizon"] == h
            and quotes["steps_back"] == T - 1
        )
    if kind == "kept":  # within 10⁻³ … 10³ at t = 1, but under 10⁻³ of ‖∂L/∂h_T‖ somewhere between
        h = horizon(g)
        return (
            _finite(g)
            and _same_log(quoted, r)
            and THRESHOLD < 10**r < EXPLODED
            and h is not None
            and quotes["horizon"] == h
            and quotes["steps_back"] == T - 1
        )
    if kind == "kept_all":  # no step under 10⁻³ of ‖∂L/∂h_T‖, and not exploded
        return (
            _finite(g)
            and _same_log(quoted, r)
            and bool((g >= THRESHOLD * g[-1]).all())
            and 10**r < EXPLODED
            and quotes["steps_back"] == T - 1
        )
    if kind == "exploded":
        return _finite(g) and _same_log(quoted, r) and 10**r >= EXPLODED and quotes["steps_back"] == T - 1
    if kind in ("zero", "cut"):  # exactly 0 at t = 1, first reached `steps_back` steps back from T:
        t0 = quotes["zero_at"]  # from a norm under UNDERFLOW_FROM (it underflowed), or over it (cut)
        return (
            _finite(g)
            and g[0] == 0
            and g[t0 - 1] == 0
            and bool((g[t0:] > 0).all())
            and quotes["steps_back"] == T - t0
            and (g[t0] < UNDERFLOW_FROM) == (kind == "zero")
            and _same_log(quotes["from_log10"], float(np.log10(g[t0])))
        )
    if kind == "overflow_backward":  # the forward sweep finite, the gradient not from t on going back
        forward_ok = hidden is None or first_nonfinite(hidden) is None
        return forward_ok and last_nonfinite(g) == quotes["t"]
    if kind == "overflow_loss":  # the loss alone not finite: every state finite
        return loss is None and quotes["t"] == T and (hidden is None or first_nonfinite(hidden) is None)
    if kind == "overflow_forward":  # h_t the first state not finite; the loss and every gradient not finite
        at = first_nonfinite(hidden) if hidden is not None else quotes["t"]
        return at == quotes["t"] and loss is None and not np.isfinite(g).any()
    if kind == "not_finite":
        return not _finite(g)
    if kind == "numbers":  # compare.pin.numbers: the ratio (or why there is none) and the horizon
        ratio_ok = _same_log(quoted, r) if quoted is not None else not (np.isfinite(r) and _finite(g))
        h = quotes["horizon"]
        return ratio_ok and h == horizon(g) and (h is not None or quotes["n"] == T - 1)
    raise ValueError(f"no claim for {key!r}")


def live_claim(key: str, quotes: dict, grad_norm: np.ndarray) -> bool:
    """A card's line during the backward sweep at step t (explore.card.backward*): how ‖∂L/∂h_t‖
    compares with ‖∂L/∂h_T‖."""
    t = quotes["t"]
    gt, gT = float(grad_norm[t - 1]), float(grad_norm[-1])
    if key == "explore.card.backward":
        return (
            np.isfinite(gt)
            and np.isfinite(gT)
            and gt > 0
            and _same_log(quotes["log10_ratio"], np.log10(gt / gT))
        )
    if key == "explore.card.backward.zero":  # underflowed: from under UNDERFLOW_FROM at t + 1 (or t = T)
        return gt == 0 and (t == len(grad_norm) or float(grad_norm[t]) < UNDERFLOW_FROM)
    if key == "explore.card.backward.cut":  # cut: from a norm over UNDERFLOW_FROM at t + 1
        return (gt == 0 and t < len(grad_norm) and float(grad_norm[t]) >= UNDERFLOW_FROM
                and _same_log(quotes["from_log10"], float(np.log10(grad_norm[t]))))
    if key == "explore.card.backward.overflow":
        return not (np.isfinite(gt) and np.isfinite(gT))
    raise ValueError(f"no claim for {key!r}")


def horizon_spread(horizons: list[int | None], T: int) -> dict:
    """The median, lowest and highest memory horizon over seeds, a horizon of "all" counted as T − 1."""
    h = np.array([T - 1 if v is None else v for v in horizons], dtype=np.float64)
    return {"median": float(np.median(h)), "low": float(h.min()), "high": float(h.max())}


def preactivation_shares(z: np.ndarray, dphi, gamma: float, z_max: float) -> dict:
    """Explainer "why"'s numbers of pre-activations z [T, H] (NaN: not finite): the arithmetic
    mean of φ′ over the finite ones, and as shares of all: φ′ < γ/10 (saturated), z outside
    [−z_max, z_max) (off the chart), not finite."""
    z = np.asarray(z, dtype=np.float64).ravel()
    finite = z[np.isfinite(z)]
    d = dphi(finite)
    return {
        "mean_dphi": float(d.mean()) if finite.size else None,
        "saturated": float((d < 0.1 * gamma).sum() / z.size),
        "off": float(((finite < -z_max) | (finite >= z_max)).sum() / z.size),
        "nonfinite": float((~np.isfinite(z)).sum() / z.size),
    }


def log10_geometric_mean(values: np.ndarray) -> float:
    """log10 of the geometric mean of `values` (−∞ when one is 0)."""
    with np.errstate(divide="ignore"):
        return float(np.mean(np.log10(values)))


def forget_path(forget: np.ndarray) -> float:
    """The mean over units of Π_{k=2..T} f_k (forget [T, H]): how much of c_T the cell-state
    path alone carries back to c_1."""
    return float(np.prod(forget[1:], axis=0).mean())


def zigzag_claim(
    key: str, quotes: dict, path: np.ndarray, target, near: float, run_seed: int | None = None
) -> bool:
    """Whether a line of explainer 2's worked example (learn.zigzag.live_setup*, live_path*) is
    true of the path w_0…w_steps it quotes (`path` [steps + 1, 2], NaN where not finite), the
    target w* and the fraction `near` of the starting distance that counts as "within" (0.1).
    A step n moved both weights the same way when Δw_n = w_{n+1} − w_n has two components of one
    sign; a component whose update was below float64's rounding of the weight did not move
    (Δ = 0), and either way is then allowed: the quoted share lies between the steps that surely
    did (Δ₁Δ₂ > 0) and those that did not surely not (Δ₁Δ₂ ≥ 0)."""
    kind = key.rsplit(".", 1)[-1]
    if kind == "live_setup":  # the samples are the run's seed's
        return run_seed is not None and quotes["seed"] == run_seed and quotes["steps"] == len(path) - 1
    if kind == "live_setup_no_run":  # no run on screen, or one of another seed
        return quotes["seed"] != run_seed and quotes["steps"] == len(path) - 1
    finite = np.isfinite(path).all(axis=1)
    if kind == "live_path_overflow":  # w_at the first weights that are not finite
        return not finite.all() and int(np.argmin(finite)) == quotes["overflow_at"]
    if not finite.all() or quotes["steps"] != len(path) - 1:
        return False
    step = np.diff(path, axis=0)
    both = step[:, 0] * step[:, 1]
    surely, maybe = float((both > 0).mean()), float((both >= 0).mean())
    length = float(np.linalg.norm(step, axis=1).sum())
    distance = np.linalg.norm(path - np.asarray(target, dtype=np.float64), axis=1)
    reached = np.flatnonzero(distance <= near * distance[0])
    shape_ok = (
        surely - 1e-12 <= quotes["same_sign"] <= maybe + 1e-12
        and _same_log(quotes["length"], length)
        and _same_log(quotes["ratio"], length / distance[0])
    )
    if kind == "live_path":  # within `near` of the target first after `near` steps
        return shape_ok and reached.size > 0 and int(reached[0]) == quotes["near"]
    if kind == "live_path_never":
        return shape_ok and reached.size == 0 and quotes["near"] is None
    raise ValueError(f"no claim for {key!r}")


RANK_TOLERANCE = 1e-9  # a singular value within this of 1/γ (relative) is at it, not above


def spectrum_claim(key: str, quotes: dict, w_hh: np.ndarray | None, gammas: dict) -> bool:
    """Whether the note under W_hh's singular values (explore.spectrum.note, .none) is true of the
    run's recurrent matrix `w_hh` [H, H] (None: the run has no vanilla RNN): σ_max and how many
    singular values lie above 1/γ (more than RANK_TOLERANCE above) for each activation's γ in
    `gammas` ({"tanh": 1, "sigmoid": 0.25})."""
    if key == "explore.spectrum.none":
        return w_hh is None
    if key != "explore.spectrum.note":
        raise ValueError(f"no claim for {key!r}")
    if w_hh is None:
        return False
    s = np.linalg.svd(np.asarray(w_hh, dtype=np.float64), compute_uv=False)
    above = {name: int((s > (1 / g) * (1 + RANK_TOLERANCE)).sum()) for name, g in gammas.items()}
    return (
        abs(quotes["sigma_max"] - s[0]) <= 1e-12 * s[0]
        and quotes["n"] == len(s)
        and all(quotes[f"above_{name}"] == n for name, n in above.items())
    )


def solved(metric: str, value: float | None) -> bool:
    """A task is solved by a held-out squared error below 0.01, or an accuracy above 99 %."""
    if value is None or not np.isfinite(value):
        return False
    return value < 0.01 if metric == "mse" else value > 0.99


def at_chance(metric: str, value: float | None, baseline: float) -> bool:
    """No better than remembering nothing: an accuracy within 5 points of chance, a squared error
    at 90 % of the memoryless baseline's or more, or a metric that is not finite."""
    if value is None or not np.isfinite(value):
        return True
    return value >= 0.9 * baseline if metric == "mse" else value <= baseline + 0.05
