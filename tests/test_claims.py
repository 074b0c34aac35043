"""core/claims.py, the sentences' claims, on hand-made gradients: zeros, overflow (∞ and NaN),
a ratio exactly at the 10⁻³ threshold. The page's choices are checked against it on real runs
in tests/test_browser_sentences.py."""

import numpy as np
import pytest

from gradient_flow_lab.core import analysis, claims
from gradient_flow_lab.core.tasks import Task

NAN, INF = np.nan, np.inf

GRADIENTS = [
    [1.0, 1.0, 1.0, 1.0],
    [1e-3, 1.0],  # exactly at the threshold: still holds
    [0.999e-3, 1.0],
    [1e-5, 1e-2, 1.0, 1.0],
    [1.0, 1e-9, 1.0, 1.0],  # a dip, t = 1 recovered
    [0.0, 0.0, 1e-300, 1.0],
    [NAN, 1.0, 1.0],
    [1.0, INF, 1.0],  # a norm past float64 fails too
    [1.0, 1.0, NAN],
    [5.0],
]


@pytest.mark.parametrize("g", GRADIENTS)
def test_the_horizon_is_the_cores(g):
    assert claims.horizon(np.array(g)) == analysis.memory_horizon(np.array(g))


def q(g, **quotes):
    """The quotes of a sentence about `g`: its log10 ratio and T − 1 steps back, and `quotes`."""
    return {"log10_ratio": claims.log10_ratio(np.array(g)), "steps_back": len(g) - 1, **quotes}


@pytest.mark.parametrize(
    ("key", "g", "quotes", "holds"),
    [
        ("explore.reading.vanished", [1e-5, 1e-2, 1.0, 1.0], {"horizon": 2}, True),
        ("explore.reading.vanished", [1e-5, 1e-2, 1.0, 1.0], {"horizon": 3}, False),  # the wrong horizon
        ("explore.reading.vanished", [1e-3, 1.0], {"horizon": 0}, False),  # exactly 10⁻³ is kept
        ("explore.reading.kept_all", [1e-3, 1.0], {}, True),
        ("explore.reading.kept_all", [0.999e-3, 1.0], {}, False),
        ("explore.reading.kept_all", [1.0, 1e-9, 1.0, 1.0], {}, False),  # a step under the threshold
        ("explore.reading.kept", [1.0, 1e-9, 1.0, 1.0], {"horizon": 1}, True),
        ("explore.reading.kept", [1.0, 1.0, 1.0, 1.0], {"horizon": 1}, False),
        ("explore.reading.exploded", [1e3, 1.0], {}, True),
        ("explore.reading.exploded", [999.0, 1.0], {}, False),
        ("explore.reading.exploded", [INF, 1.0], {}, False),  # not finite: an overflow, not a ratio
        ("explore.clause.first.ratio", [0.5, 1.0], {}, True),
        ("explore.clause.rest.pow", [NAN, 1.0], {}, False),
    ],
)
def test_readings(key, g, quotes, holds):
    assert claims.gradient_claim(key, q(g, **quotes), np.array(g)) is holds


def test_a_gradient_that_underflowed_or_was_cut_to_zero():
    """Exactly 0 from 10⁻³¹⁰ (under UNDERFLOW_FROM): it underflowed; from 0.79 in one step (a dead
    relu, a saturated unit): it was cut — each said of its own run only."""
    under = np.array([0.0, 0.0, 1e-310, 1.0])
    cut = np.array([0.0, 0.0, 0.79, 1.0])
    said = {"zero_at": 2, "steps_back": 2}
    assert claims.gradient_claim("explore.reading.zero", {**said, "from_log10": np.log10(1e-310)}, under)
    assert not claims.gradient_claim("explore.reading.cut", {**said, "from_log10": np.log10(1e-310)}, under)
    assert claims.gradient_claim("explore.reading.cut", {**said, "from_log10": np.log10(0.79)}, cut)
    assert not claims.gradient_claim("explore.reading.zero", {**said, "from_log10": np.log10(0.79)}, cut)
    misquoted = {**said, "from_log10": np.log10(0.8)}
    assert not claims.gradient_claim("explore.reading.cut", misquoted, cut)
    assert not claims.gradient_claim(
        "explore.reading.zero", {"zero_at": 1, "steps_back": 3, "from_log10": -310}, under
    )  # not the first
    assert not claims.gradient_claim(
        "explore.reading.zero", {"zero_at": 3, "steps_back": 1, "from_log10": 0}, under
    )  # not 0 there
    assert not claims.gradient_claim(
        "explore.reading.zero", {"zero_at": 2, "steps_back": 2, "from_log10": 0}, np.array([1.0, 0.0, 1.0])
    )


def test_overflows():
    g = np.array([NAN, NAN, 3.0, 2.0, 1.0])
    finite_states = np.ones((5, 2))
    assert claims.gradient_claim("explore.reading.overflow_backward", {"t": 2}, g, finite_states, 1.0)
    assert not claims.gradient_claim("explore.reading.overflow_backward", {"t": 1}, g, finite_states, 1.0)
    states = np.ones((5, 2))
    states[3:, 1] = INF
    none = np.full(5, NAN)
    assert claims.gradient_claim("explore.reading.overflow_forward", {"t": 4}, none, states, None)
    assert not claims.gradient_claim("explore.reading.overflow_forward", {"t": 5}, none, states, None)
    assert not claims.gradient_claim(
        "explore.reading.overflow_forward", {"t": 4}, g, states, None
    )  # g finite
    # the loss alone: every state finite, the gradient finite near T
    assert claims.gradient_claim("explore.reading.overflow_loss", {"t": 5}, g, finite_states, None)
    assert not claims.gradient_claim("explore.reading.overflow_loss", {"t": 5}, g, states, None)
    assert claims.gradient_claim("explore.clause.first.not_finite", {}, g)
    assert not claims.gradient_claim("explore.clause.first.not_finite", {}, np.ones(3))


def test_live_lines():
    g = np.array([0.0, 1e-2, INF, 1.0])
    assert claims.live_claim("explore.card.backward", {"t": 2, "log10_ratio": -2.0}, g)
    assert not claims.live_claim("explore.card.backward", {"t": 2, "log10_ratio": -2.1}, g)
    assert claims.live_claim("explore.card.backward.cut", {"t": 1, "from_log10": -2.0}, g)  # from 10⁻²
    assert not claims.live_claim("explore.card.backward.zero", {"t": 1}, g)
    under = np.array([0.0, 1e-320, 1.0])
    assert claims.live_claim("explore.card.backward.zero", {"t": 1}, under)
    assert not claims.live_claim("explore.card.backward.cut", {"t": 1, "from_log10": -320}, under)
    assert claims.live_claim("explore.card.backward.overflow", {"t": 3}, g)
    assert not claims.live_claim("explore.card.backward.overflow", {"t": 2}, g)


def test_pinned_numbers():
    g = np.array([1e-5, 1e-2, 1.0, 1.0])
    assert claims.gradient_claim("compare.pin.numbers", {"log10_ratio": -5.0, "horizon": 2}, g)
    assert not claims.gradient_claim("compare.pin.numbers", {"log10_ratio": -5.0, "horizon": None, "n": 3}, g)
    assert claims.gradient_claim("compare.pin.numbers", {"horizon": 0}, np.array([NAN, NAN, 1.0]))


def test_shares_of_preactivations():
    z = np.array([[0.0, 9.0], [-8.5, NAN]])
    shares = claims.preactivation_shares(z, lambda x: 1 - np.tanh(x) ** 2, 1.0, 8)
    assert shares["nonfinite"] == 0.25 and shares["off"] == 0.5 and shares["saturated"] == 0.5
    assert shares["mean_dphi"] == pytest.approx(np.mean(1 - np.tanh([0.0, 9.0, -8.5]) ** 2))


def test_the_spread_over_seeds():
    assert claims.horizon_spread([3, None, 7, 5], 50) == {"median": 6.0, "low": 3.0, "high": 49.0}


@pytest.mark.parametrize("task", ["adding", "temporal_order"])
@pytest.mark.parametrize("value", [0.0099, 0.01, 0.5, 0.99, 0.995, NAN])
def test_solved_is_the_tasks(task, value):
    assert claims.solved(Task(task, 20).metric, value) == (
        np.isfinite(value) and Task(task, 20).solved(value)
    )


def test_at_chance():
    assert claims.at_chance("mse", 0.16, 1 / 6) and not claims.at_chance("mse", 0.12, 1 / 6)
    assert claims.at_chance("accuracy", 0.3, 0.25) and not claims.at_chance("accuracy", 0.31, 0.25)
    assert claims.at_chance("accuracy", None, 0.25)


# explainer 2's example: a staircase of 4 steps to w* = (1, −1), the last one reaching it
STAIRS = np.array([[0.0, 0.0], [0.5, 0.5], [0.5, -0.5], [1.0, 0.0], [1.0, -1.0]])


def path_quotes(path, **quotes):
    length = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())
    return {"length": length, "ratio": length / np.sqrt(2), "steps": len(path) - 1, **quotes}


def test_the_zigzag_paths():
    # steps: (+,+), (0,−) not moving w₁, (+,+), (0,−): 2 surely alike, 4 alike or one still
    ok = path_quotes(STAIRS, same_sign=0.5, near=4)
    assert claims.zigzag_claim("learn.zigzag.live_path", ok, STAIRS, (1, -1), 0.1)
    assert claims.zigzag_claim("learn.zigzag.live_path", {**ok, "same_sign": 1.0}, STAIRS, (1, -1), 0.1)
    assert not claims.zigzag_claim("learn.zigzag.live_path", {**ok, "same_sign": 0.25}, STAIRS, (1, -1), 0.1)
    assert not claims.zigzag_claim("learn.zigzag.live_path", {**ok, "near": 3}, STAIRS, (1, -1), 0.1)
    assert not claims.zigzag_claim("learn.zigzag.live_path", {**ok, "length": 3.0}, STAIRS, (1, -1), 0.1)
    short = STAIRS[:4]
    never = path_quotes(short, same_sign=2 / 3, near=None)
    assert claims.zigzag_claim("learn.zigzag.live_path_never", never, short, (1, -1), 0.1)
    assert not claims.zigzag_claim("learn.zigzag.live_path_never", never, short, (1, 0), 0.1)  # w_3 is it
    gone = np.vstack([STAIRS, [[INF, NAN], [NAN, NAN]]])
    assert claims.zigzag_claim("learn.zigzag.live_path_overflow", {"overflow_at": 5}, gone, (1, -1), 0.1)
    assert not claims.zigzag_claim("learn.zigzag.live_path_overflow", {"overflow_at": 6}, gone, (1, -1), 0.1)
    assert not claims.zigzag_claim("learn.zigzag.live_path", ok, gone, (1, -1), 0.1)


def test_the_zigzag_setup():
    q = {"steps": 4, "lr": 0.5, "seed": 3}
    assert claims.zigzag_claim("learn.zigzag.live_setup", q, STAIRS, (1, -1), 0.1, run_seed=3)
    assert not claims.zigzag_claim("learn.zigzag.live_setup", q, STAIRS, (1, -1), 0.1, run_seed=None)
    assert claims.zigzag_claim("learn.zigzag.live_setup_no_run", q, STAIRS, (1, -1), 0.1, run_seed=None)
    assert not claims.zigzag_claim("learn.zigzag.live_setup_no_run", q, STAIRS, (1, -1), 0.1, run_seed=3)


GAMMAS = {"tanh": 1.0, "sigmoid": 0.25}


def test_the_spectrum_note():
    w = np.diag([5.0, 2.0, 1.0 + 1e-15, 0.5])  # the third is 1 up to rounding: not above it
    q = {"sigma_max": 5.0, "n": 4, "above_tanh": 2, "above_sigmoid": 1}
    assert claims.spectrum_claim("explore.spectrum.note", q, w, GAMMAS)
    assert not claims.spectrum_claim("explore.spectrum.note", {**q, "above_tanh": 3}, w, GAMMAS)
    assert not claims.spectrum_claim("explore.spectrum.note", {**q, "sigma_max": 5.01}, w, GAMMAS)
    assert not claims.spectrum_claim("explore.spectrum.note", q, None, GAMMAS)
    assert claims.spectrum_claim("explore.spectrum.none", {}, None, GAMMAS)
    assert not claims.spectrum_claim("explore.spectrum.none", {}, w, GAMMAS)
