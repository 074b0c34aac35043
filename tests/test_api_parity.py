"""Parity through the API: every model of a run rebuilt in PyTorch (float64) from the returned
params, inputs and targets alone, and its autograd gradients compared with the answer.

    y_t = h_t W_hy + b_y,    L = (1/B) Σ_b Σ_{t∈S} ½‖y_{t,b} − y*_{t,b}‖²,   S = {T} or {1..T}

The RNN is built from torch ops; the LSTM and GRU are PyTorch's own nn.LSTMCell / nn.GRUCell
with the weights copied (weight_ih = W_xᵀ, weight_hh = W_hᵀ), stepped one t at a time with
retain_grad on every h_t, so h_t.grad is the total derivative ∂L/∂h_t of the contract.
"""

import numpy as np
import pytest
from contract import MODELS
from fastapi.testclient import TestClient
from sse import loads_strict

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings

pytestmark = pytest.mark.torch

SIZES = {"seq_len": 12, "hidden_size": 5, "input_size": 3, "output_size": 2}
CASES = {
    "B1-last": {**SIZES, "batch_size": 1},
    "B2-bias-last": {**SIZES, "batch_size": 2, "init": {"bias_std": 0.3}},
    "B2-bias-all-sine": {**SIZES, "batch_size": 2, "init": {"bias_std": 0.3}, "loss": {"at": "all"},
                         "input": {"kind": "sine"}},
    "B3-adding-all-orthogonal": {"seq_len": 10, "hidden_size": 4, "batch_size": 3,
                                 "input": {"kind": "adding"}, "loss": {"at": "all"},
                                 "init": {"scheme": "orthogonal", "sigma_max": 1.3, "bias_std": 0.3}},
}
INCLUDE = ["params", "grads", "hidden", "jacobian"]


@pytest.fixture(scope="module")
def api():
    """The API's answer for a case, computed once per module."""
    client = TestClient(create_app(Settings()), raise_server_exceptions=False)
    answers = {}

    def get(case: str) -> dict:
        if case not in answers:
            body = {**CASES[case], "models": list(MODELS.values()), "include": INCLUDE}
            r = client.post("/api/runs", json=body)
            assert r.status_code == 200, r.text
            answers[case] = loads_strict(r.content)
        return answers[case]

    return get


class TorchModel:
    """One model of a RunResult in PyTorch: step(x_t [B, D], state) -> state, where a state
    is (h,) or (h, c); `grads()` gives ∂L/∂P under the API's parameter names."""

    def __init__(self, torch, cell: str, activation: str | None, params: dict):
        self.torch, self.cell = torch, cell
        P = {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}
        self.W_hy = P["W_hy"].clone().requires_grad_(True)
        self.b_y = P["b_y"].clone().requires_grad_(True)
        D, self.H = P["W_xh" if cell == "rnn" else "W_x"].shape[0], P["W_hy"].shape[0]
        if cell == "rnn":
            self.P = {k: P[k].clone().requires_grad_(True) for k in ("W_xh", "W_hh", "b_h")}
            self.phi = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
            return
        module = torch.nn.LSTMCell if cell == "lstm" else torch.nn.GRUCell
        self.module = module(D, self.H, dtype=torch.float64)
        with torch.no_grad():
            self.module.weight_ih.copy_(P["W_x"].T)
            self.module.weight_hh.copy_(P["W_h"].T)
            if cell == "lstm":
                self.module.bias_ih.copy_(P["b"])
                self.module.bias_hh.zero_()
            else:
                self.module.bias_ih.copy_(P["b_x"])
                self.module.bias_hh.copy_(P["b_h"])

    def zero_state(self, B: int) -> tuple:
        n = 2 if self.cell == "lstm" else 1
        return tuple(self.torch.zeros(B, self.H, dtype=self.torch.float64) for _ in range(n))

    def step(self, x, state: tuple) -> tuple:
        if self.cell == "rnn":
            P = self.P
            return (self.phi(x @ P["W_xh"] + state[0] @ P["W_hh"] + P["b_h"]),)
        if self.cell == "lstm":
            return tuple(self.module(x, state))
        return (self.module(x, state[0]),)

    def grads(self) -> dict:
        out = {"W_hy": self.W_hy.grad, "b_y": self.b_y.grad}
        if self.cell == "rnn":
            out.update({k: p.grad for k, p in self.P.items()})
            return out
        m = self.module
        out.update(W_x=m.weight_ih.grad.T, W_h=m.weight_hh.grad.T)
        if self.cell == "lstm":
            out["b"] = m.bias_ih.grad
        else:
            out.update(b_x=m.bias_ih.grad, b_h=m.bias_hh.grad)
        return out


def reference(torch, answer: dict, i: int) -> dict:
    """Loss, ∂L/∂h_t and ∂L/∂P from autograd for model i of the answer."""
    m = answer["models"][i]
    X = torch.tensor(answer["inputs"], dtype=torch.float64)  # [T, B, D]
    Y = torch.tensor(answer["targets"], dtype=torch.float64)  # [T, B, O]
    T, B, _ = X.shape
    model = TorchModel(torch, m["cell"], m["activation"], m["params"])
    state, hs = model.zero_state(B), []
    for t in range(T):
        state = model.step(X[t], state)
        state[0].retain_grad()
        hs.append(state[0])
    steps = range(T) if answer["config"]["loss"]["at"] == "all" else [T - 1]
    loss = sum(0.5 * ((hs[t] @ model.W_hy + model.b_y - Y[t]) ** 2).sum() for t in steps) / B
    loss.backward()
    return {
        "loss": loss.item(),
        "hidden": np.stack([h[0].detach().numpy() for h in hs]),
        "grad_norm": np.array([torch.linalg.vector_norm(h.grad).item() for h in hs]),
        "grads": np.stack([h.grad[0].numpy() for h in hs]),
        "param_grad_norm": {k: torch.linalg.vector_norm(g).item() for k, g in model.grads().items()},
    }


@pytest.mark.parametrize("key", list(MODELS))
@pytest.mark.parametrize("case", list(CASES))
def test_gradients_match_autograd(torch, api, case, key):
    answer = api(case)
    i = list(MODELS).index(key)
    m = answer["models"][i]
    ref = reference(torch, answer, i)
    np.testing.assert_allclose(m["hidden"], ref["hidden"], rtol=1e-12, atol=1e-14)
    assert m["loss"] == pytest.approx(ref["loss"], rel=1e-10)
    np.testing.assert_allclose(m["grad_norm"], ref["grad_norm"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(m["grads"], ref["grads"], rtol=1e-9, atol=1e-15 * np.abs(ref["grads"]).max())
    assert set(m["param_grad_norm"]) == set(ref["param_grad_norm"])
    for name, value in ref["param_grad_norm"].items():
        assert m["param_grad_norm"][name] == pytest.approx(value, rel=1e-9), name


@pytest.mark.parametrize("key", list(MODELS))
@pytest.mark.parametrize("case", ["B2-bias-last", "B3-adding-all-orthogonal"])
def test_jacobian_norm_matches_autograd(torch, api, case, key):
    """jacobian_norm[t] = ‖∂s_T/∂s_t‖₂ for batch item 0 (s = h, or (h, c) for the LSTM)."""
    answer = api(case)
    i = list(MODELS).index(key)
    m = answer["models"][i]
    X = torch.tensor(answer["inputs"], dtype=torch.float64)[:, :1]  # batch item 0
    T = X.shape[0]
    model = TorchModel(torch, m["cell"], m["activation"], m["params"])
    H = model.H
    with torch.no_grad():
        states, state = [], model.zero_state(1)
        for t in range(T):
            state = model.step(X[t], state)
            states.append(torch.cat(state, dim=1)[0])  # s_t, t = 1..T at index t − 1

    def tail(t: int):
        def f(s):
            state = tuple(s[k * H:(k + 1) * H][None] for k in range(len(s) // H))
            for k in range(t, T):  # steps t + 1 .. T
                state = model.step(X[k], state)
            return torch.cat(state, dim=1)[0]
        return f

    jacobians = [torch.autograd.functional.jacobian(tail(t), states[t - 1]) for t in range(1, T + 1)]
    expected = [torch.linalg.matrix_norm(J, ord=2).item() for J in jacobians]
    np.testing.assert_allclose(m["jacobian_norm"], expected, rtol=1e-8)


@pytest.mark.parametrize("key", ["rnn-sigmoid", "rnn-tanh", "lstm", "gru"])
def test_saturated_units_pass_no_gradient(torch, key):
    """Finite inputs of magnitude 1e308 saturate every σ and tanh: σ(z) and σ'(z) are exactly 0
    (or 1 and 0) in float64, so nothing flows back to the input weights. (relu overflows here,
    which is tested elsewhere.)"""
    client = TestClient(create_app(Settings()), raise_server_exceptions=False)
    body = {"models": [MODELS[key]], "input": {"kind": "values", "values": [[1e308, -1e308, 1e308]] * 4},
            "hidden_size": 4, "output_size": 2, "init": {"bias_std": 0.3}, "include": INCLUDE}
    r = client.post("/api/runs", json=body)
    assert r.status_code == 200, r.text
    answer = loads_strict(r.content)
    m, ref = answer["models"][0], reference(torch, answer, 0)
    assert m["loss"] == pytest.approx(ref["loss"], rel=1e-10)
    np.testing.assert_allclose(m["grad_norm"], ref["grad_norm"], rtol=1e-9, atol=0)
    for name, value in ref["param_grad_norm"].items():
        assert m["param_grad_norm"][name] == pytest.approx(value, rel=1e-9, abs=1e-300), name
