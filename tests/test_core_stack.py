"""Stacked and bidirectional models (core.stack) without PyTorch: central differences of the new
paths, the one-layer model against the `Sweep` of old bit for bit, initialisation, the
PyTorch layout in numpy, inputs and targets from the caller, the frames of a run and the cost
estimates.

The finite-difference reference (`reference_loss`) never touches core.bptt or core.stack's
sweeps: it composes `Cell.step_forward` layer by layer and direction by direction, and
computes the loss of the contract itself.
"""

import numpy as np
import pytest
from numerics import numeric_grad, rel_err

from gradient_flow_lab.core.bptt import BLOCK, Sweep
from gradient_flow_lab.core.cells import make_cell
from gradient_flow_lab.core.init import InitSpec, init_params
from gradient_flow_lab.core.inputs import make_inputs
from gradient_flow_lab.core.run import (
    CELL_STREAMS,
    BackwardFrame,
    ForwardFrame,
    ModelSpec,
    RunSpec,
    StartFrame,
    SummaryFrame,
    build,
    build_models,
    collect,
    memory_bytes,
    run,
    work_units,
)
from gradient_flow_lab.core.stack import (
    StackSweep,
    from_torch,
    init_stack,
    torch_grads,
    torch_layout,
    torch_state,
    unit_generators,
)

EPS = 1e-5
RTOL = 1e-6  # the style guide's bound on a gradient check's relative error

CASES = [("rnn", "tanh"), ("rnn", "sigmoid"), ("lstm", None), ("gru", None)]
CASE_IDS = [f"{c}-{a}" if a else c for c, a in CASES]
ALL_CASES = [("rnn", "sigmoid"), ("rnn", "tanh"), ("rnn", "relu"), ("rnn", "linear"), ("lstm", None),
             ("gru", None)]
ALL_IDS = [f"{c}-{a}" if a else c for c, a in ALL_CASES]


def seeded_stack(cell_name, activation, D, H, O, num_layers=1, bidirectional=False, seed=0,
                 init=InitSpec(bias_std=0.5)):
    cell = make_cell(cell_name, activation)
    units = num_layers * (2 if bidirectional else 1)
    return init_stack(cell, D, H, O, init, unit_generators(seed, CELL_STREAMS[cell_name], units),
                      num_layers, bidirectional)


def data(T, B, D, O, loss_kind, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, B, D))
    targets = rng.standard_normal((T, B, O)) if loss_kind == "mse" else rng.integers(0, O, size=(T, B))
    return X, targets


def step_loss(y, target, loss_kind) -> float:
    """Σ_b of one step's loss term, from the contract."""
    if loss_kind == "mse":
        return 0.5 * float(np.sum((y - target) ** 2))
    shifted = y - y.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -float(np.sum(np.take_along_axis(log_p, target.astype(np.intp)[:, None], axis=-1)))


def reference_loss(stack, X, targets, loss_at, loss_kind, nudges=None) -> float:
    """L from the composed step functions: layer by layer, each direction its own loop (the
    backward one from t = T down), the readout on the top layer's [h_fwd ; h_bwd]. `nudges`
    {(unit, t): [B, H]} is added to that unit's h_t right after its step t, so that the
    derivative with respect to it is the total ∂L/∂h_t."""
    cell, (T, B, _) = stack.cell, X.shape
    H = stack.hidden_size
    layer_input = X
    for layer in range(1, stack.num_layers + 1):
        outputs = []
        for direction in ("forward", "backward")[:stack.directions]:
            u = stack.unit_index(layer, direction)
            state = cell.zero_state(B, H)
            hs = [None] * T
            for t in (range(1, T + 1) if direction == "forward" else range(T, 0, -1)):
                state, _ = cell.step_forward(layer_input[t - 1], state, stack.units[u])
                if nudges and (u, t) in nudges:
                    state = (state[0] + nudges[(u, t)], *state[1:])
                hs[t - 1] = state[0]
            outputs.append(np.stack(hs))
        layer_input = np.concatenate(outputs, axis=-1)
    steps = [T] if loss_at == "last" else range(1, T + 1)
    Y = layer_input @ stack.head["W_hy"] + stack.head["b_y"]
    return sum(step_loss(Y[t - 1], targets[t - 1], loss_kind) for t in steps) / B


# --- central differences: the injected-gradient sweep ------------------------------------

def injected_problem(cell_name, activation, B, T=5, D=3, H=4, seed=21):
    cell = make_cell(cell_name, activation)
    rng = np.random.default_rng(seed)
    P = init_params(cell, D, H, None, InitSpec(bias_std=0.5), rng)
    X = rng.standard_normal((T, B, D))
    G = rng.standard_normal((T, B, H))  # ∂L/∂h_t from outside: L = Σ_t ⟨G_t, h_t⟩
    G[2] = 0.0  # a step with nothing from outside (injected as None)
    state0 = tuple(0.5 * rng.standard_normal((B, H)) for _ in cell.state_names)
    return cell, P, X, G, state0


def injected_sweep(cell, P, X, G, state0, **kw):
    T = X.shape[0]
    sweep = Sweep(cell, P, X, None, state0=state0, input_grads=True, **kw)
    for t in range(1, T + 1):
        sweep.forward_step(t)
    sweep.start_backward()
    dH = {}
    for t in range(T, 0, -1):
        dH[t] = sweep.backward_step(t, None if not G[t - 1].any() else G[t - 1])
    return sweep, dH


@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize(("cell_name", "activation"), CASES, ids=CASE_IDS)
def test_injected_gradient_sweep_matches_central_differences(cell_name, activation, B):
    """A readout-free sweep given ∂L/∂h_t from outside, for L = Σ_t ⟨G_t, h_t⟩: its parameter
    gradients, ∂L/∂x_t (`input_grads`) and ∂L/∂s_0 against central differences of the composed
    steps."""
    cell, P, X, G, state0 = injected_problem(cell_name, activation, B)
    sweep, _ = injected_sweep(cell, P, X, G, state0)

    def f():
        state, total = state0, 0.0
        for t in range(X.shape[0]):
            state, _ = cell.step_forward(X[t], state, P)
            total += float(np.sum(G[t] * state[0]))
        return total

    grads = sweep.param_grads()
    assert set(grads) == set(P)  # no readout
    for name in P:
        assert rel_err(grads[name], numeric_grad(f, P[name], EPS)) < RTOL, name
    assert rel_err(sweep.input_grads(), numeric_grad(f, X, EPS)) < RTOL
    for k, s in enumerate(state0):
        assert rel_err(sweep.d_state[k], numeric_grad(f, s, EPS)) < RTOL


@pytest.mark.parametrize(("cell_name", "activation"), [("rnn", "tanh"), ("lstm", None), ("gru", None)],
                         ids=["rnn-tanh", "lstm", "gru"])
def test_input_grads_on_the_helper_thread_are_the_same(cell_name, activation):
    """∂L/∂x_t is a product per block, run on the helper thread with the weight gradients when
    there is one: the same numbers, bit for bit, over several blocks."""
    cell, P, X, G, state0 = injected_problem(cell_name, activation, 2, T=2 * BLOCK + 9)
    plain, dH_plain = injected_sweep(cell, P, X, G, state0, overlap=False)
    helped, dH_helped = injected_sweep(cell, P, X, G, state0, overlap=True)
    assert helped.spare_blocks is not None and plain.spare_blocks is None
    np.testing.assert_array_equal(helped.input_grads(), plain.input_grads())
    for name, g in plain.param_grads().items():
        np.testing.assert_array_equal(helped.param_grads()[name], g)
    for t in dH_plain:
        np.testing.assert_array_equal(dH_helped[t], dH_plain[t])


# --- central differences: a whole stacked, bidirectional model ---------------------------

@pytest.mark.parametrize("loss_kind", ["mse", "xent"])
@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize(("cell_name", "activation"), CASES, ids=CASE_IDS)
def test_two_layer_bidirectional_model_matches_central_differences(cell_name, activation, loss_at, loss_kind):
    """Every parameter's gradient, ∂L/∂x_t, and every unit's ∂L/∂h_t — the total derivative,
    from nudging h_t in the reference and running everything after it."""
    T, B, D, H, O = 4, 2, 3, 3, 3
    stack = seeded_stack(cell_name, activation, D, H, O, num_layers=2, bidirectional=True, seed=4)
    X, targets = data(T, B, D, O, loss_kind)
    ss = StackSweep(stack, X, targets, loss_at, loss_kind, input_grads=True)
    loss = ss.run()

    def f():
        return reference_loss(stack, X, targets, loss_at, loss_kind)

    assert loss == pytest.approx(f(), rel=1e-13)
    grads = ss.param_grads()
    params = stack.params()
    assert list(grads) == list(params)
    for name, p in params.items():
        assert rel_err(grads[name], numeric_grad(f, p, EPS)) < RTOL, name
    assert rel_err(ss.input_grads(), numeric_grad(f, X, EPS)) < RTOL

    for u, unit in enumerate(ss.units):
        assert (unit.layer, unit.direction) == stack.unit_keys()[u]
        dH = unit.state_grads()  # [T, B, H] by time
        for t in range(1, T + 1):
            nudge = np.zeros((B, H))

            def g(u=u, t=t, nudge=nudge):
                return reference_loss(stack, X, targets, loss_at, loss_kind, {(u, t): nudge})

            assert rel_err(dH[t - 1], numeric_grad(g, nudge, EPS)) < RTOL, (unit.layer, unit.direction, t)
        np.testing.assert_allclose(unit.grad_norms(), np.linalg.norm(dH.reshape(T, -1), axis=1), rtol=1e-14)


def test_three_layer_one_direction_gru_matches_central_differences():
    T, B, D, H, O = 5, 2, 2, 3, 2
    stack = seeded_stack("gru", None, D, H, O, num_layers=3, seed=6)
    X, targets = data(T, B, D, O, "mse", seed=2)
    ss = StackSweep(stack, X, targets, "all", input_grads=True)
    ss.run()

    def f():
        return reference_loss(stack, X, targets, "all", "mse")

    grads = ss.param_grads()
    for name, p in stack.params().items():
        assert rel_err(grads[name], numeric_grad(f, p, EPS)) < RTOL, name
    assert rel_err(ss.input_grads(), numeric_grad(f, X, EPS)) < RTOL


# --- the one-layer model is the Sweep of old ----------------------------------------------

@pytest.mark.parametrize("loss_kind", ["mse", "xent"])
@pytest.mark.parametrize(("loss_at", "B"), [("last", 1), ("all", 3)])
@pytest.mark.parametrize(("cell_name", "activation"), ALL_CASES, ids=ALL_IDS)
def test_one_layer_stack_equals_the_sweep_bit_for_bit(cell_name, activation, loss_at, B, loss_kind):
    T, D, H, O = 9, 3, 5, 3
    cell = make_cell(cell_name, activation)
    init = InitSpec(bias_std=0.5)
    stack = seeded_stack(cell_name, activation, D, H, O, seed=7, init=init)
    P = init_params(cell, D, H, O, init, np.random.default_rng([7, CELL_STREAMS[cell_name]]))
    params = stack.params()
    assert list(params) == list(P)  # the names and their order of old
    for name in P:
        np.testing.assert_array_equal(params[name], P[name])
    X, targets = data(T, B, D, O, loss_kind)

    sweep = Sweep(cell, P, X, targets, loss_at, jacobian=True, loss_kind=loss_kind, cell_grads=True)
    loss = sweep.run()
    ss = StackSweep(stack, X, targets, loss_at, loss_kind, jacobian=True, cell_grads=True)
    assert ss.run() == loss
    (unit,) = ss.units
    for ours, old in [(unit.hidden_states(), sweep.hidden_states()),
                      (unit.state_grads(), sweep.state_grads()), (unit.grad_norms(), sweep.grad_norms()),
                      (unit.jacobian_norms(), sweep.jacobian_norms()), (ss.outputs(), sweep.outputs())]:
        np.testing.assert_array_equal(ours, old)
    if cell.has_cell_state:
        np.testing.assert_array_equal(unit.cell_grad_norms(), sweep.cell_grad_norms())
    grads, old_grads = ss.param_grads(), sweep.param_grads()
    assert list(grads) == list(old_grads)
    for name, g in old_grads.items():
        np.testing.assert_array_equal(grads[name], g)


def test_run_of_one_layer_models_gives_the_numbers_and_frames_of_old():
    """`run` of one-layer, one-direction models against a plain `Sweep` per model, as `run`
    computed it before stacks: every number equal, every frame of layer 1, forward."""
    spec = RunSpec(models=(ModelSpec("rnn", "sigmoid"), ModelSpec("rnn", "relu"), ModelSpec("lstm"),
                           ModelSpec("gru")), seq_len=40, batch_size=2, loss_at="all", seed=5)
    frames = list(run(spec))
    assert all(f.layer == 1 and f.direction == "forward" for f in frames
               if isinstance(f, ForwardFrame | BackwardFrame))
    result = collect(frames)
    cells, params, X, Y = build(spec)
    np.testing.assert_array_equal(result.inputs, X)
    for m, cell, P in zip(result.models, cells, params, strict=True):
        sweep = Sweep(cell, P, X, Y, spec.loss_at, jacobian=True, cell_grads=True)
        assert m.loss == sweep.run()
        np.testing.assert_array_equal(m.hidden, sweep.hidden_states()[:, 0])
        np.testing.assert_array_equal(m.grads, sweep.state_grads(item=0))
        np.testing.assert_array_equal(m.grad_norm, sweep.grad_norms())
        np.testing.assert_array_equal(m.jacobian_norm, sweep.jacobian_norms())
        for name, g in sweep.param_grads().items():
            np.testing.assert_array_equal(m.param_grads[name], g)
        assert list(m.params) == list(P)
        (layer,) = m.layers
        assert (layer.layer, layer.direction) == (1, "forward")
        assert layer.grad_norm is m.grad_norm and layer.hidden is m.hidden and layer.summary is m.summary
        assert m.info.num_layers == 1 and not m.info.bidirectional


# --- initialisation ----------------------------------------------------------------------

@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell_name", ["rnn", "lstm", "gru"])
def test_layer_one_forward_gets_the_weights_of_old_and_every_unit_its_own(cell_name, bidirectional):
    D, H, O = 3, 4, 2
    cell = make_cell(cell_name)
    init = InitSpec(scheme="orthogonal", sigma_max=1.3, bias_std=0.2)
    old = init_params(cell, D, H, O, init, np.random.default_rng([3, CELL_STREAMS[cell_name]]))
    stack, again = (seeded_stack(cell_name, None, D, H, O, num_layers=3, bidirectional=bidirectional, seed=3,
                                 init=init) for _ in range(2))
    dirs = stack.directions
    for name in (cell.x_weight, cell.h_weight, cell.x_bias):
        np.testing.assert_array_equal(stack.units[0][name], old[name])
    assert stack.head["W_hy"].shape == (dirs * H, O)
    if not bidirectional:
        np.testing.assert_array_equal(stack.head["W_hy"], old["W_hy"])
    for u, P in enumerate(stack.units):
        assert P[cell.x_weight].shape == (D if u < dirs else dirs * H, cell.gates * H)
        assert P[cell.h_weight].shape == (H, cell.gates * H)
        for name in P:
            np.testing.assert_array_equal(P[name], again.units[u][name])  # same seed, same numbers
        others = [Q for v, Q in enumerate(stack.units) if v != u]
        assert not any(np.array_equal(P[cell.h_weight], Q[cell.h_weight]) for Q in others)
        W = P[cell.h_weight][:, :H]
        assert np.linalg.norm(W, 2) == pytest.approx(1.3)  # the scheme applies to every unit


# --- PyTorch's layout, in numpy -----------------------------------------------------------

def numpy_state(cell_name, D, H, O, num_layers, bidirectional, bias=True, head=True, seed=0):
    """A state_dict as nn.RNN/LSTM/GRU(D, H, num_layers, bidirectional=…, bias=…) and an
    nn.Linear head would hold it, filled from numpy."""
    rng = np.random.default_rng(seed)
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell_name]
    dirs = 2 if bidirectional else 1
    state = {}
    for k in range(num_layers):
        for suffix in ["", "_reverse"][:dirs]:
            D_in = D if k == 0 else dirs * H
            state[f"weight_ih_l{k}{suffix}"] = rng.standard_normal((G * H, D_in)).astype(np.float32)
            state[f"weight_hh_l{k}{suffix}"] = rng.standard_normal((G * H, H))
            if bias:
                state[f"bias_ih_l{k}{suffix}"] = rng.standard_normal(G * H)
                state[f"bias_hh_l{k}{suffix}"] = rng.standard_normal(G * H)
    if head:
        state["weight"] = rng.standard_normal((O, dirs * H))
        state["bias"] = rng.standard_normal(O)
    return state


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell_name", ["rnn", "lstm", "gru"])
def test_torch_layout_round_trip(cell_name, bidirectional, bias):
    state = numpy_state(cell_name, 3, 4, 2, 2, bidirectional, bias)
    layout = torch_layout(state)
    assert (layout.cell, layout.num_layers, layout.bidirectional, layout.input_size, layout.hidden_size,
            layout.output_size) == (cell_name, 2, bidirectional, 3, 4, 2)
    assert layout.biases == (("ih", "hh") if bias else ())
    assert layout.parameters == sum(a.size for a in state.values())
    stack = from_torch(state)
    bias_hh = sum(a.size for key, a in state.items() if key.startswith("bias_hh"))
    assert stack.parameter_count() == layout.parameters - (bias_hh if cell_name != "gru" else 0)
    back = torch_state(stack)
    assert set(back) == set(state)
    for key, a in state.items():
        if cell_name != "gru" and key.startswith("bias_ih"):  # one bias: the sum, in bias_ih
            np.testing.assert_allclose(back[key], a + state[key.replace("_ih", "_hh")], rtol=1e-15)
        elif cell_name != "gru" and key.startswith("bias_hh"):
            assert not back[key].any()
        else:
            np.testing.assert_array_equal(back[key], a.astype(np.float64))
    grads = {name: np.full_like(p, float(i)) for i, (name, p) in enumerate(stack.params().items())}
    tg = torch_grads(stack, grads)
    assert set(tg) == set(state)
    assert all(tg[key].shape == state[key].shape for key in state)
    if bias and cell_name != "gru":
        np.testing.assert_array_equal(tg["bias_ih_l1"], tg["bias_hh_l1"])
    if not bias:  # no core bias either: zero and fixed
        names = {name.split("_l")[0] for name in stack.params()}
        assert names == {stack.cell.x_weight, stack.cell.h_weight, "W_hy", "b_y"}


def test_model_without_biases_keeps_them_zero_and_reports_none():
    state = numpy_state("gru", 3, 4, 2, 2, True, bias=False)
    stack = from_torch(state)
    assert stack.fixed == {"b_x", "b_h"}
    assert all(not P["b_x"].any() and not P["b_h"].any() for P in stack.units)
    X, targets = data(5, 2, 3, 2, "mse")
    ss = StackSweep(stack, X, targets, "all")
    ss.run()
    assert set(ss.param_grads()) == set(stack.params())
    assert not any(k.startswith("b_x") or k.startswith("b_h") for k in ss.param_grads())


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.pop("weight_hh_l1"), "weight_hh_l1 is missing"),
    (lambda s: s.update(weight_ih_l1=np.zeros((16, 5))), "weight_ih_l1 has shape"),
    (lambda s: s.update(weight_hr_l0=np.zeros((2, 4))), "proj_size"),
    (lambda s: s.update(bogus=np.zeros(2)), "unexpected key"),
    (lambda s: s.pop("bias"), "needs both weight and bias"),
    (lambda s: s.update(weight=np.zeros((2, 5))), "weight has shape"),
    (lambda s: s.pop("bias_hh_l1"), "bias_hh_l1 is missing"),
    (lambda s: s.update(weight_ih_l4=np.zeros((16, 4)), weight_hh_l4=np.zeros((16, 4))), "at most 4"),
    (lambda s: s.update(weight_hh_l0=np.zeros((10, 4))), "weight_hh_l0"),
    (lambda s: [s.pop(k) for k in list(s)], "no recurrent weights"),
])
def test_torch_layout_errors_say_what_is_wrong(change, message):
    state = numpy_state("lstm", 3, 4, 2, 2, False)
    change(state)
    with pytest.raises(ValueError, match=message):
        torch_layout(state)


def test_non_finite_weights_are_refused():
    state = numpy_state("rnn", 3, 4, 2, 1, False)
    state["weight_hh_l0"][1, 2] = np.nan
    with pytest.raises(ValueError, match="weight_hh_l0 has values that are not finite"):
        from_torch(state)


def test_run_with_weights_uses_them_and_draws_a_missing_head_from_the_seed():
    state = numpy_state("lstm", 3, 6, 2, 2, True, seed=4)
    spec = RunSpec(models=(ModelSpec("lstm", num_layers=2, bidirectional=True, weights=state),),
                   seq_len=6, input_size=3, output_size=2, batch_size=2, seed=9)
    (stack,), X, Y = build_models(spec)
    ss = StackSweep(stack, X, Y, spec.loss_at)
    assert collect(run(spec)).models[0].loss == ss.run()
    assert collect(run(spec)).models[0].info.hidden_size == 6  # the weights', not spec.hidden_size

    headless = {k: v for k, v in state.items() if k not in ("weight", "bias")}
    spec2 = RunSpec(models=(ModelSpec("lstm", num_layers=2, bidirectional=True, weights=headless),),
                    seq_len=6, input_size=3, output_size=2, seed=9, hidden_size=6)
    seeded = RunSpec(models=(ModelSpec("lstm", num_layers=2, bidirectional=True),), seq_len=6, input_size=3,
                     output_size=2, seed=9, hidden_size=6)
    (from_weights,), _, _ = build_models(spec2)
    (drawn,), _, _ = build_models(seeded)
    for name in ("W_hy", "b_y"):
        np.testing.assert_array_equal(from_weights.head[name], drawn.head[name])
    np.testing.assert_array_equal(from_weights.units[3]["W_h"], state["weight_hh_l1_reverse"].T)

    for wrong in ({"num_layers": 1}, {"bidirectional": False}, {"cell": "gru"}):
        fields = {"cell": "lstm", "num_layers": 2, "bidirectional": True, "weights": state, **wrong}
        with pytest.raises(ValueError):
            build_models(RunSpec(models=(ModelSpec(**fields),), seq_len=6, input_size=3, output_size=2))
    with pytest.raises(ValueError, match="input_size"):
        build_models(RunSpec(models=(ModelSpec("lstm", num_layers=2, bidirectional=True, weights=state),),
                             seq_len=6, input_size=4, output_size=2))


# --- inputs and targets from the caller ----------------------------------------------------

def test_values_may_carry_a_batch_and_targets_come_from_the_caller():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((6, 3, 2))
    X, Y = make_inputs("values", 6, 3, 2, 4, rng, values)
    np.testing.assert_array_equal(X, values)
    assert Y.shape == (6, 3, 4)
    given = rng.standard_normal((6, 3, 4))
    _, Y = make_inputs("values", 6, 3, 2, 4, rng, values, targets=given)
    np.testing.assert_array_equal(Y, given)
    _, Y = make_inputs("gaussian", 6, 1, 2, 4, rng, targets=given[:, 0])  # [T, O] with batch 1
    np.testing.assert_array_equal(Y[:, 0], given[:, 0])
    classes = rng.integers(0, 4, size=(6, 3))
    _, K = make_inputs("values", 6, 3, 2, 4, rng, values, targets=classes, loss_kind="xent")
    np.testing.assert_array_equal(K, classes)
    _, K = make_inputs("sine", 6, 1, 2, 4, rng, targets=[0, 1, 2, 3, 3.0, 0], loss_kind="xent")  # [T]
    assert K.shape == (6, 1) and K.dtype.kind == "i"
    _, K = make_inputs("gaussian", 50, 5, 2, 3, rng, loss_kind="xent")  # drawn classes
    assert K.shape == (50, 5) and set(np.unique(K)) == {0, 1, 2}


@pytest.mark.parametrize(("kw", "message"), [
    ({"values": np.zeros((6, 2, 2))}, "values must be"),
    ({"values": np.full((6, 3, 2), np.nan)}, "finite"),
    ({"targets": np.zeros((6, 3, 5))}, "targets have shape"),
    ({"targets": np.zeros((6, 4))}, "targets must be"),
    ({"targets": np.zeros((6, 3), dtype=int) + 4, "loss_kind": "xent"}, "lie in 0…3"),
    ({"targets": np.full((6, 3), 0.5), "loss_kind": "xent"}, "integers"),
    ({"targets": np.zeros((5, 3), dtype=int), "loss_kind": "xent"}, "class targets have shape"),
    ({"loss_kind": "hinge"}, "loss_kind"),
])
def test_bad_inputs_and_targets_are_refused(kw, message):
    kw = {"values": np.zeros((6, 3, 2)), **kw}
    with pytest.raises(ValueError, match=message):
        make_inputs("values", 6, 3, 2, 4, np.random.default_rng(0), **kw)


def test_a_run_with_the_cross_entropy_and_given_classes():
    T, B, D, O = 7, 3, 2, 4
    rng = np.random.default_rng(3)
    values, classes = rng.standard_normal((T, B, D)), rng.integers(0, O, size=(T, B))
    spec = RunSpec(models=(ModelSpec("gru", num_layers=2, bidirectional=True),), seq_len=T, input_size=D,
                   output_size=O, batch_size=B, input_kind="values", input_values=values, targets=classes,
                   loss_kind="xent", loss_at="all")
    result = collect(run(spec))
    np.testing.assert_array_equal(result.targets, classes)
    (stack,), _, _ = build_models(spec)
    expected = reference_loss(stack, values, classes, "all", "xent")
    assert result.models[0].loss == pytest.approx(expected, rel=1e-13)


# --- the frames of a run -------------------------------------------------------------------

def test_stream_order_with_layers_and_directions():
    """The order of the module doc of core.run, for a 2-layer bidirectional LSTM beside a
    one-layer RNN."""
    T = 3
    spec = RunSpec(models=(ModelSpec("lstm", num_layers=2, bidirectional=True), ModelSpec("rnn")), seq_len=T,
                   hidden_size=3, input_size=2)
    frames = list(run(spec))
    assert isinstance(frames[0], StartFrame)
    forward = [(f.layer, f.t, f.model, f.direction) for f in frames if isinstance(f, ForwardFrame)]
    backward = [(f.layer, f.t, f.model, f.direction) for f in frames if isinstance(f, BackwardFrame)]

    def both(layer, k, model):
        return [(layer, k, model, "forward"), (layer, T + 1 - k, model, "backward")]

    expected_forward = []
    for k in range(1, T + 1):
        expected_forward += [*both(1, k, 0), (1, k, 1, "forward")]
    for k in range(1, T + 1):
        expected_forward += both(2, k, 0)
    assert forward == expected_forward
    expected_backward = []
    for k in range(1, T + 1):  # every model's top layer
        expected_backward += [(2, T + 1 - k, 0, "forward"), (2, k, 0, "backward"),
                              (1, T + 1 - k, 1, "forward")]
    for k in range(1, T + 1):
        expected_backward += [(1, T + 1 - k, 0, "forward"), (1, k, 0, "backward")]
    assert backward == expected_backward
    n_steps = len(forward) + len(backward)
    assert all(isinstance(f, SummaryFrame) for f in frames[1 + n_steps:])
    assert [f.model for f in frames[1 + n_steps:]] == [0, 1]


@pytest.mark.parametrize("cell_name", ["rnn", "lstm", "gru"])
def test_collected_layers_are_the_units_by_time(cell_name):
    T, B, D, H = 6, 2, 3, 4
    spec = RunSpec(models=(ModelSpec(cell_name, num_layers=3, bidirectional=True),), seq_len=T, hidden_size=H,
                   input_size=D, batch_size=B, loss_at="all", seed=2)
    (m,) = collect(run(spec)).models
    (stack,), X, Y = build_models(spec)
    ss = StackSweep(stack, X, Y, "all", jacobian=True, cell_grads=True)
    ss.run()
    assert [(r.layer, r.direction) for r in m.layers] == stack.unit_keys()
    for r, unit in zip(m.layers, ss.units, strict=True):
        np.testing.assert_array_equal(r.hidden, unit.hidden_states()[:, 0])
        np.testing.assert_array_equal(r.grads, unit.state_grads(item=0))
        np.testing.assert_array_equal(r.grad_norm, unit.grad_norms())
        np.testing.assert_array_equal(r.jacobian_norm, unit.jacobian_norms())
        assert r.hidden.shape == r.grads.shape == (T, H)
        end = T - 1 if r.direction == "forward" else 0  # where the unit's recursion ends: M = I
        assert r.jacobian_norm[end] == 1.0
        if cell_name == "rnn":
            assert r.bound[end] == 1.0 and r.preactivation.shape == (T, H)
            assert np.isnan(r.sign_uniform[T - 1 - end])  # the unit's first step
            assert r.summary["sigma_max"] > 0
        else:
            assert set(r.gates) == set(stack.cell.gate_names) and r.bound is None
        assert (r.cell_state is not None) == (cell_name == "lstm")
    top = m.layers[stack.unit_index(3, "forward")]
    assert m.grad_norm is top.grad_norm and m.hidden is top.hidden and m.summary is top.summary
    assert m.loss == ss.loss
    for name, g in ss.param_grads().items():
        np.testing.assert_array_equal(m.param_grads[name], g)
    assert set(m.param_grad_norm) == set(stack.params())


def test_overflow_is_reported_per_unit_at_its_time():
    """Each unit's summary names the first t its own recursion reached with a non-finite h_t:
    the backward direction's recursion starts at t = T, so every step after that t is finite."""
    spec = RunSpec(models=(ModelSpec("rnn", "relu", num_layers=2, bidirectional=True),), seq_len=400,
                   init=InitSpec(scheme="orthogonal", sigma_max=5.0))
    (m,) = collect(run(spec)).models
    for r in m.layers[2:]:  # layer 2 overflows in both directions
        step = r.summary["overflow_step"]
        assert r.summary["overflow_phase"] == "forward"
        finite = np.isfinite(r.hidden).all(axis=1)
        assert not finite[step - 1]
        if r.direction == "forward":
            assert finite[:step - 1].all()
        else:
            assert finite[step:].all()
    assert m.summary is m.layers[2].summary


# --- cost estimates ----------------------------------------------------------------------

def test_cost_estimates_grow_with_layers_and_directions():
    def spec(**m):
        return RunSpec(models=(ModelSpec("lstm", **m),), seq_len=200, hidden_size=64, batch_size=8)

    one, two, bi = spec(), spec(num_layers=2), spec(num_layers=2, bidirectional=True)
    T, B, D, H, O = 200, 8, 4, 64, 1
    assert memory_bytes(one) == pytest.approx(8.0 * T * B * (16 * H + D + 3 * O))  # the formula of old
    assert memory_bytes(one) < memory_bytes(two) < memory_bytes(bi)
    for k in (0, 1):
        assert work_units(one)[k] < work_units(two)[k] < work_units(bi)[k]
    assert work_units(bi)[1] == pytest.approx(4 * work_units(one)[1])  # a Jacobian per unit
    weights = numpy_state("lstm", D, 32, O, 2, True)  # sized by the weights, not by hidden_size
    given = RunSpec(models=(ModelSpec("lstm", num_layers=2, bidirectional=True, weights=weights),),
                    seq_len=200, hidden_size=64, batch_size=8)
    drawn = RunSpec(models=(ModelSpec("lstm", num_layers=2, bidirectional=True),), seq_len=200,
                    hidden_size=32, batch_size=8)
    assert work_units(given) == work_units(drawn) and memory_bytes(given) == memory_bytes(drawn)


@pytest.mark.parametrize("cell_name", ["rnn", "lstm", "gru"])
def test_memory_estimate_of_stacked_models_tracks_the_measured_peak(cell_name):
    """memory_bytes gates a request before any work: for stacked and bidirectional models it
    stays near the peak tracemalloc measures (the one-layer estimate's own spread is 0.9–1.1)."""
    import tracemalloc

    spec = RunSpec(models=(ModelSpec(cell_name, num_layers=2, bidirectional=True),
                           ModelSpec(cell_name, num_layers=3)),
                   seq_len=100, batch_size=32, hidden_size=32, jacobian=False)
    tracemalloc.start()
    try:
        collect(run(spec))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0.75 < memory_bytes(spec) / peak < 1.5
