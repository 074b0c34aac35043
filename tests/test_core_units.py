"""Unit tests of the core's parts: activations, initialisation, inputs, the analysis numbers,
the warm-started largest singular value, an overflowing run, and the order of a run's frames."""

import warnings

import numpy as np
import pytest

from gradient_flow_lab.core import analysis
from gradient_flow_lab.core.activations import ACTIVATIONS, get_activation, sigmoid
from gradient_flow_lab.core.cells import make_cell
from gradient_flow_lab.core.init import (
    INIT_SCHEMES,
    InitSpec,
    init_params,
    recurrent_sigma_max,
    rescale_spectral,
)
from gradient_flow_lab.core.inputs import INPUT_KINDS, adding_problem, make_inputs
from gradient_flow_lab.core.run import (
    BackwardFrame,
    ForwardFrame,
    ModelSpec,
    RunSpec,
    StartFrame,
    SummaryFrame,
    collect,
    run,
)
from gradient_flow_lab.core.spectral import EXACT_MAX_SIZE, TopSingularValue

ACTIVATION_NAMES = ["sigmoid", "tanh", "relu", "linear"]
CELL_CASES = [("rnn", "tanh"), ("lstm", None), ("gru", None)]
CELL_IDS = ["rnn", "lstm", "gru"]


def top_sv(M) -> float:
    return float(np.linalg.svd(M, compute_uv=False)[0])


# --- activations ------------------------------------------------------------------------

def test_sigmoid_has_no_overflow_for_huge_arguments():
    z = np.array([-1e4, -800.0, -1.0, 0.0, 1.0, 800.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            s = sigmoid(z)
    assert np.all(np.isfinite(s))
    assert 0.0 <= s[0] < 1e-300 and s[-1] == 1.0
    assert s[3] == 0.5
    assert np.all(np.diff(s) >= 0)


def test_sigmoid_matches_the_formula_where_it_is_safe():
    z = np.linspace(-30.0, 30.0, 1201)
    np.testing.assert_allclose(sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_derivative_through_the_output_equals_a_numeric_derivative(name):
    act = get_activation(name)
    z = np.linspace(-6.0, 6.0, 241) + 0.013  # never exactly on relu's kink at 0
    eps = 1e-6
    numeric = (act.phi(z + eps) - act.phi(z - eps)) / (2 * eps)
    np.testing.assert_allclose(act.dphi(act.phi(z)), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(("name", "gamma"), [("sigmoid", 0.25), ("tanh", 1.0), ("relu", 1.0),
                                             ("linear", 1.0)])
def test_gamma_is_the_supremum_of_the_derivative(name, gamma):
    act = ACTIVATIONS[name]
    assert act.gamma == gamma
    z = np.linspace(-10.0, 10.0, 20001)  # includes z = 0, where sigmoid' and tanh' peak
    slopes = act.dphi(act.phi(z))
    assert slopes.max() == pytest.approx(gamma, rel=1e-12)
    assert np.all(slopes <= gamma)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_nan_propagates_through_phi_and_its_derivative(name):
    act = ACTIVATIONS[name]
    z = np.array([np.nan, -1.0, 2.0])
    h = act.phi(z)
    assert np.isnan(h[0]) and np.all(np.isfinite(h[1:]))
    d = act.dphi(h)
    assert np.isnan(d[0]) and np.all(np.isfinite(d[1:]))
    assert np.isnan(act.dphi(np.array([np.nan]))).all()


def test_unknown_activation_is_a_value_error():
    with pytest.raises(ValueError, match="softplus"):
        get_activation("softplus")


# --- initialisation ---------------------------------------------------------------------

D, H, O = 3, 6, 2

CONTRACT_SHAPES = {
    "rnn": {"W_xh": (D, H), "W_hh": (H, H), "b_h": (H,), "W_hy": (H, O), "b_y": (O,)},
    "lstm": {"W_x": (D, 4 * H), "W_h": (H, 4 * H), "b": (4 * H,), "W_hy": (H, O), "b_y": (O,)},
    "gru": {"W_x": (D, 3 * H), "W_h": (H, 3 * H), "b_x": (3 * H,), "b_h": (3 * H,), "W_hy": (H, O),
            "b_y": (O,)},
}


def recurrent_blocks(cell, P):
    W = P[cell.h_weight]
    return [W[:, k * H:(k + 1) * H] for k in range(cell.gates)]


def input_blocks(cell, P):
    W = P[cell.x_weight]
    return [W[:, k * H:(k + 1) * H] for k in range(cell.gates)]


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
@pytest.mark.parametrize(("cell_name", "activation"), CELL_CASES, ids=CELL_IDS)
def test_init_shapes(cell_name, activation, scheme):
    cell = make_cell(cell_name, activation)
    P = init_params(cell, D, H, O, InitSpec(scheme=scheme), np.random.default_rng(0))
    assert {k: v.shape for k, v in P.items()} == CONTRACT_SHAPES[cell_name]
    assert all(v.dtype == np.float64 for v in P.values())
    assert all(np.all(np.isfinite(v)) for v in P.values())


@pytest.mark.parametrize("sigma_max", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("scheme", INIT_SCHEMES)
@pytest.mark.parametrize(("cell_name", "activation"), CELL_CASES, ids=CELL_IDS)
def test_sigma_max_sets_every_recurrent_block(cell_name, activation, scheme, sigma_max):
    cell = make_cell(cell_name, activation)
    P = init_params(cell, D, H, O, InitSpec(scheme=scheme, sigma_max=sigma_max), np.random.default_rng(1))
    for block in recurrent_blocks(cell, P):
        assert top_sv(block) == pytest.approx(sigma_max, rel=1e-12)
    assert recurrent_sigma_max(cell, P) == pytest.approx(sigma_max, rel=1e-12)


def test_rescale_spectral_keeps_zero_and_direction():
    np.testing.assert_array_equal(rescale_spectral(np.zeros((3, 3)), 2.0), np.zeros((3, 3)))
    W = np.random.default_rng(2).standard_normal((4, 4))
    R = rescale_spectral(W, 0.7)
    assert top_sv(R) == pytest.approx(0.7, rel=1e-13)
    np.testing.assert_allclose(R / R[0, 0], W / W[0, 0], rtol=1e-13)


@pytest.mark.parametrize(("cell_name", "activation"), CELL_CASES, ids=CELL_IDS)
def test_recurrent_sigma_max_is_the_largest_over_blocks(cell_name, activation):
    cell = make_cell(cell_name, activation)
    P = init_params(cell, D, H, O, InitSpec(scheme="normal", std=0.4), np.random.default_rng(3))
    expected = max(top_sv(b) for b in recurrent_blocks(cell, P))
    assert recurrent_sigma_max(cell, P) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("D_in", [2, 6, 9])
@pytest.mark.parametrize(("cell_name", "activation"), CELL_CASES, ids=CELL_IDS)
def test_orthogonal_blocks_are_orthogonal(cell_name, activation, D_in):
    cell = make_cell(cell_name, activation)
    P = init_params(cell, D_in, H, O, InitSpec(scheme="orthogonal"), np.random.default_rng(4))
    for Q in recurrent_blocks(cell, P):
        np.testing.assert_allclose(Q.T @ Q, np.eye(H), atol=1e-13)
        np.testing.assert_allclose(Q @ Q.T, np.eye(H), atol=1e-13)
    W = P[cell.x_weight]
    for k in range(cell.gates):  # [D, H] blocks: orthonormal columns, or rows when D < H
        Q = W[:, k * H:(k + 1) * H]
        gram = Q.T @ Q if D_in >= H else Q @ Q.T
        np.testing.assert_allclose(gram, np.eye(min(D_in, H)), atol=1e-13)


@pytest.mark.parametrize(("cell_name", "activation"), CELL_CASES, ids=CELL_IDS)
def test_identity_init(cell_name, activation):
    cell = make_cell(cell_name, activation)
    P = init_params(cell, D, H, O, InitSpec(scheme="identity"), np.random.default_rng(5))
    for block in recurrent_blocks(cell, P):
        np.testing.assert_array_equal(block, np.eye(H))
    limit = np.sqrt(6.0 / (D + H))  # the rest is Glorot uniform
    assert np.all(np.abs(P[cell.x_weight]) <= limit)
    assert not np.all(P[cell.x_weight] == 0)
    P2 = init_params(cell, D, H, O, InitSpec(scheme="identity", sigma_max=0.5), np.random.default_rng(5))
    for block in recurrent_blocks(cell, P2):
        np.testing.assert_allclose(block, 0.5 * np.eye(H), rtol=1e-15)


@pytest.mark.parametrize(("cell_name", "activation"), CELL_CASES, ids=CELL_IDS)
def test_xavier_and_normal_ranges(cell_name, activation):
    cell = make_cell(cell_name, activation)
    P = init_params(cell, D, H, O, InitSpec(scheme="xavier"), np.random.default_rng(6))
    for block in input_blocks(cell, P):
        assert np.all(np.abs(block) <= np.sqrt(6.0 / (D + H)))
    for block in recurrent_blocks(cell, P):
        assert np.all(np.abs(block) <= np.sqrt(6.0 / (2 * H)))
    big = init_params(cell, 50, 60, 40, InitSpec(scheme="normal", std=0.3), np.random.default_rng(7))
    assert np.std(big[cell.h_weight]) == pytest.approx(0.3, rel=0.05)
    assert np.mean(big[cell.h_weight]) == pytest.approx(0.0, abs=0.02)


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
@pytest.mark.parametrize(("cell_name", "activation"), CELL_CASES, ids=CELL_IDS)
def test_same_seed_same_weights(cell_name, activation, scheme):
    cell = make_cell(cell_name, activation)
    spec = InitSpec(scheme=scheme, bias_std=0.2, sigma_max=1.5)
    P1 = init_params(cell, D, H, O, spec, np.random.default_rng([8, 1]))
    P2 = init_params(cell, D, H, O, spec, np.random.default_rng([8, 1]))
    P3 = init_params(cell, D, H, O, spec, np.random.default_rng([9, 1]))
    for name in P1:
        np.testing.assert_array_equal(P1[name], P2[name])
    assert not np.array_equal(P1[cell.x_weight], P3[cell.x_weight])


@pytest.mark.parametrize("bias_std", [0.0, 0.3])
def test_lstm_forget_bias_shifts_only_the_forget_block(bias_std):
    cell = make_cell("lstm")
    spec = InitSpec(forget_bias=1.7, bias_std=bias_std)
    P = init_params(cell, D, H, O, spec, np.random.default_rng(10))
    P0 = init_params(cell, D, H, O, InitSpec(forget_bias=0.0, bias_std=bias_std), np.random.default_rng(10))
    shift = np.zeros(4 * H)
    shift[H:2 * H] = 1.7  # blocks i, f, g, o
    np.testing.assert_allclose(P["b"] - P0["b"], shift, rtol=0, atol=1e-15)
    if bias_std == 0:
        np.testing.assert_array_equal(P["b"], shift)
    for name in ("W_x", "W_h", "W_hy", "b_y"):
        np.testing.assert_array_equal(P[name], P0[name])


@pytest.mark.parametrize(("cell_name", "activation"), CELL_CASES, ids=CELL_IDS)
def test_bias_std(cell_name, activation):
    cell = make_cell(cell_name, activation)
    zero = init_params(cell, D, H, O, InitSpec(), np.random.default_rng(11))
    biases = [n for n, s in cell.param_shapes(D, H, O).items() if len(s) == 1]
    for name in biases:
        if not (cell.name == "lstm" and name == "b"):
            np.testing.assert_array_equal(zero[name], 0.0)
    big = init_params(cell, D, 400, 400, InitSpec(bias_std=0.5, forget_bias=0.0), np.random.default_rng(12))
    for name in biases:
        assert np.std(big[name]) == pytest.approx(0.5, rel=0.1), name
        assert np.mean(big[name]) == pytest.approx(0.0, abs=0.1), name
    if cell.name == "gru":
        assert not np.array_equal(big["b_x"], big["b_h"])


def test_unknown_scheme_is_a_value_error():
    with pytest.raises(ValueError, match="he_uniform"):
        init_params(make_cell("rnn"), D, H, O, InitSpec(scheme="he_uniform"), np.random.default_rng(0))


# --- inputs -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_input_shapes(kind):
    T, B, D_, O_ = 12, 3, 2, 1
    values = None
    if kind == "values":
        B, values = 1, np.arange(T * D_, dtype=np.float64).reshape(T, D_)
    X, Y = make_inputs(kind, T, B, D_, O_, np.random.default_rng(0), values)
    assert X.shape == (T, B, D_) and Y.shape == (T, B, O_)
    assert X.dtype == np.float64 and Y.dtype == np.float64
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(Y))


def test_values_kind_uses_the_values():
    values = np.random.default_rng(1).standard_normal((7, 4))
    X, Y = make_inputs("values", 7, 1, 4, 2, np.random.default_rng(0), values)
    np.testing.assert_array_equal(X[:, 0, :], values)
    assert Y.shape == (7, 1, 2)
    with pytest.raises(ValueError):
        make_inputs("values", 7, 1, 4, 2, np.random.default_rng(0), values[:6])
    with pytest.raises(ValueError):
        make_inputs("values", 7, 2, 4, 2, np.random.default_rng(0), values)
    with pytest.raises(ValueError):
        make_inputs("values", 7, 1, 4, 2, np.random.default_rng(0), None)


def test_impulse_is_zero_after_the_first_step():
    X, _ = make_inputs("impulse", 20, 4, 3, 1, np.random.default_rng(2))
    assert np.all(X[0] != 0)
    np.testing.assert_array_equal(X[1:], 0.0)


def test_sine_is_bounded():
    X, _ = make_inputs("sine", 40, 3, 5, 1, np.random.default_rng(3))
    assert np.all(np.abs(X) <= 1.0)
    assert X.std() > 0.3


@pytest.mark.parametrize("T", [2, 3, 10, 51])
def test_adding_problem_markers_and_targets(T):
    B = 500
    X, Y = adding_problem(T, B, np.random.default_rng(4))
    assert X.shape == (T, B, 2) and Y.shape == (T, B, 1)
    values, markers = X[..., 0], X[..., 1]
    assert np.all((values >= 0) & (values <= 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    half = T // 2
    np.testing.assert_array_equal(markers[:half].sum(axis=0), 1.0)
    np.testing.assert_array_equal(markers[half:].sum(axis=0), 1.0)
    marked_sum = (values * markers).sum(axis=0)
    np.testing.assert_allclose(Y[-1, :, 0], marked_sum, rtol=1e-15)
    np.testing.assert_allclose(Y[:, :, 0], np.cumsum(values * markers, axis=0), rtol=1e-15)


def test_adding_problem_baseline_is_one_sixth():
    """Always predicting 1 at T scores E[(u₁ + u₂ − 1)²] = Var(u₁ + u₂) = 1/6. Over n = 40000
    sequences the standard error of the mean is √(7/180 / n) ≈ 0.001; allow 5 of them."""
    _, Y = adding_problem(20, 40_000, np.random.default_rng(5))
    mse = np.mean((Y[-1, :, 0] - 1.0) ** 2)
    assert mse == pytest.approx(1 / 6, abs=0.005)


def test_adding_problem_rejects_bad_sizes():
    with pytest.raises(ValueError):
        adding_problem(1, 3, np.random.default_rng(0))
    with pytest.raises(ValueError):
        make_inputs("adding", 10, 3, 3, 1, np.random.default_rng(0))
    with pytest.raises(ValueError):
        make_inputs("bogus", 10, 3, 3, 1, np.random.default_rng(0))


# --- analysis ---------------------------------------------------------------------------

def test_log10_grad_ratio():
    assert analysis.log10_grad_ratio(np.array([1e-3, 0.5, 10.0])) == pytest.approx(-4.0, rel=1e-14)
    assert analysis.log10_grad_ratio(np.array([2.0, 1.0, 2.0])) == 0.0
    assert analysis.log10_grad_ratio(np.array([5.0])) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert analysis.log10_grad_ratio(np.array([0.0, 1.0])) == -np.inf
        assert np.isnan(analysis.log10_grad_ratio(np.array([np.nan, 1.0])))


@pytest.mark.parametrize(("grad_norm", "horizon"), [
    ([1.0, 1.0, 1.0, 1.0], None),  # never drops
    ([2e-3, 1e-2, 1.0, 1.0], None),  # 2e-3 ≥ 1e-3 · 1: holds to t = 1
    ([1e-3, 1.0], None),  # exactly at the threshold still holds
    ([1e-5, 1e-2, 1.0, 1.0], 2),  # j = 0, 1, 2 hold; j = 3 (t = 1) fails
    ([1.0, 1e-9, 1.0, 1.0], 1),  # a dip: j = 2 fails although t = 1 recovers
    ([1.0, 1.0, 1e-4], None),  # ‖∂L/∂h_T‖ ≪ the rest: nothing fails
    ([1.0, 1.0, 1.0, 1e4], 0),  # j = 1 fails at once
    ([5.0], None),
    ([1.0, np.nan, 1.0], 0),  # a non-finite norm fails the test
    ([1.0, 1.0, np.nan], 0),  # ‖∂L/∂h_T‖ itself not finite
])
def test_memory_horizon(grad_norm, horizon):
    result = analysis.memory_horizon(np.array(grad_norm))
    assert result == horizon
    assert result is None or type(result) is int


def test_memory_horizon_is_none_when_the_bound_holds_everywhere_and_int_when_not():
    T = 40
    g = 0.7 ** np.arange(T - 1, -1, -1)  # g_t = 0.7^(T−t): drops below 1e-3 at T − t = 20
    k = analysis.memory_horizon(g)
    assert k == 19
    assert 0.7 ** k >= 1e-3 > 0.7 ** (k + 1)


def test_first_nonfinite_forward():
    T, B, H, O = 6, 2, 3, 1
    h, Y = np.zeros((T, B, H)), np.zeros((T, B, O))
    assert analysis.first_nonfinite_forward(h, Y, 0.5) is None
    h[4, 1, 2] = np.inf
    assert analysis.first_nonfinite_forward(h, Y, 0.5) == 5
    h[2, 0, 0] = np.nan
    assert analysis.first_nonfinite_forward(h, Y, 0.5) == 3
    assert type(analysis.first_nonfinite_forward(h, Y, 0.5)) is int
    Y[1, 1, 0] = np.nan
    assert analysis.first_nonfinite_forward(h, Y, np.nan) == 2
    assert analysis.first_nonfinite_forward(np.zeros((T, B, H)), np.zeros((T, B, O)), np.inf) == T


def test_last_nonfinite():
    values = np.ones((7, 2, 3))
    assert analysis.last_nonfinite(values) is None
    values[1, 0, 0] = np.nan
    values[4, 1, 2] = -np.inf
    assert analysis.last_nonfinite(values) == 5
    values[6, 0, 1] = np.nan
    assert analysis.last_nonfinite(values) == 7
    assert analysis.last_nonfinite(np.array([1.0, np.nan, 2.0])) == 2


def test_pascanu_bound():
    np.testing.assert_allclose(analysis.pascanu_bound(0.25, 2.0, 4), [0.125, 0.25, 0.5, 1.0], rtol=1e-15)
    np.testing.assert_array_equal(analysis.pascanu_bound(1.0, 1.0, 5), np.ones(5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = analysis.pascanu_bound(1.0, 10.0, 400)
    assert b[0] == np.inf and b[-1] == 1.0


# --- the largest singular value ---------------------------------------------------------

# The sweep's Jacobian norms must match an SVD to 1e-8; TopSingularValue stops at a change
# below 1e-14 and claims to be exact, so 1e-10 leaves it plenty of room. Below, the power
# iteration and its certificates are tested at every size (exact_max_size=0); the sizes that ask
# LAPACK at every call have a test of their own.
SV_RTOL = 1e-10


@pytest.mark.parametrize("S", [1, 2, 16, 48])
def test_small_matrices_ask_lapack_at_every_call(S):
    """Up to EXACT_MAX_SIZE every call is LAPACK's exact value (no iteration, no certificate),
    through the products of a sweep, at scales where MᵀM would overflow or underflow, and for
    zero and non-finite matrices."""
    assert S <= EXACT_MAX_SIZE < 64
    rng = np.random.default_rng(S)
    top = TopSingularValue(S)
    M = np.eye(S)
    calls = 0
    for _ in range(40):
        M = M @ (rng.standard_normal((S, S)) / np.sqrt(S) * 1.3)
        sigma = top(M)
        assert sigma == pytest.approx(top_sv(M), rel=1e-13)
        M = M / sigma
        calls += 1
    for scale in (1e-250, 1e-120, 1e-90, 1e90, 1e120, 1e250):
        assert top(M * scale) == pytest.approx(scale, rel=1e-13)
        calls += 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert top(np.zeros((S, S))) == 0.0
        bad, inf = M.copy(), M.copy()
        bad[0, -1] = np.nan
        inf[-1, 0] = -np.inf
        assert np.isnan(top(bad))
        assert top(inf) == np.inf
    assert top.exact_calls == calls + 3 and top.trace_calls == 0
    assert TopSingularValue(64).always_exact is False


@pytest.mark.parametrize("S", [1, 2, 5, 16, 40])
def test_top_singular_value_of_random_matrices(S):
    rng = np.random.default_rng(S)
    top = TopSingularValue(S, exact_max_size=0)
    for _ in range(10):
        M = rng.standard_normal((S, S)) * rng.uniform(0.1, 10.0)
        assert top(M) == pytest.approx(top_sv(M), rel=SV_RTOL)


@pytest.mark.parametrize("S", [4, 8, 32])
def test_top_singular_value_of_a_sequence_of_products(S):
    """The use in the sweep: M_{t−1} = M_t J_t, each normalised, warm-started from the last."""
    rng = np.random.default_rng(100 + S)
    top = TopSingularValue(S, exact_max_size=0)
    M = np.eye(S)
    for _ in range(60):
        J = rng.standard_normal((S, S)) / np.sqrt(S) * rng.uniform(0.5, 1.5)
        M = M @ J
        sigma = top(M)
        assert sigma == pytest.approx(top_sv(M), rel=SV_RTOL)
        M = M / sigma


@pytest.mark.parametrize("gap", [1e-1, 1e-3, 1e-5, 1e-6, 1e-12, 0.0])
def test_top_singular_value_with_nearly_equal_top_values(gap):
    """σ₁ = 1, σ₂ = 1 − gap in random bases, cold and warm started; then the two top directions
    swap, so the warm start points at what became the second singular vector."""
    S = 12
    rng = np.random.default_rng(7)
    top = TopSingularValue(S, exact_max_size=0)
    for k in range(6):
        U, _ = np.linalg.qr(rng.standard_normal((S, S)))
        V, _ = np.linalg.qr(rng.standard_normal((S, S)))
        s = np.concatenate([[1.0, 1.0 - gap], rng.uniform(0.0, 0.9, S - 2)])
        M = (U * s) @ V.T
        assert TopSingularValue(S, exact_max_size=0)(M) == pytest.approx(top_sv(M), rel=SV_RTOL), "cold"
        assert top(M) == pytest.approx(top_sv(M), rel=SV_RTOL), "warm"
        s2 = s.copy()
        s2[0], s2[1] = 1.0 - gap, 1.0
        M2 = (U * s2) @ V.T * (1.0 + 0.1 * k)
        assert top(M2) == pytest.approx(top_sv(M2), rel=SV_RTOL), "swapped"


def test_top_singular_value_when_the_start_barely_sees_the_top_vector():
    """σ = (1, 1 − 1e-5, 0.5, …) with the top left singular vector at an angle of
    arccos(1e-3) from the start vector: power iteration first settles on σ₂, and its
    per-iteration change (~1e-15) is then below the stopping tolerance (1e-14) although the
    estimate is still 1e-5 short of σ₁."""
    S = 8
    top = TopSingularValue(S, exact_max_size=0)
    d = top.direction
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(np.column_stack([d, rng.standard_normal((S, S - 1))]))[0]
    basis[:, 0] = d  # QR may flip the sign; d is a unit vector
    u1 = 1e-3 * d + np.sqrt(1 - 1e-6) * basis[:, 1]
    u2 = np.sqrt(1 - 1e-6) * d - 1e-3 * basis[:, 1]
    U = np.column_stack([u1, u2, basis[:, 2:]])
    V, _ = np.linalg.qr(rng.standard_normal((S, S)))
    M = (U * np.array([1.0, 1.0 - 1e-5, *[0.5] * (S - 2)])) @ V.T
    assert top_sv(M) == pytest.approx(1.0, rel=1e-14)
    assert top(M) == pytest.approx(1.0, rel=SV_RTOL)


def test_top_singular_value_switching_diagonal():
    """Deterministic switch: the top direction jumps between coordinate axes."""
    S = 10
    top = TopSingularValue(S, exact_max_size=0)
    for k in range(S):
        d = np.full(S, 0.5)
        d[k] = 1.0
        d[(k + 1) % S] = 0.999
        assert top(np.diag(d)) == pytest.approx(1.0, rel=SV_RTOL)


def test_top_singular_value_answers_a_long_product_by_the_trace_certificate():
    """A product of contracting and expanding factors spreads its singular values, so after
    the first steps the cheap certificate answers, and its answers are as exact as the rest."""
    S = 24
    rng = np.random.default_rng(3)
    top = TopSingularValue(S, exact_max_size=0)
    M = np.eye(S)
    for _ in range(200):
        M = M @ (rng.standard_normal((S, S)) / np.sqrt(S) * 1.3)
        sigma = top(M)
        assert sigma == pytest.approx(top_sv(M), rel=SV_RTOL)
        M = M / sigma
    assert top.trace_calls > 150
    assert top.exact_calls < 25  # the first steps, whose spectrum is still flat


def test_top_singular_value_of_a_turning_pair():
    """A Jacobian whose dominant eigenvalues are a complex pair: the product's top two singular
    values stay comparable while their vectors turn in one plane (the sigmoid RNN's case). The
    pair of vectors certifies it; a single vector would crawl."""
    S = 16
    rng = np.random.default_rng(5)
    basis, _ = np.linalg.qr(rng.standard_normal((S, S)))
    angle = 0.3
    block = np.diag(rng.uniform(0.05, 0.3, S))
    block[:2, :2] = 0.9 * np.array([[np.cos(angle), -np.sin(angle)], [1.5 * np.sin(angle), np.cos(angle)]])
    J = basis @ block @ basis.T
    top = TopSingularValue(S, exact_max_size=0)
    M = np.eye(S)
    for _ in range(120):
        M = M @ J
        sigma = top(M)
        assert sigma == pytest.approx(top_sv(M), rel=SV_RTOL)
        M = M / sigma
    s = np.linalg.svd(M, compute_uv=False)
    assert s[1] / s[0] > 0.3  # the pair stays comparable
    assert top.trace_calls > 100


def test_the_pair_certificate_counts_the_second_vectors_residual():
    """A start pair (z₁, z₂) with z₁ an exact singular vector of σ₂ (no residual) and z₂ half
    on the top vector: the Ritz value of z₁ is 0.9 and the rest of the trace (1.9 − 0.9 − 0.5)
    is below it, so the pair's certificate would pass on z₁'s residual alone — wrongly."""
    S = 6
    M = np.diag([1.0, np.sqrt(0.9), 0.0, 0.0, 0.0, 0.0])
    top = TopSingularValue(S, exact_max_size=0)
    e = np.eye(S)
    top.Q = np.column_stack([e[1], np.sqrt(0.5) * (e[0] + e[2])])
    assert top(M) == pytest.approx(1.0, rel=SV_RTOL)


def test_top_singular_value_of_zero_and_nonfinite_matrices():
    S = 5
    top = TopSingularValue(S, exact_max_size=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert top(np.zeros((S, S))) == 0.0
        M = np.random.default_rng(0).standard_normal((S, S))
        assert top(M) == pytest.approx(top_sv(M), rel=SV_RTOL)
        bad = M.copy()
        bad[2, 3] = np.nan
        assert np.isnan(top(bad))
        inf = M.copy()
        inf[0, 0] = np.inf
        assert top(inf) == np.inf
        assert top(M) == pytest.approx(top_sv(M), rel=SV_RTOL)  # still right afterwards


def test_top_singular_value_of_a_rank_one_matrix():
    u, v = np.arange(1.0, 7.0), np.linspace(-1.0, 2.0, 6)
    M = np.outer(u, v)
    expected = np.linalg.norm(u) * np.linalg.norm(v)
    assert TopSingularValue(6, exact_max_size=0)(M) == pytest.approx(expected, rel=SV_RTOL)


# --- an exploding run -------------------------------------------------------------------

def test_overflowing_relu_run_is_a_result_not_an_error():
    spec = RunSpec(models=(ModelSpec("rnn", "relu"),), seq_len=1000,
                   init=InitSpec(scheme="orthogonal", sigma_max=5.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning (overflow, invalid) fails the test
        result = collect(run(spec))
    (m,) = result.models
    step = m.summary["overflow_step"]
    assert type(step) is int
    assert m.summary["overflow_phase"] == "forward"
    finite_rows = np.isfinite(m.hidden).all(axis=1)
    first_bad = int(np.argmin(finite_rows)) + 1
    assert not finite_rows.all()
    assert step == first_bad
    assert 1 < step < spec.seq_len
    # after the first non-finite step nothing turns finite again: NaN is not turned into 0
    assert not np.isfinite(m.hidden[step - 1:]).all(axis=1).any()
    assert not np.isfinite(m.loss)
    assert np.all(np.isnan(m.grad_norm))
    assert not np.isfinite(m.grads).all(axis=1).any()
    assert np.all(np.isnan(m.jacobian_norm[:-1]))
    assert m.jacobian_norm[-1] == 1.0
    for g in m.param_grads.values():
        assert np.isnan(g).any()


# --- the order of a run's frames --------------------------------------------------------

def test_stream_order():
    T = 4
    spec = RunSpec(seq_len=T, hidden_size=3, input_size=2)
    frames = list(run(spec))
    n = len(spec.models)
    assert len(frames) == 1 + 2 * T * n + n
    assert isinstance(frames[0], StartFrame)
    assert [m.label for m in frames[0].models] == ["RNN (sigmoid)", "RNN (tanh)", "LSTM"]
    forward = frames[1:1 + T * n]
    backward = frames[1 + T * n:1 + 2 * T * n]
    summaries = frames[1 + 2 * T * n:]
    assert all(isinstance(f, ForwardFrame) for f in forward)
    assert [(f.t, f.model) for f in forward] == [(t, i) for t in range(1, T + 1) for i in range(n)]
    assert all(isinstance(f, BackwardFrame) for f in backward)
    assert [(f.t, f.model) for f in backward] == [(t, i) for t in range(T, 0, -1) for i in range(n)]
    assert all(isinstance(f, SummaryFrame) for f in summaries)
    assert [f.model for f in summaries] == list(range(n))


def test_zigzag_statistic_is_exactly_one_for_sigmoid_and_clearly_lower_for_tanh():
    """Sigmoid outputs are all positive, so every unit's incoming-weight gradient of a step is
    sign-uniform (fraction 1.0 at every t ≥ 2); tanh's mixed signs break that."""
    from gradient_flow_lab.core.activations import ACTIVATIONS
    from gradient_flow_lab.core.analysis import sign_uniform_fractions
    from gradient_flow_lab.core.run import ModelSpec, RunSpec, collect, run

    spec = RunSpec(models=(ModelSpec("rnn", "sigmoid"), ModelSpec("rnn", "tanh")), seq_len=40, seed=3)
    sig, tanh = collect(run(spec)).models
    f_sig = sign_uniform_fractions(sig.hidden, sig.grads, ACTIVATIONS["sigmoid"].dphi)
    f_tanh = sign_uniform_fractions(tanh.hidden, tanh.grads, ACTIVATIONS["tanh"].dphi)
    assert f_sig.shape == (39,) and np.all(f_sig == 1.0)
    assert f_tanh.max() < 0.5 and f_tanh.mean() < 0.1


def test_zigzag_statistic_counts_zero_columns_as_uniform_and_mixed_ones_not():
    from gradient_flow_lab.core.analysis import sign_uniform_fractions

    hidden = np.array([[1.0, -1.0], [0.5, 0.5]])
    grads = np.array([[0.0, 0.0], [1.0, 0.0]])  # δ_2 = (1, 0) with φ' = 1
    f = sign_uniform_fractions(hidden, grads, lambda h: np.ones_like(h))
    # unit 0: column h_1 · 1 = (1, −1), mixed; unit 1: column of zeros, uniform
    assert f.tolist() == [0.5]
