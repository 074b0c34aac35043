"""gfl.from_torch against PyTorch autograd, in float64: the loss, ‖∂L/∂h_t‖ at every t (the total
derivative, through a module run a step at a time with `retain_grad` on each h_t), the hidden
states and the parameters' gradient norms, for nn.RNN / nn.LSTM / nn.GRU with an nn.Linear head,
a batch-first module, cross-entropy, and a stacked bidirectional module. PyTorch comes from the
`torch` fixture: with CI=true a missing torch is a failure, not a skip."""

import numpy as np
import pytest

import gradient_flow_lab as gfl

pytestmark = pytest.mark.torch

RTOL = 1e-10
T, B, D, H, O = 9, 3, 2, 5, 3


def module(torch, cell, activation=None, **kw):
    kw = {"dtype": torch.float64, **kw}
    if cell == "rnn":
        return torch.nn.RNN(D, H, nonlinearity=activation, **kw)
    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](D, H, **kw)


def stepwise(torch, rnn, head, x):
    """h_1..h_T [B, H] of a one-layer module run one step at a time, each retaining its gradient,
    and the outputs y [T, B, O]."""
    h = torch.zeros(1, B, H, dtype=torch.float64)
    c = torch.zeros(1, B, H, dtype=torch.float64)
    hs = []
    for t in range(T):
        _, state = rnn(x[t : t + 1], (h, c) if isinstance(rnn, torch.nn.LSTM) else h)
        h, c = (state[0], state[1]) if isinstance(rnn, torch.nn.LSTM) else (state, c)
        h.retain_grad()
        hs.append(h)
    return hs, head(torch.cat(hs, dim=0))


@pytest.mark.parametrize(
    ("cell", "activation"), [("rnn", "tanh"), ("rnn", "relu"), ("lstm", None), ("gru", None)]
)
@pytest.mark.parametrize("at", ["last", "all"])
def test_from_torch_is_torch_autograd(torch, cell, activation, at):
    torch.manual_seed(7)
    rnn = module(torch, cell, activation)
    head = torch.nn.Linear(H, O, dtype=torch.float64)
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, O))
    run = gfl.from_torch(rnn, torch.from_numpy(X), torch.from_numpy(Y), head=head, at=at)

    hs, y = stepwise(torch, rnn, head, torch.from_numpy(X))
    steps = slice(T - 1, T) if at == "last" else slice(0, T)
    loss = 0.5 * ((y[steps] - torch.from_numpy(Y[steps])) ** 2).sum() / B
    loss.backward()
    m = run.models[0]
    assert m.loss == pytest.approx(loss.item(), rel=RTOL)
    expected = np.array([h.grad.norm().item() for h in hs])  # ‖∂L/∂h_t‖_F over the batch
    np.testing.assert_allclose(m.grad_norm, expected, rtol=RTOL)
    np.testing.assert_allclose(m.hidden, np.stack([h.detach().numpy()[0, 0] for h in hs]), rtol=RTOL)
    w_hh = "W_hh" if cell == "rnn" else "W_h"
    assert m.param_grad_norm[w_hh] == pytest.approx(rnn.weight_hh_l0.grad.norm().item(), rel=RTOL)
    assert m.param_grad_norm["W_hy"] == pytest.approx(head.weight.grad.norm().item(), rel=RTOL)
    assert m.label == {"rnn": f"RNN ({activation})", "lstm": "LSTM", "gru": "GRU"}[cell]


def test_a_batch_first_module_with_class_targets(torch):
    torch.manual_seed(2)
    rnn = module(torch, "lstm", batch_first=True)
    head = torch.nn.Linear(H, O, dtype=torch.float64)
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.standard_normal((B, T, D)))  # batch first
    classes = torch.from_numpy(rng.integers(0, O, size=(B, T)))
    run = gfl.from_torch(rnn, x, classes, loss="xent", at="all", head=head)
    out, _ = rnn(x)
    loss = (
        torch.nn.functional.cross_entropy(head(out).reshape(-1, O), classes.reshape(-1), reduction="sum") / B
    )
    loss.backward()
    m = run.models[0]
    assert m.loss == pytest.approx(loss.item(), rel=RTOL)
    assert m.param_grad_norm["W_h"] == pytest.approx(rnn.weight_hh_l0.grad.norm().item(), rel=RTOL)
    assert run.config["loss"] == {"kind": "xent", "at": "all"}


def test_a_stacked_bidirectional_module(torch):
    torch.manual_seed(4)
    rnn = module(torch, "gru", num_layers=2, bidirectional=True)
    head = torch.nn.Linear(2 * H, 1, dtype=torch.float64)
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, 1))
    run = gfl.from_torch(rnn, X, Y, head=head)
    out, _ = rnn(torch.from_numpy(X))
    loss = 0.5 * ((head(out)[-1] - torch.from_numpy(Y[-1])) ** 2).sum() / B
    loss.backward()
    m = run.models[0]
    assert (m.num_layers, m.bidirectional) == (2, True)
    assert m.loss == pytest.approx(loss.item(), rel=RTOL)
    for name, p in rnn.named_parameters():  # weight_hh_l1_reverse -> W_h_l1_reverse, …
        core = name.replace("weight_ih", "W_x").replace("weight_hh", "W_h").replace("bias_ih", "b_x")
        core = core.replace("bias_hh", "b_h")
        assert m.param_grad_norm[core] == pytest.approx(p.grad.norm().item(), rel=RTOL), name
    assert [(u.layer, u.direction) for u in m.layers] == [
        (1, "forward"),
        (1, "backward"),
        (2, "forward"),
        (2, "backward"),
    ]


def test_a_module_without_head_gets_the_seed_readout(torch):
    rnn = module(torch, "rnn", "tanh")
    run = gfl.from_torch(rnn, np.ones((T, D)), output_size=2, seed=3)
    assert run.config["output_size"] == 2 and run.config["seed"] == 3 and np.isfinite(run.models[0].loss)
    with pytest.raises(ValueError, match="proj_size"):
        gfl.from_torch(module(torch, "lstm", proj_size=2), np.ones((T, D)))
