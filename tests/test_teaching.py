"""The numbers behind the explainers: the zig-zag statistic (fast form against the outer
products it summarises), the LSTM's total cell-state gradient (central differences and torch
autograd), the 2-D zig-zag descent, and how the API carries them."""

import numpy as np
import pytest
from fastapi.testclient import TestClient
from numerics import numeric_grad, rel_err
from test_core_torch_parity import make_run, params_to_torch, torch_loss, torch_step

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.core import teaching
from gradient_flow_lab.core.activations import ACTIVATIONS
from gradient_flow_lab.core.analysis import sign_uniform_fractions
from gradient_flow_lab.core.bptt import Sweep, output_grads
from gradient_flow_lab.core.init import InitSpec
from gradient_flow_lab.core.run import ModelSpec, RunSpec, build, collect, run

# --- the zig-zag statistic ---------------------------------------------------------------


def outer_product_fractions(hidden, grads, dphi):
    """The definition: the sign pattern of every column of h_{t−1}ᵀ δ_t."""
    delta = grads[1:] * dphi(hidden[1:])
    out = []
    for h_prev, d in zip(hidden[:-1], delta, strict=True):
        term = np.outer(h_prev, d)  # [j, k]
        uniform = ~((term > 0).any(axis=0) & (term < 0).any(axis=0))
        out.append(uniform.mean())
    return np.array(out)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("seed", range(5))
def test_fast_zigzag_statistic_equals_the_outer_products(activation, seed):
    rng = np.random.default_rng(seed)
    T, H = 12, 7
    hidden = ACTIVATIONS[activation].phi(rng.standard_normal((T, H)))
    grads = rng.standard_normal((T, H))
    grads[rng.random((T, H)) < 0.2] = 0.0  # zero columns count as uniform
    hidden[3] = np.abs(hidden[3])  # a step whose h_{t−1} has one sign only
    if seed == 0:
        hidden[5, 2] = np.nan  # no sign
        grads[7, 1] = np.nan
    dphi = ACTIVATIONS[activation].dphi
    with np.errstate(invalid="ignore"):
        want = outer_product_fractions(hidden, grads, dphi)
    np.testing.assert_array_equal(sign_uniform_fractions(hidden, grads, dphi), want)


def test_the_run_carries_the_zigzag_statistic_for_every_rnn():
    spec = RunSpec(models=(ModelSpec("rnn", "sigmoid"), ModelSpec("rnn", "tanh"), ModelSpec("lstm")),
                   seq_len=30, batch_size=3, seed=5)
    sig, tanh, lstm = collect(run(spec)).models
    assert np.isnan(sig.sign_uniform[0]) and np.isnan(tanh.sign_uniform[0])
    assert np.all(sig.sign_uniform[1:] == 1.0)
    assert tanh.sign_uniform[1:].mean() < 0.1
    np.testing.assert_array_equal(
        tanh.sign_uniform[1:], sign_uniform_fractions(tanh.hidden, tanh.grads, ACTIVATIONS["tanh"].dphi))
    assert lstm.sign_uniform is None


# --- the LSTM's total cell-state gradient ----------------------------------------------


@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize("B", [1, 3])
def test_cell_grad_norm_against_central_differences(loss_at, B):
    cell, P, X, Y = make_run("lstm", None, T=6, B=B, loss_at=loss_at)
    T, H = X.shape[0], P["W_hy"].shape[0]
    sweep = Sweep(cell, P, X, Y, loss_at, cell_grads=True)
    sweep.run()

    states = [cell.zero_state(B, H)]
    for t in range(T):
        states.append(cell.step_forward(X[t], states[-1], P)[0])

    for t in range(1, T + 1):  # perturb c_t and run on from there
        h_prev, c_t = states[t - 1][0], np.array(states[t][1])
        a = X[t - 1] @ P["W_x"] + h_prev @ P["W_h"] + P["b"]
        o_t = 1.0 / (1.0 + np.exp(-a[:, 3 * H:]))

        def loss(t=t, c_t=c_t, o_t=o_t):  # h_t = o_t ⊙ tanh(c_t) follows c_t: the total derivative
            h_t = o_t * np.tanh(c_t)
            hs, state = [s[0] for s in states[1:t]], (h_t, c_t)
            hs.append(h_t)
            for k in range(t, T):
                state, _ = cell.step_forward(X[k], state, P)
                hs.append(state[0])
            return output_grads(np.stack(hs), P, Y, loss_at)[0]

        dc = numeric_grad(loss, c_t, 1e-6)
        assert sweep.cell_grad_norms()[t - 1] == pytest.approx(np.linalg.norm(dc), rel=1e-6), t


def test_cell_grad_norm_matches_torch(torch):
    cell, P, X, Y = make_run("lstm", None, T=8, B=2, loss_at="all")
    T, B, H = X.shape[0], X.shape[1], P["W_hy"].shape[0]
    sweep = Sweep(cell, P, X, Y, "all", cell_grads=True)
    sweep.run()
    Pt = params_to_torch(torch, P)
    state = (torch.zeros(B, H), torch.zeros(B, H))
    hs, cs = [], []
    for t in range(T):
        state = torch_step(torch, "lstm", None, Pt, torch.from_numpy(X[t]), state)
        state[1].retain_grad()
        hs.append(state[0])
        cs.append(state[1])
    torch_loss(torch, hs, Pt["W_hy"], Pt["b_y"], Y, "all").backward()
    want = np.array([np.linalg.norm(c.grad.numpy()) for c in cs])
    assert rel_err(sweep.cell_grad_norms(), want) < 1e-12


def test_cell_grads_are_off_by_default_and_only_for_the_lstm():
    for cell_name in ("rnn", "gru", "lstm"):
        cell, P, X, Y = make_run(cell_name, "tanh" if cell_name == "rnn" else None)
        assert Sweep(cell, P, X, Y).cell_grad_norm is None
        tracked = Sweep(cell, P, X, Y, cell_grads=True).cell_grad_norm
        assert (tracked is not None) == (cell_name == "lstm")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gate_values_of_a_run_are_the_gates(torch, cell):
    """The gates a run reports (the Gates view, the LSTM's highway) are σ / tanh of the step's
    pre-activations, recomputed in torch from the parameters."""
    spec = RunSpec(models=(ModelSpec(cell),), seq_len=7, hidden_size=5, batch_size=2,
                   init=InitSpec(bias_std=0.5), seed=4)
    (m,) = collect(run(spec)).models
    _, (P,), X, _ = build(spec)
    Pt = {k: torch.from_numpy(v) for k, v in P.items()}
    H = 5
    h = torch.zeros(2, H)
    c = torch.zeros(2, H)
    for t in range(7):
        x = torch.from_numpy(X[t])
        if cell == "lstm":
            a = x @ Pt["W_x"] + h @ Pt["W_h"] + Pt["b"]
            i, f, o = (torch.sigmoid(a[:, k * H:(k + 1) * H]) for k in (0, 1, 3))
            g = torch.tanh(a[:, 2 * H:3 * H])
            want = {"input": i, "forget": f, "cell": g, "output": o}
            c = f * c + i * g
            h = o * torch.tanh(c)
        else:
            ax, ah = x @ Pt["W_x"] + Pt["b_x"], h @ Pt["W_h"] + Pt["b_h"]
            r = torch.sigmoid(ax[:, :H] + ah[:, :H])
            z = torch.sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
            n = torch.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
            want = {"reset": r, "update": z, "candidate": n}
            h = (1 - z) * n + z * h
        for name, value in want.items():
            assert rel_err(m.gates[name][t], value[0].numpy()) < 1e-14, (name, t)


# --- the 2-D zig-zag ----------------------------------------------------------------------


def test_sample_grad_against_central_differences():
    rng = np.random.default_rng(1)
    w, a = rng.standard_normal(2), rng.random(2)
    y = 0.3
    num = numeric_grad(lambda: 0.5 * (a @ w - y) ** 2, w, 1e-6)
    assert rel_err(teaching.sample_grad(w, a, y), num) < 1e-8


@pytest.mark.parametrize("seed", range(5))
def test_sigmoid_features_zig_zag_and_tanh_features_go_straight(seed):
    sig = teaching.zigzag_descent("sigmoid", seed=seed)  # 150 steps at lr 0.5, as the page shows
    tanh = teaching.zigzag_descent("tanh", seed=seed)
    assert sig.path.shape == (151, 2) and sig.loss.shape == (151,)
    np.testing.assert_array_equal(sig.path[0], teaching.ZIGZAG_START)
    assert sig.same_sign.all()  # all-positive features: every step moves both weights alike
    assert 0.2 < tanh.same_sign.mean() < 0.8
    assert sig.path_length > 1.8 * tanh.path_length
    assert tanh.steps_to_near is not None
    assert sig.steps_to_near is None or sig.steps_to_near > 4 * tanh.steps_to_near
    assert tanh.loss[-1] < 1e-6


def test_both_descents_see_the_same_samples_and_a_divergence_is_a_result():
    x = teaching.zigzag_samples(50, 3)
    np.testing.assert_array_equal(x, teaching.zigzag_samples(50, 3))
    d = teaching.zigzag_descent("tanh", steps=2000, lr=10.0, seed=0)
    assert not np.isfinite(d.path[-1]).all()
    assert d.steps_to_near is None


# --- the API --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def test_api_zigzag_explainer(client):
    r = client.get("/api/explain/zigzag", params={"steps": 80, "lr": 0.8, "seed": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["target"] == [1.0, -1.0] and body["start"] == [0.0, 0.0]
    assert [m["activation"] for m in body["models"]] == ["sigmoid", "tanh"]
    sig = body["models"][0]
    want = teaching.zigzag_descent("sigmoid", 80, 0.8, 2)
    assert sig["path"] == want.path.tolist()
    assert sig["same_sign_fraction"] == 1.0
    assert sig["steps_to_near"] == want.steps_to_near


def test_api_zigzag_divergence_is_nulls_not_an_error(client):
    r = client.get("/api/explain/zigzag", params={"steps": 2000, "lr": 10})
    assert r.status_code == 200
    assert r.json()["models"][1]["path"][-1] == [None, None]


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"steps": 0}, "query.steps", "greater than or equal to 1"),
    ({"steps": 2001}, "query.steps", "less than or equal to 2000"),
    ({"steps": "many"}, "query.steps", "valid integer"),
    ({"lr": 0}, "query.lr", "greater than 0"),
    ({"lr": 11}, "query.lr", "less than or equal to 10"),
    ({"lr": "nan"}, "query.lr", "finite"),
    ({"lr": "inf"}, "query.lr", "finite"),
    ({"seed": -1}, "query.seed", "greater than or equal to 0"),
    ({"seed": 2**64}, "query.seed", "less than or equal to"),
])
def test_api_zigzag_bad_input_names_the_field_and_the_limit(client, params, field, words):
    r = client.get("/api/explain/zigzag", params=params)
    assert r.status_code == 422
    assert field in r.json()["detail"] and words in r.json()["detail"]


def test_api_runs_carry_zigzag_and_cell_grad_norm(client):
    body = {"models": [{"cell": "rnn", "activation": "sigmoid"}, {"cell": "lstm"}, {"cell": "gru"}],
            "seq_len": 20, "include": []}
    sig, lstm, gru = client.post("/api/runs", json=body).json()["models"]
    assert sig["sign_uniform"][0] is None and set(sig["sign_uniform"][1:]) == {1.0}
    assert "cell_grad_norm" not in sig and "sign_uniform" not in lstm
    assert len(lstm["cell_grad_norm"]) == 20 and all(v > 0 for v in lstm["cell_grad_norm"])
    assert "cell_grad_norm" not in gru and "sign_uniform" not in gru
