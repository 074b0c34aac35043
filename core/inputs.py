"""Input sequences and targets for a run, all of shape [T, B, ·].

    gaussian  x_t ~ N(0, I)
    sine      x_{t,b,d} = sin(2π t / p_{b,d} + θ_{b,d}), periods p ~ U[5, 25], phases θ ~ U[0, 2π)
    impulse   x_1 ~ N(0, I) and x_t = 0 for t > 1: a pure memory probe
    adding    the adding problem (Hochreiter & Schmidhuber 1997): D = 2, a value in U[0, 1]
              and a marker; exactly one marker in each half of the sequence
    values    x given by the caller, [T, D] (batch 1) or [T, B, D]

Targets depend on the loss (`core.bptt.output_grads`): for the squared error ("mse") values
[T, B, O], for the softmax cross-entropy ("xent") class indices [T, B] in 0…O−1. A caller may
give them ([T, O] or [T] for batch 1); else they are drawn after the inputs from the same
generator: N(0, 1) values, or classes uniform over 0…O−1. The `adding` problem's targets are
its own: the sum of the marked values seen so far (O = 1, squared error only): at t = T it is
the sum of the two marked values, the task's answer; always predicting 1 there scores an
expected squared error of Var(u₁ + u₂) = 1/6. The running sum gives `loss.at = "all"` a
meaning too.
"""

import numpy as np

INPUT_KINDS = ("gaussian", "sine", "impulse", "adding", "values")


def adding_problem(T: int, B: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Inputs [T, B, 2] (value, marker) and running-sum targets [T, B, 1]."""
    if T < 2:
        raise ValueError("the adding problem needs seq_len >= 2 (one marker in each half)")
    values = rng.uniform(0.0, 1.0, size=(T, B))
    half = T // 2
    first = rng.integers(0, half, size=B)
    second = rng.integers(half, T, size=B)
    markers = np.zeros((T, B))
    cols = np.arange(B)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    X = np.stack([values, markers], axis=-1)
    Y = np.cumsum(values * markers, axis=0)[:, :, None]
    return X, Y


def _with_batch(a: np.ndarray, rank: int, B: int, what: str, shape: str) -> np.ndarray:
    """a of `rank` dimensions with the batch axis (second), or one fewer for batch 1."""
    if a.ndim == rank - 1 and B == 1:
        return a[:, None]
    if a.ndim != rank:
        raise ValueError(f"{what} must be {shape}")
    return a


def given_targets(targets, T: int, B: int, O: int, loss_kind: str) -> np.ndarray:
    """The caller's targets, checked: [T, B, O] values ("mse", from [T, O] too when B = 1) or
    [T, B] class indices in 0…O−1 ("xent", from [T] too when B = 1)."""
    a = np.asarray(targets)
    if loss_kind == "mse":
        shape = f"[seq_len, output_size] or [seq_len, batch, output_size] = [{T}, {B}, {O}]"
        a = _with_batch(a, 3, B, "targets", shape)
        if a.shape != (T, B, O):
            raise ValueError(f"targets have shape {list(a.shape)}, not {shape}")
        a = a.astype(np.float64)
        if not np.isfinite(a).all():
            raise ValueError("targets must be finite")
        return a
    if loss_kind != "xent":
        raise ValueError(f"loss_kind must be 'mse' or 'xent', not {loss_kind!r}")
    a = _with_batch(a, 2, B, "class targets", f"[seq_len] or [seq_len, batch] = [{T}, {B}]")
    if a.shape != (T, B):
        raise ValueError(f"class targets have shape {list(a.shape)}, not [seq_len, batch] = {[T, B]}")
    if a.dtype.kind not in "iu":
        if a.dtype.kind != "f" or not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise ValueError("class targets must be integers")
    a = a.astype(np.intp)
    if a.size and (a.min() < 0 or a.max() >= O):
        raise ValueError(f"class targets must lie in 0…{O - 1} (output_size {O})")
    return a


def make_inputs(
    kind: str,
    T: int,
    B: int,
    D: int,
    O: int,
    rng: np.random.Generator,
    values: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    loss_kind: str = "mse",
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs [T, B, D] and targets ([T, B, O] values for "mse", [T, B] classes for "xent") for
    the input `kind` (see the module doc); `targets` given by the caller replace the drawn ones."""
    if kind == "adding":
        if D != 2 or O != 1:
            raise ValueError("the adding problem has input_size 2 and output_size 1")
        if loss_kind != "mse":
            raise ValueError("the adding problem's targets are sums: its loss is the squared error")
        X, Y = adding_problem(T, B, rng)
        return X, Y if targets is None else given_targets(targets, T, B, O, loss_kind)
    if kind == "gaussian":
        X = rng.standard_normal((T, B, D))
    elif kind == "sine":
        periods = rng.uniform(5.0, 25.0, size=(B, D))
        phases = rng.uniform(0.0, 2 * np.pi, size=(B, D))
        t = np.arange(1, T + 1)[:, None, None]
        X = np.sin(2 * np.pi * t / periods + phases)
    elif kind == "impulse":
        X = np.zeros((T, B, D))
        X[0] = rng.standard_normal((B, D))
    elif kind == "values":
        if values is None:
            raise ValueError("input kind 'values' needs the values")
        shape = f"[seq_len, input_size] (batch 1) or [seq_len, batch, input_size] = [{T}, {B}, {D}]"
        values = _with_batch(np.asarray(values, dtype=np.float64), 3, B, "values", shape)
        if values.shape != (T, B, D):
            raise ValueError(f"values must be {shape}, not {list(values.shape)}")
        if not np.isfinite(values).all():
            raise ValueError("values must be finite")
        X = values.copy()
    else:
        raise ValueError(f"unknown input kind {kind!r}; choose from {list(INPUT_KINDS)}")
    if targets is not None:
        return X, given_targets(targets, T, B, O, loss_kind)
    if loss_kind == "xent":
        return X, rng.integers(0, O, size=(T, B))
    if loss_kind != "mse":
        raise ValueError(f"loss_kind must be 'mse' or 'xent', not {loss_kind!r}")
    return X, rng.standard_normal((T, B, O))
