"""Long-range tasks for training, with their trivial baselines.

Each task makes batches of inputs X [T', B, D] and targets from an explicit generator, says
where the loss applies and how it is scaled, and scores a model's outputs on held-out data.

- adding (Hochreiter & Schmidhuber 1997; Le et al. 2015): D = 2, a value u ~ U[0, 1] and a
  marker; exactly one marker in each half; the answer at t = T is the sum of the two marked
  values. Loss and metric: mean squared error at T. Always answering 1 scores
  E[(u₁ + u₂ − 1)²] = Var(u₁ + u₂) = 1/6.
- copy (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): 10 symbols drawn from 8, then
  T − 1 blanks, a delimiter and 10 more blanks (T' = T + 20 steps, one-hot inputs of 10
  kinds: blank 0, symbols 1–8, delimiter 9); the targets are blanks, then the 10 symbols in
  the last 10 steps. Loss: softmax cross-entropy averaged over all T + 20 steps; a memoryless
  model that emits blanks and then guesses uniformly scores 10·ln 8 / (T + 20). Metric: the
  accuracy on the 10 recalled symbols (chance 1/8).
- temporal_order (Hochreiter & Schmidhuber 1997, task 6a): T random distractor symbols
  (c, d, e, f) framed by a start and an end marker, with two relevant symbols, X or Y, at
  t₁ ∈ [0.1T, 0.2T] and t₂ ∈ [0.5T, 0.6T]; the class at T is their order XX, XY, YX or YY.
  Loss: cross-entropy at T (chance ln 4); metric: accuracy (chance 1/4).
"""

from dataclasses import dataclass

import numpy as np

from gradient_flow_lab.core.inputs import adding_problem

TASKS = ("adding", "copy", "temporal_order")
COPY_SYMBOLS, COPY_LENGTH, COPY_KINDS = 8, 10, 10
ORDER_SYMBOLS = ("start", "end", "c", "d", "e", "f", "X", "Y")


@dataclass(frozen=True)
class Task:
    name: str
    seq_len: int  # T, the task's delay; the sequences are `length` steps long

    @property
    def length(self) -> int:
        return self.seq_len + 2 * COPY_LENGTH if self.name == "copy" else self.seq_len

    @property
    def input_size(self) -> int:
        return {"adding": 2, "copy": COPY_KINDS, "temporal_order": len(ORDER_SYMBOLS)}[self.name]

    @property
    def output_size(self) -> int:
        return {"adding": 1, "copy": COPY_KINDS, "temporal_order": 4}[self.name]

    @property
    def loss(self) -> str:
        return "mse" if self.name == "adding" else "xent"

    @property
    def loss_at(self) -> str:
        return "all" if self.name == "copy" else "last"

    def loss_scale(self, B: int) -> float:
        """The sweep's loss scale: adding → mean squared error (½ undone); copy → mean over
        the batch and the T + 20 steps; temporal order → mean over the batch."""
        if self.name == "adding":
            return 2.0 / B
        if self.name == "copy":
            return 1.0 / (B * self.length)
        return 1.0 / B

    @property
    def metric(self) -> str:
        return "mse" if self.name == "adding" else "accuracy"

    @property
    def loss_baseline(self) -> float:
        """The training loss of the best memoryless answer."""
        if self.name == "adding":
            return 1.0 / 6.0
        if self.name == "copy":
            return COPY_LENGTH * np.log(COPY_SYMBOLS) / self.length
        return float(np.log(4.0))

    @property
    def metric_baseline(self) -> float:
        return {"adding": 1.0 / 6.0, "copy": 1.0 / COPY_SYMBOLS, "temporal_order": 0.25}[self.name]

    def solved(self, value: float) -> bool:
        return bool(value < 0.01) if self.metric == "mse" else bool(value > 0.99)

    def batch(self, B: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Inputs [T', B, D] and targets: [T', B, 1] values (adding) or [T', B] classes."""
        T = self.seq_len
        if self.name == "adding":
            return adding_problem(T, B, rng)
        if self.name == "copy":
            symbols = rng.integers(1, COPY_SYMBOLS + 1, size=(COPY_LENGTH, B))
            kinds = np.zeros((self.length, B), dtype=np.intp)
            kinds[:COPY_LENGTH] = symbols
            kinds[COPY_LENGTH + T - 1] = COPY_KINDS - 1  # the delimiter
            targets = np.zeros((self.length, B), dtype=np.intp)
            targets[-COPY_LENGTH:] = symbols
            return one_hot(kinds, COPY_KINDS), targets
        if self.name == "temporal_order":
            if T < 10:
                raise ValueError("temporal_order needs seq_len >= 10")
            kinds = rng.integers(2, 6, size=(T, B))  # distractors c, d, e, f
            kinds[0], kinds[-1] = 0, 1  # start and end markers
            t1 = rng.integers(int(0.1 * T), int(0.2 * T) + 1, size=B)
            t2 = rng.integers(int(0.5 * T), int(0.6 * T) + 1, size=B)
            first, second = rng.integers(0, 2, size=B), rng.integers(0, 2, size=B)
            cols = np.arange(B)
            kinds[t1, cols] = 6 + first  # X = 6, Y = 7
            kinds[t2, cols] = 6 + second
            targets = np.zeros((T, B), dtype=np.intp)
            targets[-1] = 2 * first + second  # XX, XY, YX, YY
            return one_hot(kinds, len(ORDER_SYMBOLS)), targets
        raise ValueError(f"unknown task {self.name!r}; choose from {list(TASKS)}")

    def score(self, Y: np.ndarray, targets: np.ndarray) -> float:
        """The metric of outputs Y [T', B, O] against targets from `batch`."""
        if self.name == "adding":
            diff = Y[-1, :, 0] - targets[-1, :, 0]
            return float(np.mean(diff * diff))
        steps = slice(-COPY_LENGTH, None) if self.name == "copy" else slice(-1, None)
        return float(np.mean(Y[steps].argmax(axis=-1) == targets[steps]))


def one_hot(kinds: np.ndarray, n: int) -> np.ndarray:
    """[T, B] integer kinds -> [T, B, n] one-hot float64."""
    out = np.zeros((*kinds.shape, n))
    np.put_along_axis(out, kinds[..., None], 1.0, axis=-1)
    return out
