"""The numpy core against PyTorch autograd, in float64.

Three references:
- the contract's equations written with torch ops, step by step, with `retain_grad()` on every
  h_t, so `h_t.grad` is the total derivative ∂L/∂h_t;
- torch.nn.RNN / LSTM / GRU with our weights copied in (weight_ih_l0 = W_xᵀ, weight_hh_l0 =
  W_hᵀ), which proves the gate order and bias layout the contract claims;
- the Jacobians ∂s_T/∂s_t of the composed step map from torch.autograd.functional.jacobian,
  against `Sweep(..., jacobian=True).jacobian_norm`.

PyTorch comes from the `torch` fixture (tests/conftest.py), so with CI=true a missing torch is
a failure, not a skip.
"""

import numpy as np
import pytest
from numerics import recorded_sweep, rel_err

from gradient_flow_lab.core.bptt import Sweep
from gradient_flow_lab.core.init import InitSpec
from gradient_flow_lab.core.run import ModelSpec, RunSpec, build

pytestmark = pytest.mark.torch

RTOL = 1e-9
JAC_RTOL = 1e-8

TORCH_CASES = [("rnn", "tanh"), ("rnn", "relu"), ("rnn", "sigmoid"), ("rnn", "linear"),
               ("lstm", None), ("gru", None)]
CASE_IDS = [f"{c}-{a}" if a else c for c, a in TORCH_CASES]


def make_run(cell, activation, T=6, H=5, D=3, O=2, B=3, loss_at="last", seed=3, **spec):
    """Cell, parameters, inputs and targets as a run builds them, with nonzero biases."""
    rs = RunSpec(models=(ModelSpec(cell, activation),), seq_len=T, hidden_size=H, input_size=D,
                 output_size=O, batch_size=B, init=InitSpec(bias_std=0.5), loss_at=loss_at,
                 seed=seed, **spec)
    cells, params, X, Y = build(rs)
    return cells[0], params[0], X, Y


def run_sweep(cell, P, X, Y, loss_at, jacobian=False, state0=None):
    """A complete Sweep, the states s_t and the total ∂L/∂h_t its steps returned
    (numerics.recorded_sweep)."""
    sweep = Sweep(cell, P, X, Y, loss_at, jacobian=jacobian, state0=state0)
    states, dH, _ = recorded_sweep(sweep, state0)
    return sweep, states, dH


def torch_step(torch, cell, activation, Pt, x, state):
    """One step of the contract's equations in torch ops; state is (h,) or (h, c)."""
    if cell == "rnn":
        phi = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
               "linear": lambda z: z}[activation]
        return (phi(x @ Pt["W_xh"] + state[0] @ Pt["W_hh"] + Pt["b_h"]),)
    if cell == "lstm":
        h, c = state
        a = x @ Pt["W_x"] + h @ Pt["W_h"] + Pt["b"]
        a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
        c = torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g)
        return torch.sigmoid(a_o) * torch.tanh(c), c
    (h,) = state
    ax = x @ Pt["W_x"] + Pt["b_x"]
    ah = h @ Pt["W_h"] + Pt["b_h"]
    ax_r, ax_z, ax_n = ax.chunk(3, dim=-1)
    ah_r, ah_z, ah_n = ah.chunk(3, dim=-1)
    r = torch.sigmoid(ax_r + ah_r)
    z = torch.sigmoid(ax_z + ah_z)
    n = torch.tanh(ax_n + r * ah_n)
    return ((1 - z) * n + z * h,)


def torch_loss(torch, hs, W_hy, b_y, Y, loss_at):
    """L = (1/B) Σ_b Σ_{t∈S} ½‖h_t W_hy + b_y − y*_t‖² for hs = [h_1, …, h_T]."""
    T, B = len(hs), Y.shape[1]
    steps = [T - 1] if loss_at == "last" else range(T)
    Yt = torch.from_numpy(Y)
    return sum(0.5 * ((hs[t] @ W_hy + b_y - Yt[t]) ** 2).sum() for t in steps) / B


def params_to_torch(torch, P):
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in P.items()}


# --- 1. the equations in torch ops -------------------------------------------------------

@pytest.mark.parametrize("with_state0", [False, True], ids=["s0=0", "s0-random"])
@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize(("cell", "activation"), TORCH_CASES, ids=CASE_IDS)
def test_matches_torch_autograd_step_by_step(torch, cell, activation, loss_at, B, with_state0):
    c, P, X, Y = make_run(cell, activation, B=B, loss_at=loss_at)
    T, H = X.shape[0], P["W_hy"].shape[0]
    state0 = None
    if with_state0:
        rng = np.random.default_rng(99)
        state0 = tuple(0.5 * rng.standard_normal((B, H)) for _ in c.state_names)
    sweep, _, dH = run_sweep(c, P, X, Y, loss_at, state0=state0)

    Pt = params_to_torch(torch, P)
    s0 = (tuple(torch.zeros(B, H, dtype=torch.float64) for _ in c.state_names) if state0 is None
          else tuple(torch.tensor(s, dtype=torch.float64) for s in state0))
    for s in s0:
        s.requires_grad_(True)
    state, hs = s0, []
    for t in range(T):
        state = torch_step(torch, cell, activation, Pt, torch.from_numpy(X[t]), state)
        state[0].retain_grad()
        hs.append(state[0])
    loss = torch_loss(torch, hs, Pt["W_hy"], Pt["b_y"], Y, loss_at)
    loss.backward()

    assert sweep.loss == pytest.approx(loss.item(), rel=RTOL)
    torch_dH = np.stack([h.grad.numpy() for h in hs])
    assert rel_err(dH[1:], torch_dH) < RTOL
    torch_norms = np.linalg.norm(torch_dH.reshape(T, -1), axis=1)
    np.testing.assert_allclose(sweep.grad_norms(), torch_norms, rtol=RTOL, atol=0)
    grads = sweep.param_grads()
    for name in P:
        assert rel_err(grads[name], Pt[name].grad.numpy()) < RTOL, name
    if with_state0:
        for k, s in enumerate(s0):
            assert rel_err(sweep.d_state[k], s.grad.numpy()) < RTOL


# --- 2. torch.nn modules with our weights: the gate order and the bias layout ------------

NN_CASES = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", None), ("gru", None)]


def nn_module(torch, cell, activation, P, D, H):
    """torch.nn.RNN / LSTM / GRU holding our parameters."""
    if cell == "rnn":
        m = torch.nn.RNN(D, H, nonlinearity=activation, dtype=torch.float64)
        W_x, W_h, b_ih, b_hh = P["W_xh"], P["W_hh"], P["b_h"], np.zeros_like(P["b_h"])
    elif cell == "lstm":
        m = torch.nn.LSTM(D, H, dtype=torch.float64)
        W_x, W_h, b_ih, b_hh = P["W_x"], P["W_h"], P["b"], np.zeros_like(P["b"])
    else:
        m = torch.nn.GRU(D, H, dtype=torch.float64)
        W_x, W_h, b_ih, b_hh = P["W_x"], P["W_h"], P["b_x"], P["b_h"]
    assert m.weight_ih_l0.shape == W_x.T.shape and m.weight_hh_l0.shape == W_h.T.shape
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.from_numpy(W_x.T))
        m.weight_hh_l0.copy_(torch.from_numpy(W_h.T))
        m.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        m.bias_hh_l0.copy_(torch.from_numpy(b_hh))
    return m


@pytest.mark.parametrize(("loss_at", "B"), [("last", 1), ("all", 3), ("last", 4), ("all", 1)])
@pytest.mark.parametrize(("cell", "activation"), NN_CASES, ids=["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_matches_torch_nn_modules(torch, cell, activation, loss_at, B):
    c, P, X, Y = make_run(cell, activation, B=B, loss_at=loss_at, seed=5)
    _, B, D = X.shape
    H = P["W_hy"].shape[0]
    sweep, states, _ = run_sweep(c, P, X, Y, loss_at)

    m = nn_module(torch, cell, activation, P, D, H)
    W_hy = torch.tensor(P["W_hy"], requires_grad=True)
    b_y = torch.tensor(P["b_y"], requires_grad=True)
    out, _ = m(torch.from_numpy(X))  # [T, B, H]: h_1..h_T
    loss = torch_loss(torch, list(out), W_hy, b_y, Y, loss_at)
    loss.backward()

    assert rel_err(states[0][1:], out.detach().numpy()) < RTOL
    assert sweep.loss == pytest.approx(loss.item(), rel=RTOL)
    grads = sweep.param_grads()
    assert rel_err(grads[c.x_weight], m.weight_ih_l0.grad.numpy().T) < RTOL
    assert rel_err(grads[c.h_weight], m.weight_hh_l0.grad.numpy().T) < RTOL
    assert rel_err(grads["W_hy"], W_hy.grad.numpy()) < RTOL
    assert rel_err(grads["b_y"], b_y.grad.numpy()) < RTOL
    if cell == "gru":
        assert rel_err(grads["b_x"], m.bias_ih_l0.grad.numpy()) < RTOL
        assert rel_err(grads["b_h"], m.bias_hh_l0.grad.numpy()) < RTOL
    else:  # one bias, added once: its gradient is that of either torch bias
        assert rel_err(grads[c.x_bias], m.bias_ih_l0.grad.numpy()) < RTOL
        assert rel_err(grads[c.x_bias], m.bias_hh_l0.grad.numpy()) < RTOL


# --- 3. Jacobian norms ‖∂s_T/∂s_t‖₂ of batch item 0 -------------------------------------

def torch_state_map(torch, cell, activation, P, X, t, H):
    """s_t ↦ s_T for batch item 0, with s = h, or concat(h, c) for the LSTM."""
    Pt = {k: torch.from_numpy(v) for k, v in P.items()}
    T = X.shape[0]

    def f(s):
        state = (s[None, :H], s[None, H:]) if cell == "lstm" else (s[None, :],)
        for k in range(t, T):  # steps t+1..T
            state = torch_step(torch, cell, activation, Pt, torch.from_numpy(X[k, :1]), state)
        return torch.cat([s_[0] for s_ in state])

    return f


def item0_state(states, t) -> np.ndarray:
    return np.concatenate([s[t, 0] for s in states])


@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize(("cell", "activation"), TORCH_CASES, ids=CASE_IDS)
def test_jacobian_norm_matches_torch_jacobian(torch, cell, activation, loss_at):
    c, P, X, Y = make_run(cell, activation, T=6, H=4, B=2, loss_at=loss_at, seed=7)
    T, H = X.shape[0], P["W_hy"].shape[0]
    sweep, states, _ = run_sweep(c, P, X, Y, loss_at, jacobian=True)
    expected = np.empty(T)
    for t in range(1, T + 1):
        f = torch_state_map(torch, cell, activation, P, X, t, H)
        J = torch.autograd.functional.jacobian(f, torch.from_numpy(item0_state(states, t))).numpy()
        expected[t - 1] = np.linalg.svd(J, compute_uv=False)[0]
    assert expected[-1] == pytest.approx(1.0)  # ∂s_T/∂s_T = I
    np.testing.assert_allclose(sweep.jacobian_norms(), expected, rtol=JAC_RTOL, atol=0)


def product_jacobian_norms(torch, cell, activation, P, X, states) -> np.ndarray:
    """‖∂s_T/∂s_t‖₂ for t = 1..T (batch item 0), multiplying the per-step Jacobians from torch
    exactly (no normalisation) and taking each norm from a full SVD."""
    T, H = X.shape[0], P["W_hy"].shape[0]
    M = np.eye(len(item0_state(states, 0)))
    norms = np.empty(T)
    for t in range(T, 0, -1):
        norms[t - 1] = np.linalg.svd(M, compute_uv=False)[0]
        f = torch_state_map(torch, cell, activation, P, X[:t], t - 1, H)  # the single step t
        J_t = torch.autograd.functional.jacobian(f, torch.from_numpy(item0_state(states, t - 1)),
                                                 vectorize=True)
        M = M @ J_t.numpy()  # ∂s_T/∂s_{t−1} = ∂s_T/∂s_t · ∂s_t/∂s_{t−1}
    return norms


@pytest.mark.parametrize(("cell", "activation"), [("rnn", "sigmoid"), ("lstm", None), ("gru", None)],
                         ids=["rnn-sigmoid", "lstm", "gru"])
def test_jacobian_norm_of_a_long_product(torch, cell, activation):
    """T = 60: the sigmoid RNN's product falls to ~1e-40, through the sweep's normalisation
    in log space."""
    c, P, X, Y = make_run(cell, activation, T=60, H=4, B=2, seed=8)
    sweep, states, _ = run_sweep(c, P, X, Y, "last", jacobian=True)
    expected = product_jacobian_norms(torch, cell, activation, P, X, states)
    np.testing.assert_allclose(sweep.jacobian_norms(), expected, rtol=JAC_RTOL, atol=0)
    if cell == "rnn":
        assert expected[0] < 1e-25  # the normalisation was needed to get here


@pytest.mark.parametrize(("cell", "activation", "scheme", "sigma_max", "T", "seed"), [
    ("rnn", "tanh", "orthogonal", 0.9, 150, 2),
    ("lstm", None, "identity", None, 150, 5),
    ("gru", None, "identity", None, 50, 0),
], ids=["rnn-tanh-orthogonal", "lstm-identity", "gru-identity"])
def test_jacobian_norm_on_the_impulse_memory_probe(torch, cell, activation, scheme, sigma_max, T, seed):
    """The page's memory probe at its default sizes (H = 16, D = 4): after the impulse the inputs
    are zero, the per-step Jacobians nearly commute and ∂s_T/∂s_t gets nearly equal top
    singular values — the hard case for the sweep's warm-started power iteration."""
    spec = RunSpec(models=(ModelSpec(cell, activation),), seq_len=T, input_kind="impulse", seed=seed,
                   init=InitSpec(scheme=scheme, sigma_max=sigma_max))
    cells, params, X, Y = build(spec)
    sweep, states, _ = run_sweep(cells[0], params[0], X, Y, "last", jacobian=True)
    expected = product_jacobian_norms(torch, cell, activation, params[0], X, states)
    np.testing.assert_allclose(sweep.jacobian_norms(), expected, rtol=JAC_RTOL, atol=0)
