"""The catalogue of models: every (cell, activation) a request may name, with its key, label,
γ and gates — the one table the API (/api/meta), the page's templates and its scripts read.

    key          "rnn-sigmoid", "rnn-tanh", "rnn-relu", "rnn-linear", "lstm", "gru": the
                 page's and the URL's name of a model
    gamma        γ = sup φ' of the RNN's activation (the factor of the Pascanu bound);
                 None for the gated cells
    bounded      |h_t| ≤ 1 at every step (sigmoid, tanh and the gated cells)
    gates        the gate names of the cell, in the order of its weight blocks
    page         offered by the page's model checkboxes
"""

from dataclasses import asdict, dataclass

from gradient_flow_lab.core.activations import ACTIVATIONS
from gradient_flow_lab.core.cells import CELL_TYPES, make_cell

# the RNN activations the page offers (the API takes every one of ACTIVATIONS)
PAGE_ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")


@dataclass(frozen=True)
class ModelKind:
    key: str
    cell: str
    activation: str | None
    label: str
    gamma: float | None
    bounded: bool
    gates: tuple[str, ...]
    page: bool


def model_key(cell: str, activation: str | None = None) -> str:
    """The catalogue key of a model: "rnn-<activation>" (tanh when unset), or the cell."""
    return f"rnn-{activation or 'tanh'}" if cell == "rnn" else cell


def _kinds() -> tuple[ModelKind, ...]:
    kinds = []
    for cell in CELL_TYPES:
        for activation in ACTIVATIONS if cell == "rnn" else (None,):
            c = make_cell(cell, activation)
            a = c.activation
            kinds.append(ModelKind(
                key=model_key(cell, activation), cell=cell, activation=activation, label=c.label,
                gamma=a.gamma if a else None, bounded=a.bounded if a else True,
                gates=c.gate_names, page=activation is None or activation in PAGE_ACTIVATIONS,
            ))
    return tuple(kinds)


MODEL_KINDS: tuple[ModelKind, ...] = _kinds()
MODELS: dict[str, ModelKind] = {k.key: k for k in MODEL_KINDS}


def as_dicts() -> list[dict]:
    """The catalogue as plain dicts, in its order (for JSON)."""
    return [asdict(k) for k in MODEL_KINDS]
