"""Backpropagation through time against central differences, and the fused sweep against the
composed step functions.

The finite-difference reference never touches `core.bptt`: it runs `Cell.step_forward` and
computes the loss of the contract itself, so it checks the output layer and the loss too.
"""

import numpy as np
import pytest
from numerics import numeric_grad as central_difference
from numerics import recorded_sweep, rel_err

from gradient_flow_lab.core.bptt import Sweep, composed_bptt
from gradient_flow_lab.core.cells import make_cell
from gradient_flow_lab.core.init import InitSpec, init_params

D, H, O, K = 3, 4, 2, 3  # input, hidden, output sizes; K classes for the cross-entropy
T = 5
EPS = 1e-5  # central-difference step
RTOL = 1e-6  # the style guide's bound on the relative error of a gradient check
KINK_MARGIN = 1e-3  # relu: every pre-activation at least this far from its kink at 0

CASES = [("rnn", "sigmoid"), ("rnn", "tanh"), ("rnn", "relu"), ("rnn", "linear"),
         ("lstm", None), ("gru", None)]
CASE_IDS = [f"{c}-{a}" if a else c for c, a in CASES]


def step_losses(h, target, W_hy, b_y, loss):
    """Σ_b of one step's loss term, from the contract (not from core.bptt)."""
    y = h @ W_hy + b_y
    if loss == "mse":
        return 0.5 * float(np.sum((y - target) ** 2))
    shifted = y - y.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -float(np.sum(np.take_along_axis(log_p, target.astype(np.intp)[:, None], axis=-1)))


def loss_steps(loss_at):
    """S as 1-based steps."""
    return [T] if loss_at == "last" else list(range(1, T + 1))


def tail_loss(cell, P, X, targets, loss_at, loss, t, state_t):
    """L as a function of the state s_t (t = 0..T): the steps t+1..T run from s_t, and every
    loss term at a step ≥ t is summed (terms before t do not depend on s_t)."""
    B = X.shape[1]
    hs = {t: state_t[0]}
    state = state_t
    for s in range(t + 1, T + 1):
        state, _ = cell.step_forward(X[s - 1], state, P)
        hs[s] = state[0]
    total = sum(step_losses(hs[s], targets[s - 1], P["W_hy"], P["b_y"], loss)
                for s in loss_steps(loss_at) if s >= max(t, 1))
    return total / B


def numeric_grad(f, a: np.ndarray) -> np.ndarray:
    return central_difference(f, a, EPS)


def preactivations(cell, P, X, state0) -> np.ndarray:
    """The vanilla RNN's z_t = x_t W_xh + h_{t−1} W_hh + b_h for every step, [T, B, H]."""
    zs, state = [], state0
    for t in range(T):
        zs.append(X[t] @ P["W_xh"] + state[0] @ P["W_hh"] + P["b_h"])
        state, _ = cell.step_forward(X[t], state, P)
    return np.stack(zs)


def problem(cell_name, activation, B, seed, loss="mse"):
    """A small float64 problem with nonzero biases (bias_std 0.5, so a bias-layout mistake
    shows) and a random initial state s_0.

    relu has a kink at 0, where central differences and φ' disagree. For relu the seed is
    advanced (deterministically) until every pre-activation of the run is at least
    KINK_MARGIN from 0; a perturbation of EPS = 1e-5 moves a pre-activation by far less
    than that, so no step of the finite differences crosses the kink."""
    cell = make_cell(cell_name, activation)
    for attempt in range(100):
        rng = np.random.default_rng([seed, attempt])
        O_ = O if loss == "mse" else K
        P = init_params(cell, D, H, O_, InitSpec(bias_std=0.5), rng)
        X = rng.standard_normal((T, B, D))
        if loss == "mse":
            targets = rng.standard_normal((T, B, O_))
        else:
            targets = rng.integers(0, K, size=(T, B))
        state0 = tuple(0.5 * rng.standard_normal((B, H)) for _ in cell.state_names)
        if activation != "relu" or np.abs(preactivations(cell, P, X, state0)).min() > KINK_MARGIN:
            return cell, P, X, targets, state0
    raise AssertionError("no seed keeps the relu pre-activations away from 0")


def full_sweep(cell, P, X, targets, loss_at, state0, loss="mse"):
    """A complete Sweep and what its steps returned (numerics.recorded_sweep)."""
    sweep = Sweep(cell, P, X, targets, loss_at, state0=state0, loss_kind=loss)
    return sweep, *recorded_sweep(sweep, state0)


def check_against_differences(cell, P, X, targets, loss_at, state0, loss):
    sweep, _, _, _ = full_sweep(cell, P, X, targets, loss_at, state0, loss)

    def f():
        return tail_loss(cell, P, X, targets, loss_at, loss, 0, state0)

    assert sweep.loss == pytest.approx(f(), rel=1e-13)
    grads = sweep.param_grads()
    assert set(grads) == set(P)
    for name in P:
        num = numeric_grad(f, P[name])
        assert rel_err(grads[name], num) < RTOL, name
    for k, name in enumerate(cell.state_names):  # ∂L/∂h_0 (and ∂L/∂c_0)
        num = numeric_grad(f, state0[k])
        assert rel_err(sweep.d_state[k], num) < RTOL, f"{name}_0"
    _, _, composed_grads, composed_d_state = composed_bptt(cell, P, X, targets, loss_at,
                                                          state0=state0, loss_kind=loss)
    for name in P:
        assert rel_err(composed_grads[name], numeric_grad(f, P[name])) < RTOL, name
    for k in range(len(cell.state_names)):
        assert rel_err(composed_d_state[k], numeric_grad(f, state0[k])) < RTOL


@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize(("cell_name", "activation"), CASES, ids=CASE_IDS)
def test_gradients_match_central_differences(cell_name, activation, loss_at, B):
    cell, P, X, targets, state0 = problem(cell_name, activation, B, seed=11)
    check_against_differences(cell, P, X, targets, loss_at, state0, "mse")


@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize(("cell_name", "activation"), CASES, ids=CASE_IDS)
def test_cross_entropy_gradients_match_central_differences(cell_name, activation, loss_at):
    cell, P, X, targets, state0 = problem(cell_name, activation, 3, seed=12, loss="xent")
    check_against_differences(cell, P, X, targets, loss_at, state0, "xent")


@pytest.mark.parametrize("loss", ["mse", "xent"])
@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize(("cell_name", "activation"), CASES, ids=CASE_IDS)
def test_total_state_derivative_matches_perturbing_the_state(cell_name, activation, loss_at, loss):
    """∂L/∂h_t (sweep.dH[t], returned by backward_step(t)) is the total derivative: perturb h_t
    and run the rest of the sequence from it. For the LSTM, ∂L/∂c_t (d_state[1] just before
    step t goes back) is checked the same way."""
    cell, P, X, targets, state0 = problem(cell_name, activation, 2, seed=13, loss=loss)
    _, states, dH, later = full_sweep(cell, P, X, targets, loss_at, state0, loss)
    for t in (1, 3, T):
        state_t = tuple(s[t].copy() for s in states)

        def f(t=t, state_t=state_t):
            return tail_loss(cell, P, X, targets, loss_at, loss, t, state_t)

        assert rel_err(dH[t], numeric_grad(f, state_t[0])) < RTOL, t
        if cell.name == "lstm":
            assert rel_err(later[t][1], numeric_grad(f, state_t[1])) < RTOL, t


# --- the fused sweep against the composed step functions --------------------------------

FUSED_RTOL = 1e-12


@pytest.mark.parametrize("with_state0", [False, True], ids=["s0=0", "s0-random"])
@pytest.mark.parametrize("B", [1, 4])
@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize(("cell_name", "activation"), CASES, ids=CASE_IDS)
def test_fused_sweep_equals_composed_steps(cell_name, activation, loss_at, B, with_state0):
    cell, P, X, targets, state0 = problem(cell_name, activation, B, seed=14)
    state0 = state0 if with_state0 else None
    sweep, _, fused_dH, _ = full_sweep(cell, P, X, targets, loss_at, state0)
    loss, dH, grads, d_state = composed_bptt(cell, P, X, targets, loss_at, state0=state0)
    assert sweep.loss == pytest.approx(loss, rel=FUSED_RTOL)
    assert rel_err(fused_dH[1:], dH) < FUSED_RTOL
    np.testing.assert_allclose(sweep.grad_norms(), np.linalg.norm(dH.reshape(T, -1), axis=1),
                               rtol=FUSED_RTOL)
    fused_grads = sweep.param_grads()
    assert set(fused_grads) == set(grads) == set(P)
    for name in P:
        assert fused_grads[name].shape == P[name].shape
        assert rel_err(fused_grads[name], grads[name]) < FUSED_RTOL, name
    for k in range(len(cell.state_names)):
        assert rel_err(sweep.d_state[k], d_state[k]) < FUSED_RTOL


@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize(("cell_name", "activation"), CASES, ids=CASE_IDS)
def test_fused_sweep_equals_composed_steps_cross_entropy(cell_name, activation, loss_at):
    cell, P, X, targets, state0 = problem(cell_name, activation, 3, seed=15, loss="xent")
    sweep, _, fused_dH, _ = full_sweep(cell, P, X, targets, loss_at, state0, "xent")
    loss, dH, grads, d_state = composed_bptt(cell, P, X, targets, loss_at, state0=state0, loss_kind="xent")
    assert sweep.loss == pytest.approx(loss, rel=FUSED_RTOL)
    assert rel_err(fused_dH[1:], dH) < FUSED_RTOL
    for k in range(len(cell.state_names)):
        assert rel_err(sweep.d_state[k], d_state[k]) < FUSED_RTOL
    fused_grads = sweep.param_grads()
    for name in P:
        assert rel_err(fused_grads[name], grads[name]) < FUSED_RTOL, name
