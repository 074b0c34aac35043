"""Input sequences and regression targets for a run, all of shape [T, B, ·].

    gaussian  x_t ~ N(0, I)
    sine      x_{t,b,d} = sin(2π t / p_{b,d} + θ_{b,d}), periods p ~ U[5, 25], phases θ ~ U[0, 2π)
    impulse   x_1 ~ N(0, I) and x_t = 0 for t > 1: a pure memory probe
    adding    the adding problem (Hochreiter & Schmidhuber 1997): D = 2, a value in U[0, 1]
              and a marker; exactly one marker in each half of the sequence
    values    x given by the caller, [T, D], batch 1

Targets are N(0, 1) [T, B, O], drawn after the inputs from the same generator, except for
`adding`, whose target is the sum of the marked values seen so far (O = 1): at t = T it is
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


def make_inputs(
    kind: str,
    T: int,
    B: int,
    D: int,
    O: int,
    rng: np.random.Generator,
    values: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs [T, B, D] and targets [T, B, O] for the input `kind` (see the module doc)."""
    if kind == "adding":
        if D != 2 or O != 1:
            raise ValueError("the adding problem has input_size 2 and output_size 1")
        return adding_problem(T, B, rng)
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
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (T, D) or B != 1:
            raise ValueError(f"values must be [seq_len, input_size] = [{T}, {D}] with batch 1")
        X = values[:, None, :].copy()
    else:
        raise ValueError(f"unknown input kind {kind!r}; choose from {list(INPUT_KINDS)}")
    return X, rng.standard_normal((T, B, O))
