"""The training core: the long-range tasks and their baselines, the softmax cross-entropy
output layer, the optimisers and clipping against hand-computed numbers and PyTorch, the
training loop's determinism, thinning and frame order, and the demonstration (a short
variant): on the adding problem the LSTM and the GRU learn, the vanilla RNNs do not.

PyTorch comes from the `torch` fixture (tests/conftest.py): with CI=true a missing torch is a
failure, not a skip.
"""

import dataclasses
import math
import os

# One BLAS thread, as app/__init__.py sets for the server, before numpy loads (when this module
# is the first to load it): with OpenBLAS's default of a thread per core, the many tiny
# products of a training slow down by up to 10× on a busy 2-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numerics import numeric_grad as central_difference
from numerics import rel_err

from gradient_flow_lab.core.bptt import Sweep, output_grads
from gradient_flow_lab.core.cells import make_cell
from gradient_flow_lab.core.init import InitSpec, init_params
from gradient_flow_lab.core.optim import SGD, Adam, clip_by_global_norm, global_norm, make_optimizer
from gradient_flow_lab.core.run import CELL_STREAMS, ModelSpec
from gradient_flow_lab.core.tasks import COPY_KINDS, ORDER_SYMBOLS, TASKS, Task, one_hot
from gradient_flow_lab.core.train import (
    EVAL_CHUNK,
    EVAL_STREAM,
    PROFILE_POINTS,
    TRAIN_STREAM,
    Evaluation,
    Progress,
    TrainDone,
    TrainSpec,
    TrainStart,
    evaluate,
    profile_steps,
    train,
)


def log_softmax(y: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, written here (not taken from core.bptt)."""
    shifted = y - y.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(logits: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """−log p(class) for every row: logits [..., K], classes [...] -> [...]."""
    return -np.take_along_axis(log_softmax(logits), classes[..., None], axis=-1)[..., 0]


# --- tasks ------------------------------------------------------------------------------------

def test_the_tasks_are_the_contracts():
    assert TASKS == ("adding", "copy", "temporal_order")
    assert ORDER_SYMBOLS == ("start", "end", "c", "d", "e", "f", "X", "Y")


@pytest.mark.parametrize(("name", "T", "length", "D", "O"), [
    ("adding", 17, 17, 2, 1),
    ("copy", 17, 37, 10, 10),  # T + 20 steps, one-hot inputs of 10 kinds
    ("temporal_order", 17, 17, 8, 4),  # 8 kinds of symbol, 4 classes
])
def test_batch_shapes(name, T, length, D, O):
    task = Task(name, T)
    assert (task.length, task.input_size, task.output_size) == (length, D, O)
    X, targets = task.batch(5, np.random.default_rng(0))
    assert X.shape == (length, 5, D)
    assert X.dtype == np.float64
    if name == "adding":
        assert targets.shape == (length, 5, 1)
        assert (task.loss, task.loss_at, task.metric) == ("mse", "last", "mse")
    else:
        assert targets.shape == (length, 5)
        assert np.issubdtype(targets.dtype, np.integer)
        assert targets.min() >= 0 and targets.max() < O
        np.testing.assert_array_equal(X.sum(axis=-1), 1.0)  # one-hot
        assert set(np.unique(X)) <= {0.0, 1.0}
        assert (task.loss, task.metric) == ("xent", "accuracy")
        assert task.loss_at == ("all" if name == "copy" else "last")


@settings(max_examples=40, deadline=None)
@given(T=st.integers(2, 80), B=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_adding_has_one_marker_in_each_half_and_sums_the_marked_values(T, B, seed):
    X, targets = Task("adding", T).batch(B, np.random.default_rng(seed))
    values, markers = X[..., 0], X[..., 1]
    assert np.all((values >= 0) & (values <= 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    np.testing.assert_array_equal(markers[:T // 2].sum(axis=0), 1.0)
    np.testing.assert_array_equal(markers[T // 2:].sum(axis=0), 1.0)
    np.testing.assert_allclose(targets[-1, :, 0], (values * markers).sum(axis=0), rtol=1e-15)


@settings(max_examples=40, deadline=None)
@given(T=st.integers(1, 60), B=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_copy_is_ten_symbols_blanks_a_delimiter_and_the_symbols_recalled(T, B, seed):
    task = Task("copy", T)
    X, targets = task.batch(B, np.random.default_rng(seed))
    kinds = X.argmax(axis=-1)
    symbols = kinds[:10]
    assert np.all((symbols >= 1) & (symbols <= 8))
    np.testing.assert_array_equal(kinds[10:10 + T - 1], 0)  # T − 1 blanks
    np.testing.assert_array_equal(kinds[10 + T - 1], COPY_KINDS - 1)  # the delimiter, 9
    np.testing.assert_array_equal(kinds[T + 10:], 0)  # 10 more blanks
    np.testing.assert_array_equal(targets[:T + 10], 0)  # blanks, then ...
    np.testing.assert_array_equal(targets[T + 10:], symbols)  # ... the 10 input symbols


@settings(max_examples=40, deadline=None)
@given(T=st.integers(10, 120), B=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_temporal_order_has_two_relevant_symbols_in_their_windows_and_their_order(T, B, seed):
    X, targets = Task("temporal_order", T).batch(B, np.random.default_rng(seed))
    kinds = X.argmax(axis=-1)
    start, end, X_, Y_ = (ORDER_SYMBOLS.index(s) for s in ("start", "end", "X", "Y"))
    distractors = [ORDER_SYMBOLS.index(s) for s in "cdef"]
    np.testing.assert_array_equal(kinds[0], start)
    np.testing.assert_array_equal(kinds[-1], end)
    for b in range(B):
        (where,) = np.nonzero((kinds[:, b] == X_) | (kinds[:, b] == Y_))
        assert len(where) == 2, where  # exactly two relevant symbols
        t1, t2 = where
        assert int(0.1 * T) <= t1 <= int(0.2 * T)
        assert int(0.5 * T) <= t2 <= int(0.6 * T)
        rest = np.delete(kinds[1:-1, b], [t1 - 1, t2 - 1])
        assert np.all(np.isin(rest, distractors))
        order = {(X_, X_): 0, (X_, Y_): 1, (Y_, X_): 2, (Y_, Y_): 3}  # XX, XY, YX, YY
        assert targets[-1, b] == order[(kinds[t1, b], kinds[t2, b])]


def test_temporal_order_needs_ten_steps():
    with pytest.raises(ValueError, match="seq_len"):
        Task("temporal_order", 9).batch(2, np.random.default_rng(0))


def test_an_unknown_task_is_refused():
    with pytest.raises(ValueError, match="unknown task"):
        Task("parity", 10).batch(2, np.random.default_rng(0))


def test_adding_baseline_is_one_sixth_by_monte_carlo():
    """Always answering 1 scores E[(u₁ + u₂ − 1)²] = 1/6. Over N = 200 000 sequences the
    standard error of the mean is √(7/180 / N) ≈ 4.4e-4; the tolerance is 4.5 of them."""
    task = Task("adding", 12)
    assert task.loss_baseline == task.metric_baseline == pytest.approx(1 / 6, rel=1e-15)
    _, targets = task.batch(200_000, np.random.default_rng(2024))
    always_one = np.ones_like(targets)
    assert task.score(always_one, targets) == pytest.approx(1 / 6, abs=2e-3)
    assert np.mean((targets[-1, :, 0] - 1.0) ** 2) == pytest.approx(1 / 6, abs=2e-3)


@pytest.mark.parametrize("T", [1, 10, 50])
def test_copy_baseline_is_the_memoryless_cross_entropy(T):
    """Blanks with probability 1 for the first T + 10 steps, then uniform over the 8 symbols:
    the cross-entropy averaged over the T + 20 steps and the batch is 10·ln 8 / (T + 20)."""
    task = Task("copy", T)
    B = 64
    _, targets = task.batch(B, np.random.default_rng(T))
    L = task.length
    logits = np.full((L, B, COPY_KINDS), -1e4)  # probability 0 (exp underflows to 0.0)
    logits[:T + 10, :, 0] = 0.0  # the blank, with probability 1
    logits[T + 10:, :, 1:9] = 0.0  # a uniform guess over symbols 1..8
    memoryless = float(np.mean(cross_entropy(logits, targets)))
    expected = 10 * math.log(8) / (T + 20)
    assert memoryless == pytest.approx(expected, rel=1e-13)
    assert task.loss_baseline == pytest.approx(expected, rel=1e-13)
    # the training loss (core.bptt's softmax cross-entropy at the task's scale) agrees
    P = {"W_hy": np.eye(COPY_KINDS), "b_y": np.zeros(COPY_KINDS)}
    value, _, _ = output_grads(logits, P, targets, task.loss_at, task.loss, task.loss_scale(B))
    assert value == pytest.approx(expected, rel=1e-13)
    # and it remembers nothing: its accuracy on the recalled symbols is chance, not 0 or 1
    assert 0.0 < task.score(logits + np.random.default_rng(1).uniform(0, 1e-3, logits.shape),
                            targets) < 0.5
    assert task.metric_baseline == 1 / 8


def test_temporal_order_baseline_is_ln4():
    """The classes are uniform over XX, XY, YX, YY, so the best memoryless answer is the uniform
    guess, with cross-entropy ln 4."""
    task = Task("temporal_order", 20)
    B = 40_000
    _, targets = task.batch(B, np.random.default_rng(5))
    counts = np.bincount(targets[-1], minlength=4) / B
    np.testing.assert_allclose(counts, 0.25, atol=0.01)  # 4 standard errors ≈ 0.0087
    assert task.loss_baseline == pytest.approx(math.log(4), rel=1e-15)
    assert task.metric_baseline == 0.25
    P = {"W_hy": np.eye(4), "b_y": np.zeros(4)}
    value, _, _ = output_grads(np.zeros((20, B, 4)), P, targets, task.loss_at, task.loss,
                               task.loss_scale(B))
    assert value == pytest.approx(math.log(4), rel=1e-13)


def test_score_adding_is_the_mse_at_the_last_step():
    task = Task("adding", 4)
    targets = np.zeros((4, 2, 1))
    targets[-1, :, 0] = [0.5, 1.25]
    Y = np.full((4, 2, 1), 99.0)  # only t = T counts
    Y[-1, :, 0] = [0.6, 1.05]  # errors 0.1 and −0.2
    assert task.score(Y, targets) == pytest.approx((0.1**2 + 0.2**2) / 2, rel=1e-12)


def test_score_copy_is_the_accuracy_on_the_last_ten_steps():
    task = Task("copy", 2)  # 22 steps
    targets = np.zeros((22, 2), dtype=np.intp)
    targets[-10:, 0] = [1, 2, 3, 4, 5, 6, 7, 8, 1, 2]
    targets[-10:, 1] = [8, 7, 6, 5, 4, 3, 2, 1, 8, 7]
    Y = one_hot(targets, COPY_KINDS)
    Y[:12] = one_hot(np.full((12, 2), 9), COPY_KINDS)  # wrong before the recall: not scored
    Y[-1, 0] = one_hot(np.array(3), COPY_KINDS)  # three wrong answers out of 20
    Y[-4, 1] = one_hot(np.array(0), COPY_KINDS)
    Y[-10, 1] = one_hot(np.array(1), COPY_KINDS)
    assert task.score(Y, targets) == pytest.approx(17 / 20, rel=1e-15)


def test_score_temporal_order_is_the_accuracy_at_the_last_step():
    task = Task("temporal_order", 10)
    targets = np.zeros((10, 4), dtype=np.intp)
    targets[-1] = [0, 1, 2, 3]
    Y = np.zeros((10, 4, 4))
    Y[:-1, :, 3] = 5.0  # earlier steps do not count
    Y[-1] = [[2.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 0, 0.5], [0, 0, 0, 3.0]]  # item 2 wrong
    assert task.score(Y, targets) == pytest.approx(0.75, rel=1e-15)


@pytest.mark.parametrize(("name", "value", "solved"), [
    ("adding", 0.0099, True), ("adding", 0.01, False), ("adding", 1 / 6, False),
    ("copy", 0.995, True), ("copy", 0.99, False), ("temporal_order", 1.0, True),
    ("temporal_order", 0.25, False),
])
def test_solved_is_mse_below_0_01_or_accuracy_above_0_99(name, value, solved):
    assert Task(name, 10).solved(value) is solved


def test_one_hot():
    kinds = np.array([[0, 2], [1, 0]])
    expected = np.array([[[1.0, 0, 0], [0, 0, 1.0]], [[0, 1.0, 0], [1.0, 0, 0]]])
    out = one_hot(kinds, 3)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(one_hot(np.array([3]), 4), [[0.0, 0, 0, 1]])


@pytest.mark.parametrize(("name", "expected"), [
    ("adding", lambda B, L: 2.0 / B),  # ½ Σ (y − y*)² · 2/B = the mean squared error
    ("copy", lambda B, L: 1.0 / (B * L)),  # the mean over the batch and the T + 20 steps
    ("temporal_order", lambda B, L: 1.0 / B),
])
def test_loss_scale(name, expected):
    task = Task(name, 12)
    assert task.loss_scale(8) == pytest.approx(expected(8, task.length), rel=1e-15)


# --- the softmax cross-entropy output layer ---------------------------------------------------

D, H, K, T = 3, 4, 4, 5  # input, hidden, classes, steps of the gradient checks
EPS = 1e-5  # central-difference step
RTOL = 1e-6  # the style guide's bound on the relative error of a gradient check
XENT_CASES = [("rnn", "tanh"), ("lstm", None), ("gru", None)]
XENT_IDS = ["rnn-tanh", "lstm", "gru"]
SCALE = 0.37  # a loss scale that is none of the defaults


def xent_problem(cell_name, activation, B=3, seed=21):
    cell = make_cell(cell_name, activation)
    rng = np.random.default_rng(seed)
    P = init_params(cell, D, H, K, InitSpec(bias_std=0.5), rng)
    X = rng.standard_normal((T, B, D))
    classes = rng.integers(0, K, size=(T, B))
    return cell, P, X, classes


def reference_loss(cell, P, X, classes, loss_at, scale) -> float:
    """scale · Σ_{t∈S} Σ_b −log softmax(h_t W_hy + b_y)[k], from the composed step functions."""
    T_, B, _ = X.shape
    state = cell.zero_state(B, P["W_hy"].shape[0])
    total = 0.0
    steps = [T_ - 1] if loss_at == "last" else range(T_)
    hs = []
    for t in range(T_):
        state, _ = cell.step_forward(X[t], state, P)
        hs.append(state[0])
    for t in steps:
        total += float(np.sum(cross_entropy(hs[t] @ P["W_hy"] + P["b_y"], classes[t])))
    return scale * total


def numeric_grad(f, a: np.ndarray) -> np.ndarray:
    return central_difference(f, a, EPS)


def sweep_grads(cell, P, X, targets, loss_at, loss, scale):
    sw = Sweep(cell, P, X, targets, loss_at, loss_kind=loss, loss_scale=scale)
    value = sw.run()
    return sw, value, sw.param_grads()


@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize(("cell_name", "activation"), XENT_CASES, ids=XENT_IDS)
def test_cross_entropy_gradients_with_a_loss_scale_match_central_differences(
        cell_name, activation, loss_at):
    cell, P, X, classes = xent_problem(cell_name, activation)
    _, value, grads = sweep_grads(cell, P, X, classes, loss_at, "xent", SCALE)

    def f():
        return reference_loss(cell, P, X, classes, loss_at, SCALE)

    assert value == pytest.approx(f(), rel=1e-13)
    assert set(grads) == set(P)
    for name in P:
        assert rel_err(grads[name], numeric_grad(f, P[name])) < RTOL, name


@pytest.mark.parametrize(("task_name", "T_task"), [("copy", 2), ("temporal_order", 10)])
@pytest.mark.parametrize(("cell_name", "activation"), XENT_CASES, ids=XENT_IDS)
def test_cross_entropy_gradients_on_task_data_match_central_differences(
        cell_name, activation, task_name, T_task):
    """The loss a training step uses: the task's batch, loss_at and loss scale."""
    task = Task(task_name, T_task)
    B = 2
    cell = make_cell(cell_name, activation)
    rng = np.random.default_rng(22)
    P = init_params(cell, task.input_size, 3, task.output_size, InitSpec(bias_std=0.5), rng)
    X, targets = task.batch(B, rng)
    scale = task.loss_scale(B)
    _, value, grads = sweep_grads(cell, P, X, targets, task.loss_at, task.loss, scale)

    def f():
        return reference_loss(cell, P, X, targets, task.loss_at, scale)

    assert value == pytest.approx(f(), rel=1e-13)
    for name in P:
        assert rel_err(grads[name], numeric_grad(f, P[name])) < RTOL, name


@pytest.mark.torch
@pytest.mark.parametrize("scale", [None, SCALE])
@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize(("cell_name", "activation"), XENT_CASES, ids=XENT_IDS)
def test_cross_entropy_matches_torch_on_the_same_logits(torch, cell_name, activation, loss_at, scale):
    """Loss and ∂L/∂y against F.cross_entropy(reduction="sum") · scale (scale None: 1/B); ∂L/∂y
    is zero outside S."""
    cell, P, X, classes = xent_problem(cell_name, activation, B=4)
    sw, value, _ = sweep_grads(cell, P, X, classes, loss_at, "xent", scale)
    S = [T - 1] if loss_at == "last" else list(range(T))
    logits = torch.tensor(sw.outputs()[S], dtype=torch.float64, requires_grad=True)
    target = torch.tensor(classes[S], dtype=torch.long)
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, K), target.reshape(-1), reduction="sum")
    ref = ref * (1.0 / 4 if scale is None else scale)
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-13)
    assert rel_err(sw.dY[S], logits.grad.numpy()) < 1e-13
    outside = np.delete(sw.dY, S, axis=0)
    np.testing.assert_array_equal(outside, 0.0)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["copy", "temporal_order"])
def test_task_loss_scale_is_torchs_mean_cross_entropy(torch, name):
    """copy: the mean over the batch and every step; temporal order: the mean over the batch at T."""
    task = Task(name, 10)
    B = 6
    _, targets = task.batch(B, np.random.default_rng(3))
    logits = np.random.default_rng(4).standard_normal((task.length, B, task.output_size))
    P = {"W_hy": np.eye(task.output_size), "b_y": np.zeros(task.output_size)}
    value, _, _ = output_grads(logits, P, targets, task.loss_at, task.loss, task.loss_scale(B))
    S = slice(None) if task.loss_at == "all" else slice(-1, None)
    ref = torch.nn.functional.cross_entropy(
        torch.tensor(logits[S]).reshape(-1, task.output_size),
        torch.tensor(targets[S], dtype=torch.long).reshape(-1))  # reduction="mean"
    assert value == pytest.approx(ref.item(), rel=1e-13)


# --- optimisers -------------------------------------------------------------------------------

def tiny_params():
    return {"a": np.array([1.0, -2.0]), "b": np.array([[0.5]])}


G1 = {"a": np.array([0.5, 1.0]), "b": np.array([[-2.0]])}
G2 = {"a": np.array([-1.0, 0.25]), "b": np.array([[1.0]])}


def grads(g):
    return {k: v.copy() for k, v in g.items()}


def test_sgd_without_momentum_by_hand():
    P = tiny_params()
    arrays = dict(P)
    opt = SGD(lr=0.1)
    opt.step(P, grads(G1))  # p − 0.1 g
    np.testing.assert_allclose(P["a"], [1.0 - 0.1 * 0.5, -2.0 - 0.1 * 1.0], rtol=1e-15)
    np.testing.assert_allclose(P["b"], [[0.5 + 0.1 * 2.0]], rtol=1e-15)
    opt.step(P, grads(G2))
    np.testing.assert_allclose(P["a"], [0.95 + 0.1 * 1.0, -2.1 - 0.1 * 0.25], rtol=1e-15)
    np.testing.assert_allclose(P["b"], [[0.7 - 0.1 * 1.0]], rtol=1e-15)
    assert all(P[k] is arrays[k] for k in P)  # updated in place


def test_sgd_with_momentum_by_hand():
    """PyTorch's form: v ← 0.9 v + g (v = g at the first step), p ← p − lr v."""
    P = tiny_params()
    opt = SGD(lr=0.1, momentum=0.9)
    g1 = grads(G1)
    opt.step(P, g1)  # v = g1
    np.testing.assert_allclose(P["a"], [0.95, -2.1], rtol=1e-15)
    np.testing.assert_allclose(P["b"], [[0.7]], rtol=1e-15)
    g1["a"][:] = 1e6  # the velocity is not the caller's gradient array
    opt.step(P, grads(G2))  # v = 0.9 g1 + g2 = a: [−0.55, 1.15], b: [[−0.8]]
    np.testing.assert_allclose(P["a"], [0.95 - 0.1 * (0.9 * 0.5 - 1.0), -2.1 - 0.1 * (0.9 * 1.0 + 0.25)],
                               rtol=1e-14)
    np.testing.assert_allclose(P["a"], [1.005, -2.215], rtol=1e-14)
    np.testing.assert_allclose(P["b"], [[0.7 - 0.1 * (0.9 * -2.0 + 1.0)]], rtol=1e-14)
    np.testing.assert_allclose(P["b"], [[0.78]], rtol=1e-14)


def test_adam_by_hand():
    """β = (0.9, 0.999), ε = 1e-8, bias-corrected: m̂ = m / (1 − β₁ᵏ), v̂ = v / (1 − β₂ᵏ)."""
    P = tiny_params()
    opt = Adam(lr=0.1)
    assert (opt.beta1, opt.beta2, opt.eps) == (0.9, 0.999, 1e-8)
    opt.step(P, grads(G1))
    # step 1: m̂ = g, v̂ = g², so p ← p − 0.1 · g / (|g| + ε)
    np.testing.assert_allclose(P["a"], [1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 - 0.1 * 1.0 / (1.0 + 1e-8)],
                               rtol=1e-15)
    np.testing.assert_allclose(P["b"], [[0.5 + 0.1 * 2.0 / (2.0 + 1e-8)]], rtol=1e-15)
    a1, b1 = P["a"].copy(), P["b"].copy()
    opt.step(P, grads(G2))
    # step 2: m = 0.9 · 0.1 g₁ + 0.1 g₂,  v = 0.999 · 0.001 g₁² + 0.001 g₂²
    c1, c2 = 1 - 0.9**2, 1 - 0.999**2  # 0.19, 0.001999
    m = {"a0": 0.09 * 0.5 + 0.1 * -1.0, "a1": 0.09 * 1.0 + 0.1 * 0.25, "b": 0.09 * -2.0 + 0.1 * 1.0}
    v = {"a0": 0.000999 * 0.25 + 0.001 * 1.0, "a1": 0.000999 * 1.0 + 0.001 * 0.0625,
         "b": 0.000999 * 4.0 + 0.001 * 1.0}

    def update(k):
        return 0.1 * (m[k] / c1) / (math.sqrt(v[k] / c2) + 1e-8)

    np.testing.assert_allclose(P["a"], [a1[0] - update("a0"), a1[1] - update("a1")], rtol=1e-13)
    np.testing.assert_allclose(P["b"], [[b1[0, 0] - update("b")]], rtol=1e-13)
    assert m["a0"] == pytest.approx(-0.055) and v["a0"] == pytest.approx(0.00124975)


def test_make_optimizer():
    assert make_optimizer("sgd", 0.5, 0.9) == SGD(lr=0.5, momentum=0.9)
    assert make_optimizer("adam", 0.01) == Adam(lr=0.01)
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("rmsprop", 0.1)


OPTIMIZER_CASES = [("sgd", 0.05, 0.0), ("sgd", 0.05, 0.9), ("adam", 0.01, 0.0), ("adam", 0.3, 0.0)]


@pytest.mark.torch
@pytest.mark.parametrize(("name", "lr", "momentum"), OPTIMIZER_CASES)
def test_optimizers_match_torch_over_several_steps(torch, name, lr, momentum):
    rng = np.random.default_rng(7)
    P = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4), "s": rng.standard_normal((1,))}
    tp = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in P.items()}
    if name == "sgd":
        ref = torch.optim.SGD(list(tp.values()), lr=lr, momentum=momentum)
    else:
        ref = torch.optim.Adam(list(tp.values()), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    opt = make_optimizer(name, lr, momentum)
    for _ in range(8):
        g = {k: rng.standard_normal(v.shape) * rng.uniform(0.01, 10.0) for k, v in P.items()}
        for k, p in tp.items():
            p.grad = torch.tensor(g[k].copy())
        ref.step()
        opt.step(P, g)
        for k in P:
            np.testing.assert_allclose(P[k], tp[k].detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=k)


# --- clipping ---------------------------------------------------------------------------------

def test_clipping_scales_to_the_threshold_and_keeps_the_direction():
    g = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}  # ‖g‖ = 5
    norm, clipped = clip_by_global_norm(g, 1.0)
    assert (norm, clipped) == (5.0, True)
    np.testing.assert_allclose(g["a"], [0.6, 0.0], rtol=1e-15)
    np.testing.assert_allclose(g["b"], [[0.8]], rtol=1e-15)
    assert global_norm(g) == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("threshold", [5.0, 10.0, None])
def test_clipping_leaves_gradients_at_or_below_the_threshold_alone(threshold):
    g = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    norm, clipped = clip_by_global_norm(g, threshold)
    assert (norm, clipped) == (5.0, False)
    np.testing.assert_array_equal(g["a"], [3.0, 0.0])
    np.testing.assert_array_equal(g["b"], [[4.0]])


def test_no_threshold_never_clips():
    g = {"a": np.full((10, 10), 1e150)}
    norm, clipped = clip_by_global_norm(g, None)
    assert norm == pytest.approx(1e151, rel=1e-14) and not clipped
    np.testing.assert_array_equal(g["a"], 1e150)


def test_a_non_finite_norm_is_reported_and_left_alone():
    g = {"a": np.array([np.inf, 1.0]), "b": np.array([2.0])}
    norm, clipped = clip_by_global_norm(g, 1.0)
    assert norm == np.inf and not clipped
    np.testing.assert_array_equal(g["b"], [2.0])


arrays = st.lists(st.integers(1, 6), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(shapes=arrays, seed=st.integers(0, 2**32 - 1), log_scale=st.floats(-3, 3),
       threshold=st.floats(0.01, 100.0))
def test_clipping_bounds_the_norm_and_keeps_the_direction(shapes, seed, log_scale, threshold):
    rng = np.random.default_rng(seed)
    g = {f"p{k}": rng.standard_normal((n, 2)) * 10**log_scale for k, n in enumerate(shapes)}
    before = {k: v.copy() for k, v in g.items()}
    norm, clipped = clip_by_global_norm(g, threshold)
    assert norm == pytest.approx(global_norm(before), rel=1e-15)
    assert clipped == (norm > threshold)
    if clipped:
        assert global_norm(g) == pytest.approx(threshold, rel=1e-12)
        for k in g:  # the same direction: g = before · τ/‖before‖
            np.testing.assert_allclose(g[k], before[k] * (threshold / norm), rtol=1e-13)
    else:
        for k in g:
            np.testing.assert_array_equal(g[k], before[k])


@pytest.mark.torch
@pytest.mark.parametrize(("target_norm", "threshold"), [(3.7, 1.0), (250.0, 2.5), (0.4, 1.0), (1.0, 1.0)])
def test_clipping_matches_torch_clip_grad_norm(torch, target_norm, threshold):
    """torch scales by τ / (‖g‖ + 1e-6), capped at 1: equal within a relative 1e-6 / ‖g‖."""
    rng = np.random.default_rng(8)
    g = {"W": rng.standard_normal((4, 5)), "b": rng.standard_normal(5)}
    norm0 = global_norm(g)
    for v in g.values():
        v *= target_norm / norm0
    ps = []
    for v in g.values():
        p = torch.zeros(v.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(v.copy())
        ps.append(p)
    ref_norm = torch.nn.utils.clip_grad_norm_(ps, threshold)
    norm, clipped = clip_by_global_norm(g, threshold)
    assert norm == pytest.approx(ref_norm.item(), rel=1e-13)
    assert clipped == (target_norm > threshold)
    for v, p in zip(g.values(), ps, strict=True):
        np.testing.assert_allclose(v, p.grad.numpy(), rtol=2e-6 / target_norm, atol=0)


# --- the training loop ------------------------------------------------------------------------

TWO = (ModelSpec("rnn", "tanh"), ModelSpec("gru"))


def small_spec(**kw) -> TrainSpec:
    base = dict(models=TWO, task="adding", seq_len=10, hidden_size=8, batch_size=8, steps=30,
                eval_every=10, eval_size=50, seed=0)
    return TrainSpec(**{**base, **kw})


def plain(x):
    """A frame (or anything in it) as plain Python values, comparable with ==."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__, {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)})
    if isinstance(x, np.ndarray):
        return (x.dtype.str, x.shape, x.tolist())
    if isinstance(x, list | tuple):
        return [plain(v) for v in x]
    if isinstance(x, dict):  # a model's parameters at the end (ModelOutcome.params)
        return {k: plain(v) for k, v in x.items()}
    return x


def kinds(frames):
    return [(type(f).__name__, getattr(f, "model", None), getattr(f, "step", None)) for f in frames]


@pytest.mark.parametrize("task", TASKS)
def test_same_spec_same_frames(task):
    spec = small_spec(task=task)
    first, second = list(train(spec)), list(train(spec))
    assert plain(first) == plain(second)
    progress = [f for f in first if isinstance(f, Progress)]
    assert len(progress) == 2 * 30
    assert all(np.isfinite(f.loss) and np.isfinite(f.grad_norm_total) for f in progress)


@pytest.mark.parametrize("task", TASKS)
def test_another_seed_other_frames(task):
    a = [f for f in train(small_spec(task=task)) if isinstance(f, Progress)]
    b = [f for f in train(small_spec(task=task, seed=1)) if isinstance(f, Progress)]
    assert len(a) == len(b)
    assert all(x.loss != y.loss for x, y in zip(a, b, strict=True))
    assert all(x.grad_norm_total != y.grad_norm_total for x, y in zip(a, b, strict=True))


def test_a_models_training_does_not_depend_on_the_other_models():
    """Weights depend only on the seed and the cell type, batches only on the seed: a GRU trained
    alone goes through exactly the frames it goes through beside a tanh RNN."""
    together = [f for f in train(small_spec()) if getattr(f, "model", None) == 1]
    alone = list(train(small_spec(models=(ModelSpec("gru"),))))
    alone = [f for f in alone if isinstance(f, Progress | Evaluation)]
    assert len(together) == len(alone) > 0
    for f, g in zip(together, alone, strict=True):
        assert plain(dataclasses.replace(f, model=0)) == plain(g)


@pytest.mark.parametrize(("steps", "every"), [(1, 1), (999, 1), (1000, 1), (1001, 2), (2000, 2),
                                              (2001, 3), (2500, 3), (20_000, 20)])
def test_progress_every_is_steps_over_1000_rounded_up(steps, every):
    start = next(train(small_spec(steps=steps, eval_size=1)))  # lazy: no step is computed
    assert isinstance(start, TrainStart)
    assert start.progress_every == every


def test_progress_is_thinned_and_every_model_reports_the_last_step():
    spec = TrainSpec(models=TWO, task="adding", seq_len=2, hidden_size=1, batch_size=1, steps=2500,
                     eval_every=2500, eval_size=1, clip=1e-9)
    frames = list(train(spec))
    assert frames[0].progress_every == 3
    for i in range(2):
        mine = [f for f in frames if isinstance(f, Progress) and f.model == i]
        assert [f.step for f in mine] == [*range(3, 2500, 3), 2500]
        # the clip threshold is tiny: every step clipped, so every report covers only clipped steps
        assert all(f.clipped and f.clipped_fraction == 1.0 for f in mine)
    assert len(frames) == 1 + 2 * 834 + 2 + 1


def test_without_a_threshold_nothing_is_clipped():
    frames = [f for f in train(small_spec(clip=None)) if isinstance(f, Progress)]
    assert all(not f.clipped and f.clipped_fraction == 0.0 for f in frames)


@pytest.mark.parametrize("length", [1, 2, 199, 200, 201, 250, 1000, 2020, 5000])
def test_profile_steps(length):
    t = profile_steps(length)
    assert len(t) == min(length, PROFILE_POINTS)
    assert t[0] == 1 and t[-1] == length
    assert np.all(np.diff(t) > 0)
    if length <= PROFILE_POINTS:
        np.testing.assert_array_equal(t, np.arange(1, length + 1))


@settings(max_examples=50, deadline=None)
@given(length=st.integers(1, 10_000))
def test_profile_steps_are_at_most_200_and_keep_the_ends(length):
    t = profile_steps(length)
    assert 1 <= len(t) <= PROFILE_POINTS
    assert t[0] == 1 and t[-1] == length
    assert np.all(np.diff(t) > 0)


@pytest.mark.parametrize(("task", "seq_len"), [("adding", 450), ("copy", 190), ("temporal_order", 12)])
def test_the_first_step_is_the_documented_computation(task, seq_len):
    """Step 1 of model k, rebuilt from the module doc: a batch from default_rng([seed, 10]),
    weights from default_rng([seed, CELL_STREAMS[cell]]); its loss is the task's mean, its
    gradient-norm profile is ‖∂L/∂h_t‖ at profile_t (downsampled when T' > 200, with t = 1 and
    t = T'), and grad_norm_total is the norm before clipping."""
    seed, B, Hs = 3, 4, 3
    spec = TrainSpec(models=(ModelSpec("rnn", "sigmoid"), ModelSpec("lstm")), task=task,
                     seq_len=seq_len, hidden_size=Hs, batch_size=B, steps=1, eval_every=1,
                     eval_size=2, seed=seed, clip=1e-6)
    frames = list(train(spec))
    start = frames[0]
    t_task = Task(task, seq_len)
    L = t_task.length
    assert start.task == t_task
    assert (start.loss_baseline, start.metric, start.metric_baseline) == (
        t_task.loss_baseline, t_task.metric, t_task.metric_baseline)
    assert [m.label for m in start.models] == ["RNN (sigmoid)", "LSTM"]
    assert start.profile_t[0] == 1 and start.profile_t[-1] == L
    assert len(start.profile_t) == min(L, PROFILE_POINTS)
    X, targets = t_task.batch(B, np.random.default_rng([seed, TRAIN_STREAM]))
    for k, m in enumerate(spec.models):
        cell = make_cell(m.cell, m.activation)
        P = init_params(cell, t_task.input_size, Hs, t_task.output_size, InitSpec(),
                        np.random.default_rng([seed, CELL_STREAMS[m.cell]]))
        sw, value, g = sweep_grads(cell, P, X, targets, t_task.loss_at, t_task.loss, t_task.loss_scale(B))
        if task == "adding":
            expected = np.mean((sw.outputs()[-1, :, 0] - targets[-1, :, 0]) ** 2)
        elif task == "copy":
            expected = np.mean(cross_entropy(sw.outputs(), targets))
        else:
            expected = np.mean(cross_entropy(sw.outputs()[-1], targets[-1]))
        (progress,) = [f for f in frames if isinstance(f, Progress) and f.model == k]
        assert progress.loss == pytest.approx(expected, rel=1e-12)
        assert progress.loss == value
        np.testing.assert_array_equal(progress.grad_norm, sw.grad_norms()[start.profile_t - 1])
        assert progress.grad_norm_total == pytest.approx(global_norm(g), rel=1e-14)
        assert progress.clipped == (global_norm(g) > 1e-6)


@pytest.mark.parametrize("task", TASKS)
def test_evaluation_scores_the_held_out_set(task):
    """The metric of an evaluation is the task's score on `eval_size` held-out sequences, made
    in chunks of EVAL_CHUNK from default_rng([seed, 11, k]). With SGD at lr = 1e-300 one step
    leaves the weights as they were (to the last bit, bar the zero biases, which move by
    ~1e-300), so it is the initial model's."""
    seed, Hs = 5, 3
    spec = TrainSpec(models=(ModelSpec("gru"),), task=task, seq_len=10, hidden_size=Hs, batch_size=2,
                     optimizer="sgd", lr=1e-300, steps=1, eval_every=1, eval_size=300, seed=seed)
    (evaluation,) = [f for f in train(spec) if isinstance(f, Evaluation)]
    t_task = Task(task, 10)
    cell = make_cell("gru")
    P = init_params(cell, t_task.input_size, Hs, t_task.output_size, InitSpec(),
                    np.random.default_rng([seed, CELL_STREAMS["gru"]]))
    chunks = [t_task.batch(min(EVAL_CHUNK, 300 - start), np.random.default_rng([seed, EVAL_STREAM, k]))
              for k, start in enumerate(range(0, 300, EVAL_CHUNK))]
    assert len(chunks) == 2
    X = np.concatenate([c[0] for c in chunks], axis=1)
    targets = np.concatenate([c[1] for c in chunks], axis=1)
    sw, _, _ = sweep_grads(cell, P, X, targets, t_task.loss_at, t_task.loss, None)
    assert evaluation.metric == t_task.metric
    assert evaluation.baseline == t_task.metric_baseline
    assert evaluation.value == pytest.approx(t_task.score(sw.outputs(), targets), rel=1e-12)


@pytest.mark.parametrize(("steps", "eval_every", "eval_steps"), [
    (25, 10, [10, 20, 25]),  # and at the end
    (20, 10, [10, 20]),  # the end is an eval step already: not twice
    (7, 100, [7]),
])
def test_frame_order(steps, eval_every, eval_steps):
    frames = list(train(small_spec(steps=steps, eval_every=eval_every)))
    expected = [("TrainStart", None, None)]
    for s in range(1, steps + 1):
        expected += [("Progress", i, s) for i in range(2)]
        if s in eval_steps:
            expected += [("Evaluation", i, s) for i in range(2)]
    expected.append(("TrainDone", None, None))
    assert kinds(frames) == expected
    last = {f.model: f for f in frames if isinstance(f, Evaluation)}
    done = frames[-1]
    assert isinstance(done, TrainDone)
    for i, outcome in enumerate(done.models):
        assert outcome.value == last[i].value
        assert outcome.metric == last[i].metric == "mse"
        assert outcome.baseline == last[i].baseline == pytest.approx(1 / 6)
        assert outcome.solved == Task("adding", 10).solved(outcome.value)
    assert [o.info.label for o in done.models] == ["RNN (tanh)", "GRU"]


# --- the demonstration, short -----------------------------------------------------------------

# The contract's demonstration (benchmarks/bench_train.py) trains for 1500 steps at T = 50,
# H = 32, B = 64, lr = 0.01. This variant keeps T = 50, long enough that the vanilla RNNs stay
# at the baseline 1/6, and lets the gated cells learn sooner with a smaller, faster model and
# twice the learning rate: about 8 s on a 2-core machine. Measured for seeds 0–4, final
# held-out MSE: LSTM 0.0006–0.0012, GRU 0.0003–0.0008, sigmoid and tanh RNN 0.166–0.196; the
# bounds below leave a margin of 15× and 1.6× (the RNNs' MSE cannot drop much below 1/6
# without learning the task).
DEMO = TrainSpec(
    models=(ModelSpec("rnn", "sigmoid"), ModelSpec("rnn", "tanh"), ModelSpec("lstm"), ModelSpec("gru")),
    task="adding", seq_len=50, hidden_size=16, batch_size=32, optimizer="adam", lr=0.02, clip=1.0,
    steps=600, eval_every=600, eval_size=500, seed=0,
)


@pytest.mark.slow
def test_demonstration_gated_cells_learn_the_adding_problem_vanilla_rnns_do_not():
    done = list(train(DEMO))[-1]
    values = {o.info.label: o.value for o in done.models}
    assert values["LSTM"] < 0.02 and values["GRU"] < 0.02, values
    assert values["RNN (sigmoid)"] > 0.1 and values["RNN (tanh)"] > 0.1, values
    assert {o.info.label: o.solved for o in done.models} == {
        "RNN (sigmoid)": False, "RNN (tanh)": False, "LSTM": values["LSTM"] < 0.01,
        "GRU": values["GRU"] < 0.01}


def test_global_norm_of_huge_finite_gradients_is_finite_and_clipping_works():
    grads = {"a": np.array([3e200, 4e200]), "b": np.array([[0.0]])}
    norm, clipped = clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(5e200, rel=1e-15)
    assert clipped
    assert np.allclose(grads["a"], [0.6, 0.8], rtol=1e-15)


@pytest.mark.parametrize("task", ["adding", "copy", "temporal_order"])
def test_a_model_with_nan_weights_scores_nan_not_chance(task):
    t_task = Task(task, 12)
    cell = make_cell("gru")
    P = init_params(cell, t_task.input_size, 4, t_task.output_size, InitSpec(), np.random.default_rng(0))
    P["W_h"][0, 0] = np.nan
    with np.errstate(all="ignore"):
        assert np.isnan(evaluate(t_task, cell, P, 20, seed=0))
