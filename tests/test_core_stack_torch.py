"""Stacked and bidirectional models against PyTorch autograd, in float64.

The model is PyTorch's own: an nn.RNN / nn.LSTM / nn.GRU with num_layers and bidirectional,
and an nn.Linear head; the core gets its state_dict (`core.stack.from_torch`). The references:

- the full module's parameter gradients, every one keyed by its PyTorch name, and ∂L/∂x_t;
- every (layer, direction)'s ∂L/∂h_t — the total derivative — from single-layer modules
  stacked by hand with the same weights, run a step at a time with `retain_grad()` on every
  h_t (`layer_by_layer`);
- the same through `core.run`: a run of a model given by its PyTorch weights.

PyTorch comes from the `torch` fixture (tests/conftest.py), so with CI=true a missing torch is
a failure, not a skip.
"""

import numpy as np
import pytest
from numerics import rel_err

from gradient_flow_lab.core.run import ModelSpec, RunSpec, collect, run
from gradient_flow_lab.core.stack import StackSweep, from_torch, torch_grads

pytestmark = pytest.mark.torch

RTOL = 1e-9
T, B, D, H, O = 5, 3, 3, 4, 3

MODULES = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", None), ("gru", None)]
MODULE_IDS = ["rnn-tanh", "rnn-relu", "lstm", "gru"]


def torch_module(torch, cell, activation, D_in, num_layers, bidirectional, bias):
    kw = {"num_layers": num_layers, "bidirectional": bidirectional, "bias": bias, "dtype": torch.float64}
    if cell == "rnn":
        return torch.nn.RNN(D_in, H, nonlinearity=activation, **kw)
    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](D_in, H, **kw)


def model(torch, cell, activation, num_layers, bidirectional, bias, seed):
    """A PyTorch model with every parameter drawn N(0, 0.5²) (biases too, so a layout mistake
    shows), and its head."""
    torch.manual_seed(seed)
    rnn = torch_module(torch, cell, activation, D, num_layers, bidirectional, bias)
    head = torch.nn.Linear((2 if bidirectional else 1) * H, O, dtype=torch.float64)
    with torch.no_grad():
        for p in [*rnn.parameters(), *head.parameters()]:
            p.normal_(0.0, 0.5)
    return rnn, head


def state_dict(rnn, head) -> dict[str, np.ndarray]:
    state = {k: v.detach().numpy().copy() for k, v in rnn.state_dict().items()}
    state.update(weight=head.weight.detach().numpy().copy(), bias=head.bias.detach().numpy().copy())
    return state


def problem(loss_kind, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, B, D))
    targets = rng.standard_normal((T, B, O)) if loss_kind == "mse" else rng.integers(0, O, size=(T, B))
    return X, targets


def torch_loss(torch, y, targets, loss_kind, loss_at):
    """The contract's L for outputs y [T, B, O]: the mean over the batch of the sum over S."""
    steps = slice(T - 1, T) if loss_at == "last" else slice(0, T)
    y = y[steps]
    if loss_kind == "mse":
        return 0.5 * ((y - torch.from_numpy(targets[steps])) ** 2).sum() / B
    k = torch.from_numpy(np.asarray(targets[steps], dtype=np.int64))
    return torch.nn.functional.cross_entropy(y.reshape(-1, O), k.reshape(-1), reduction="sum") / B


def layer_by_layer(torch, rnn, head, cell, activation, num_layers, bidirectional, bias, x):
    """The same model from single-layer, single-direction modules stacked by hand and run one
    step at a time, each step fed the h_{t−1} tensor the step before returned, which keeps its
    gradient (`retain_grad`): then h_t.grad is the total ∂L/∂h_t, through the later steps and the
    layers above. (A whole-sequence module's `out.grad` holds the path from above only: its
    recursion does not go through `out`.) Returns {(layer, direction): [h_1, …, h_T]} and the
    head's y."""
    dirs = 2 if bidirectional else 1
    hs, layer_input = {}, x
    for k in range(num_layers):
        outputs = []
        for direction, suffix in [("forward", ""), ("backward", "_reverse")][:dirs]:
            single = torch_module(torch, cell, activation, D if k == 0 else dirs * H, 1, False, bias)
            with torch.no_grad():
                for name, p in single.named_parameters():  # weight_ih_l0 <- weight_ih_l{k}[_reverse]
                    p.copy_(getattr(rnn, name.replace("_l0", f"_l{k}{suffix}")))
            h = torch.zeros(B, H)
            c = torch.zeros(1, B, H)
            steps = range(T) if direction == "forward" else range(T - 1, -1, -1)
            row = [None] * T
            for t in steps:
                out, state = single(layer_input[t:t + 1], (h[None], c) if cell == "lstm" else h[None])
                if cell == "lstm":
                    c = state[1]
                h = out[0]
                h.retain_grad()
                row[t] = h
            hs[(k + 1, direction)] = row
            outputs.append(torch.stack(row))
        layer_input = torch.cat(outputs, dim=-1)
    return hs, head(layer_input)


@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize("loss_kind", ["mse", "xent"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["one-way", "bidirectional"])
@pytest.mark.parametrize("num_layers", [2, 3])
@pytest.mark.parametrize(("cell", "activation"), MODULES, ids=MODULE_IDS)
def test_stack_matches_torch_autograd(torch, cell, activation, num_layers, bidirectional, bias, loss_kind,
                                      loss_at):
    rnn, head = model(torch, cell, activation, num_layers, bidirectional, bias, seed=num_layers)
    X, targets = problem(loss_kind)
    stack = from_torch(state_dict(rnn, head), activation)
    ss = StackSweep(stack, X, targets, loss_at, loss_kind, input_grads=True)
    loss = ss.run()

    # the full module
    x = torch.tensor(X, requires_grad=True)
    out, _ = rnn(x)
    torch_L = torch_loss(torch, head(out), targets, loss_kind, loss_at)
    torch_L.backward()
    assert loss == pytest.approx(torch_L.item(), rel=RTOL)
    expected = {**dict(rnn.named_parameters()), "weight": head.weight, "bias": head.bias}
    grads = torch_grads(stack, ss.param_grads())
    assert set(grads) == set(expected)  # every PyTorch parameter, no other
    for name, p in expected.items():
        assert rel_err(grads[name], p.grad.numpy()) < RTOL, name
    assert rel_err(ss.input_grads(), x.grad.numpy()) < RTOL

    # the hand-stacked layers: every unit's ∂L/∂h_t
    hs, y = layer_by_layer(torch, rnn, head, cell, activation, num_layers, bidirectional, bias,
                           torch.from_numpy(X))
    assert rel_err(y.detach().numpy(), head(out).detach().numpy()) < RTOL
    torch_loss(torch, y, targets, loss_kind, loss_at).backward()
    assert [(u.layer, u.direction) for u in ss.units] == list(hs)
    for unit in ss.units:
        dH = np.stack([h.grad.numpy() for h in hs[(unit.layer, unit.direction)]])  # [T, B, H] by time
        assert rel_err(unit.state_grads(), dH) < RTOL, (unit.layer, unit.direction)
        np.testing.assert_allclose(unit.grad_norms(), np.linalg.norm(dH.reshape(T, -1), axis=1),
                                   rtol=RTOL, atol=0)
        hidden = np.stack([h.detach().numpy() for h in hs[(unit.layer, unit.direction)]])
        assert rel_err(unit.hidden_states(), hidden) < RTOL


@pytest.mark.parametrize(("cell", "activation"), MODULES, ids=MODULE_IDS)
def test_run_of_a_torch_model_matches_torch(torch, cell, activation):
    """A run of a model given by PyTorch weights: the collected per-(layer, direction) gradient
    norms, hidden states and parameter gradients, against the hand-stacked layers."""
    num_layers, bidirectional = 2, True
    rnn, head = model(torch, cell, activation, num_layers, bidirectional, True, seed=7)
    state = state_dict(rnn, head)
    X, targets = problem("xent", seed=2)
    spec = RunSpec(models=(ModelSpec(cell, activation, num_layers, bidirectional, weights=state),), seq_len=T,
                   input_size=D, output_size=O, batch_size=B, input_kind="values", input_values=X,
                   targets=targets, loss_kind="xent", loss_at="all")
    (m,) = collect(run(spec)).models

    hs, y = layer_by_layer(torch, rnn, head, cell, activation, num_layers, bidirectional, True,
                           torch.from_numpy(X))
    torch_L = torch_loss(torch, y, targets, "xent", "all")
    torch_L.backward()
    assert m.loss == pytest.approx(torch_L.item(), rel=RTOL)
    assert [(r.layer, r.direction) for r in m.layers] == [(1, "forward"), (1, "backward"), (2, "forward"),
                                                          (2, "backward")]
    for r in m.layers:
        dH = np.stack([h.grad.numpy() for h in hs[(r.layer, r.direction)]])
        np.testing.assert_allclose(r.grad_norm, np.linalg.norm(dH.reshape(T, -1), axis=1), rtol=RTOL, atol=0)
        assert rel_err(r.grads, dH[:, 0]) < RTOL
        assert rel_err(r.hidden, np.stack([h.detach().numpy()[0] for h in hs[(r.layer, r.direction)]])) < RTOL
    grads = torch_grads(from_torch(state, activation), m.param_grads)
    full = torch_module(torch, cell, activation, D, num_layers, bidirectional, True)
    full.load_state_dict({k: torch.from_numpy(v) for k, v in state.items() if k not in ("weight", "bias")})
    out, _ = full(torch.from_numpy(X))
    head.zero_grad()
    torch_loss(torch, head(out), targets, "xent", "all").backward()
    for name, p in [*full.named_parameters(), ("weight", head.weight), ("bias", head.bias)]:
        assert rel_err(grads[name], p.grad.numpy()) < RTOL, name
