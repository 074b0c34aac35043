"""Mean-field theory of the random RNN (core/meanfield.py) against Monte Carlo, known values and
the lab's own measured decay rates; and its endpoints (GET /api/theory/…)."""

import math

import numpy as np
import pytest
from fastapi.testclient import TestClient

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.core.init import InitSpec
from gradient_flow_lab.core.meanfield import (
    chi_1,
    critical_line,
    critical_sigma_w,
    fixed_point,
    gaussian_mean,
    length_map,
    mean_field,
)
from gradient_flow_lab.core.run import ModelSpec, RunSpec
from gradient_flow_lab.core.sweep_points import run_metrics

POINTS = [(0.8, 0.0), (1.3, 0.1), (1.5, 0.3), (2.0, 0.2), (2.5, 0.5)]


@pytest.fixture(scope="module")
def z() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(2_000_000)


def test_quadrature_is_a_gaussian_mean():
    assert gaussian_mean(lambda u: u**2, 2.5) == pytest.approx(2.5, rel=1e-12)
    assert gaussian_mean(lambda u: u**4, 2.0) == pytest.approx(3 * 4.0, rel=1e-12)
    assert gaussian_mean(np.tanh, 3.0) == pytest.approx(0.0, abs=1e-15)
    assert gaussian_mean(np.cos, 1.0) == pytest.approx(math.exp(-0.5), rel=1e-12)


@pytest.mark.parametrize(("sigma_w", "sigma_b"), POINTS)
def test_q_star_and_chi_1_agree_with_monte_carlo(z, sigma_w, sigma_b):
    q = fixed_point(sigma_w, sigma_b)
    assert length_map(q, sigma_w, sigma_b) == pytest.approx(q, rel=1e-10)  # a fixed point
    h = np.tanh(math.sqrt(q) * z)
    assert sigma_w**2 * np.mean(h**2) + sigma_b**2 == pytest.approx(q, rel=2e-3)
    assert chi_1(sigma_w, sigma_b) == pytest.approx(sigma_w**2 * np.mean((1 - h**2) ** 2), rel=2e-3)


def test_the_fixed_point_is_stable_iteration_reaches_it():
    q = 1.0
    for _ in range(500):
        q = length_map(q, 1.7, 0.3)
    assert q == pytest.approx(fixed_point(1.7, 0.3), rel=1e-9)


def test_without_bias_the_ordered_phase_has_q_zero_and_chi_sigma_w_squared():
    for sigma_w in (0.3, 0.7, 0.99):
        assert fixed_point(sigma_w, 0.0) == 0.0
        assert chi_1(sigma_w, 0.0) == pytest.approx(sigma_w**2, rel=1e-12)
    assert fixed_point(1.5, 0.0) > 0.1  # past σ_w = 1 the activity does not die out
    assert chi_1(1.5, 0.0) > 1  # and the gradients grow: past σ_w = 1 is the chaotic phase


def test_the_critical_line_starts_at_one_and_rises_with_the_bias():
    assert critical_sigma_w(0.0) == pytest.approx(1.0, abs=1e-6)
    b = np.linspace(0, 1, 11)
    line = critical_line(b)
    assert np.all(np.diff(line) > 0)
    for sb, sw in zip(b[1:], line[1:], strict=True):
        assert chi_1(sw, sb) == pytest.approx(1.0, abs=1e-9)
        assert chi_1(0.97 * sw, sb) < 1 < chi_1(1.03 * sw, sb)  # ordered below, chaotic above


def test_sigmoid_needs_a_larger_sigma_w_and_unbounded_phi_is_refused():
    assert critical_sigma_w(0.0, "sigmoid") > 4  # sup σ' = 1/4
    with pytest.raises(ValueError, match="bounded"):
        chi_1(1.0, 0.0, "relu")


def measured_decay(sigma_w: float, sigma_b: float, H: int = 256, seeds=range(4)) -> float:
    """The mean decay_rate of the lab's runs of the random tanh RNN (scheme normal: σ_w =
    std·√H; impulse input, so that the recurrence alone acts after t = 1)."""
    rates = []
    for seed in seeds:
        spec = RunSpec(
            models=(ModelSpec("rnn", "tanh"),),
            seq_len=200,
            hidden_size=H,
            input_kind="impulse",
            init=InitSpec(scheme="normal", std=sigma_w / math.sqrt(H), bias_std=sigma_b),
            seed=seed,
            jacobian=False,
        )
        rates.append(run_metrics(spec)[0]["metrics"]["decay_rate"])
    return float(np.mean(rates))


@pytest.mark.parametrize(("sigma_w", "sigma_b"), [(0.8, 0.0), (1.5, 0.3), (2.5, 0.5)])
def test_the_measured_decay_rate_is_the_theory_s_square_root_of_chi_1(sigma_w, sigma_b):
    """The phase diagram's claim: at H = 256 the measured factor per step is within 4 % of √χ₁
    (the finite-H fluctuations are a few %), on the same side of 1."""
    predicted = mean_field(sigma_w, sigma_b).decay_rate
    measured = measured_decay(sigma_w, sigma_b)
    assert measured == pytest.approx(predicted, rel=0.04)
    assert (measured < 1) == (predicted < 1)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(Settings(data_dir=str(tmp_path_factory.mktemp("theory"))))) as c:
        yield c


def test_the_endpoints_give_the_core_s_numbers(client):
    body = client.get("/api/theory/mean-field", params={"sigma_w": [1.5, 2.0], "sigma_b": [0.1]}).json()
    assert body["activation"] == "tanh" and len(body["points"]) == 2
    for p in body["points"]:
        mf = mean_field(p["sigma_w"], p["sigma_b"])
        assert (p["q_star"], p["chi_1"], p["decay_rate"]) == (mf.q_star, mf.chi_1, mf.decay_rate)
    line = client.get("/api/theory/critical-line", params={"sigma_b": [0, 0.5], "hidden_size": 100}).json()
    assert [p["sigma_w"] for p in line["points"]] == critical_line([0, 0.5]).tolist()
    assert line["points"][1]["init_std"] == pytest.approx(line["points"][1]["sigma_w"] / 10)
    default = client.get("/api/theory/critical-line").json()["points"]
    assert [p["sigma_b"] for p in default][:3] == [0, 0.05, 0.1] and len(default) == 21


@pytest.mark.parametrize(
    "query",
    [
        "sigma_w=-1",
        "sigma_w=nan",
        "sigma_w=0",
        "sigma_w=11",
        "",
        "sigma_w=1&activation=relu",
        "&".join(["sigma_w=1"] * 201),
    ],
)
def test_bad_theory_queries_are_422_naming_the_field(client, query):
    r = client.get("/api/theory/mean-field?" + query)
    assert r.status_code == 422
    assert "sigma_w" in r.json()["detail"] or "activation" in r.json()["detail"]
