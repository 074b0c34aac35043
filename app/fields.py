"""The one table of a run's per-model arrays: which `include` value asks for each, for which
cells it exists, and which stream event carries it. The answer of POST /api/runs, the stream's
events, the size check of a request (`app.resolve`) and the page (through /api/meta and the
catalogue embedded in the page) all read it; the core's frames and results hold each array
under the same name.

    include   the `include` value that asks for the array; None: always there, for its cells
    cells     the cells that have it
    event     "forward" / "backward": the stream event that carries step t's value (and the
              summary event the whole [T] series, for the one-number-per-step fields);
              "summary": only the summary event, once the sweep has ended
    width     numbers per step: 1, "H" (one hidden vector) or "GH" (every gate's vector)
"""

from dataclasses import asdict, dataclass

from gradient_flow_lab.core.cells import CELL_TYPES, CELLS


@dataclass(frozen=True)
class Field:
    name: str
    include: str | None
    cells: tuple[str, ...]
    event: str
    width: int | str

    def wanted(self, include: set[str]) -> bool:
        return self.include is None or self.include in include

    def applies(self, cell: str, include: set[str]) -> bool:
        return cell in self.cells and self.wanted(include)

    def numbers_per_step(self, cell: str, H: int) -> int:
        if self.width == "H":
            return H
        if self.width == "GH":
            return CELL_TYPES[cell].gates * H
        return self.width


FIELDS: tuple[Field, ...] = (
    Field("grad_norm", None, CELLS, "backward", 1),
    Field("hidden", "hidden", CELLS, "forward", "H"),
    Field("cell_state", "cell_state", ("lstm",), "forward", "H"),
    Field("gates", "gates", ("lstm", "gru"), "forward", "GH"),
    Field("preactivation", "preactivation", ("rnn",), "forward", "H"),
    Field("grads", "grads", CELLS, "backward", "H"),
    Field("jacobian_norm", "jacobian", CELLS, "backward", 1),
    Field("bound", None, ("rnn",), "summary", 1),
    Field("sign_uniform", None, ("rnn",), "summary", 1),
    Field("cell_grad_norm", None, ("lstm",), "backward", 1),
)
# `params` adds each model's parameters and the run's inputs and targets (not per step)
PARAMS = "params"
INCLUDE: tuple[str, ...] = (*dict.fromkeys(f.include for f in FIELDS if f.include), PARAMS)

FORWARD = tuple(f for f in FIELDS if f.event == "forward")
BACKWARD = tuple(f for f in FIELDS if f.event == "backward")
SERIES = tuple(f for f in FIELDS if f.width == 1)  # in the summary event as [T] arrays


def as_dicts() -> list[dict]:
    return [asdict(f) for f in FIELDS]
