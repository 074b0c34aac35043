"""Request and response schemas of the HTTP contract (docs/api.md).

Choices are `Literal`s built from the core's tables (`Literal[("a", "b")]` is
`Literal["a", "b"]`), so a name added to a table is accepted here at once; static bounds
(positive sizes, finite floats) live here, while the limits that an operator can change
(sizes, the work budget) are checked against the settings in `app.resolve`, so the 422 names
them.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gradient_flow_lab.app.fields import INCLUDE
from gradient_flow_lab.core.activations import ACTIVATIONS
from gradient_flow_lab.core.cells import CELLS
from gradient_flow_lab.core.init import INIT_SCHEMES
from gradient_flow_lab.core.inputs import INPUT_KINDS
from gradient_flow_lab.core.tasks import TASKS

CellName = Literal[CELLS]
ActivationName = Literal[tuple(ACTIVATIONS)]
InputKind = Literal[INPUT_KINDS]
InitScheme = Literal[INIT_SCHEMES]
IncludeItem = Literal[INCLUDE]

# strict: no true for 1, no 1e3 for 1000, no "5" for 5 (JSON ints are still fine as floats)
Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(strict=True, ge=1)]
SEED_MAX = 2**53 - 1  # the largest integer a JavaScript number (the page, its URL) keeps exactly
Seed = Annotated[int, Field(ge=0, le=SEED_MAX, strict=True)]
SEEDS_MIN, SEEDS_MAX = 2, 16  # a run over several seeds (RunRequest.seeds)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


WEIGHTS_ID = r"^sha256:[0-9a-f]{64}$"


class TrainModelConfig(Strict):
    """A model to train: one layer, drawn from the seed."""

    cell: CellName = "rnn"
    activation: ActivationName | None = Field(
        None, description="rnn only (default tanh); an error for lstm and gru")


class ModelConfig(TrainModelConfig):
    """A model to run: drawn from the seed, or from an uploaded file (`weights`)."""

    cell: CellName = Field("rnn", description="with `weights`: the file's cell (leave it out)")
    num_layers: int = Field(1, ge=1, strict=True, description="stacked layers, 1…layers_max "
                                                              "(PyTorch's semantics)")
    bidirectional: bool = Field(False, strict=True, description="a backward direction per layer")
    weights: str | None = Field(None, pattern=WEIGHTS_ID, description=(
        "the id of an uploaded file (POST /api/weights): the network's cell, layers, directions "
        "and sizes come from it; a field that contradicts them is a 422"))


Values2D = list[list[Finite]]
ClassIndex = Annotated[int, Field(ge=0, strict=True)]
Values3D = list[list[list[Finite]]]


class InputConfig(Strict):
    kind: InputKind = "gaussian"
    values: Values2D | Values3D | None = Field(
        None, description="kind 'values' only: seq_len × input_size (batch 1) or "
                          "seq_len × batch_size × input_size")


class TargetsConfig(Strict):
    values: Values2D | Values3D | None = Field(
        None, description="for loss kind 'mse': seq_len × output_size or seq_len × batch × output_size")
    classes: list[ClassIndex] | list[list[ClassIndex]] | None = Field(
        None, description="for loss kind 'xent': seq_len or seq_len × batch class indices in 0…output_size−1")


class InitConfig(Strict):
    scheme: InitScheme = "xavier"
    std: Finite = Field(0.1, gt=0, le=10, description="standard deviation for scheme 'normal'")
    sigma_max: Finite | None = Field(
        None, gt=0, le=100,
        description="rescale every recurrent H×H block to this largest singular value")
    forget_bias: Finite = Field(1.0, ge=-50, le=50, description="added to the LSTM forget-gate bias")
    bias_std: Finite = Field(0.0, ge=0, le=10, description="biases ~ N(0, bias_std²) when > 0")


class LossConfig(Strict):
    kind: Literal["mse", "xent"] = Field("mse", description=(
        "mse: ½‖y − y*‖²; xent: softmax cross-entropy with class targets"))
    at: Literal["last", "all"] = "last"


def _default_models() -> list[ModelConfig]:
    return [ModelConfig(cell="rnn", activation="sigmoid"), ModelConfig(cell="rnn", activation="tanh"),
            ModelConfig(cell="lstm")]


RUN_EXAMPLES = {
    "gaussian": {
        "summary": "sigmoid vs tanh vs LSTM on Gaussian inputs (the defaults)",
        "value": {"models": [{"cell": "rnn", "activation": "sigmoid"},
                             {"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}],
                  "seq_len": 50, "hidden_size": 16, "input": {"kind": "gaussian"}, "seed": 0},
    },
    "sine": {
        "summary": "sine waves, every cell, loss at every step",
        "value": {"models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}, {"cell": "gru"}],
                  "seq_len": 100, "input": {"kind": "sine"}, "loss": {"at": "all"}},
    },
    "impulse": {
        "summary": "impulse memory probe at the critical σ_max = 1",
        "value": {"models": [{"cell": "rnn", "activation": "sigmoid"}, {"cell": "rnn", "activation": "tanh"}],
                  "seq_len": 100, "input": {"kind": "impulse"},
                  "init": {"scheme": "orthogonal", "sigma_max": 1.0}},
    },
    "adding": {
        "summary": "the adding problem (input_size 2, output_size 1)",
        "value": {"models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}, {"cell": "gru"}],
                  "seq_len": 50, "input": {"kind": "adding"}, "batch_size": 8},
    },
    "values": {
        "summary": "your own inputs: a seq_len × input_size array",
        "value": {"models": [{"cell": "rnn", "activation": "tanh"}], "input_size": 2,
                  "input": {"kind": "values", "values": [[1, 0], [0, 1], [0.5, -0.5], [0, 0]]},
                  "include": ["hidden", "grads", "jacobian", "params"]},
    },
    "exploding": {
        "summary": "an exploding relu RNN: nulls and overflow_step, not an error",
        "value": {"models": [{"cell": "rnn", "activation": "relu"}], "seq_len": 1000,
                  "init": {"scheme": "orthogonal", "sigma_max": 5.0}, "include": ["grads"]},
    },
}


class RunRequest(Strict):
    """Every field is optional; `config` in the answer shows the request with defaults filled."""

    model_config = ConfigDict(json_schema_extra={"examples": [RUN_EXAMPLES["gaussian"]["value"]]})

    models: list[ModelConfig] = Field(default_factory=_default_models, min_length=1)
    seq_len: PositiveInt | None = Field(None, description="default 50, or the length of input.values")
    hidden_size: PositiveInt = 16
    input_size: PositiveInt | None = Field(
        None, description="default 4; 2 for 'adding'; the width of input.values")
    output_size: PositiveInt | None = Field(None, description="default 1")
    batch_size: PositiveInt = 1
    input: InputConfig = Field(default_factory=InputConfig)
    init: InitConfig = Field(default_factory=InitConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    targets: TargetsConfig | None = Field(None, description="your targets; default: drawn from the seed")
    seed: int = Field(0, ge=0, le=SEED_MAX, strict=True)
    seeds: list[Seed] | None = Field(None, min_length=SEEDS_MIN, max_length=SEEDS_MAX, description=(
        f"POST /api/runs only: the same run at each of these {SEEDS_MIN}…{SEEDS_MAX} distinct seeds "
        "(instead of `seed`), answered with the 10/50/90 % quantiles of every model's ‖∂L/∂h_t‖ over "
        "them and each seed's summary (SeedsResult); `include` does not apply"))
    include: list[IncludeItem] = Field(default_factory=lambda: ["hidden", "grads", "jacobian"])


TaskName = Literal[TASKS]


class OptimizerConfig(Strict):
    name: Literal["sgd", "adam"] = "adam"
    lr: Finite = Field(0.01, gt=0, le=10)
    momentum: Finite = Field(0.0, ge=0, lt=1, description="sgd only")


def _default_train_models() -> list[TrainModelConfig]:
    return [TrainModelConfig(cell="rnn", activation="sigmoid"),
            TrainModelConfig(cell="rnn", activation="tanh"), TrainModelConfig(cell="lstm"),
            TrainModelConfig(cell="gru")]


TRAIN_EXAMPLES = {
    "adding": {
        "summary": "the demonstration: LSTM and GRU solve the adding problem, the RNNs do not",
        "value": {"task": "adding", "seq_len": 50, "hidden_size": 32, "batch_size": 64,
                  "optimizer": {"name": "adam", "lr": 0.01}, "clip": 1.0, "steps": 1500},
    },
    "copy": {
        "summary": "copy memory, a short run",
        "value": {"models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}], "task": "copy",
                  "seq_len": 10, "steps": 300, "eval_every": 50},
    },
    "temporal_order": {
        "summary": "temporal order with SGD + momentum, no clipping",
        "value": {"models": [{"cell": "gru"}], "task": "temporal_order", "seq_len": 30,
                  "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}, "clip": None,
                  "steps": 300},
    },
}


class TrainRequest(Strict):
    """Every field is optional; `config` in the `start` event shows the defaults filled in."""

    models: list[TrainModelConfig] = Field(default_factory=_default_train_models, min_length=1)
    task: TaskName = "adding"
    seq_len: PositiveInt = 50
    hidden_size: PositiveInt = 32
    batch_size: PositiveInt = 64
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    clip: Finite | None = Field(1.0, gt=0, description="global gradient-norm threshold; null: none")
    steps: PositiveInt = 1500
    eval_every: PositiveInt = 100
    eval_size: PositiveInt = 1000
    seed: int = Field(0, ge=0, le=SEED_MAX, strict=True)
    init: InitConfig = Field(default_factory=InitConfig)


# --- responses (documentation and schema checks; the server writes them with orjson) ---------

Num = float | None  # non-finite numbers travel as null


class ModelLabel(BaseModel):
    label: str
    cell: CellName
    activation: ActivationName | None = None
    num_layers: int = 1
    bidirectional: bool = False
    hidden_size: int | None = None


class Summary(BaseModel):
    log10_grad_ratio: Num = Field(description="log10(grad_norm at t=1 / grad_norm at t=T)")
    memory_horizon: int | None = Field(
        description="largest k with grad_norm[T−j] ≥ 1e-3·grad_norm[T] for all j ≤ k; null: never dropped")
    overflow_step: int | None
    overflow_phase: Literal["forward", "backward", "jacobian"] | None
    sigma_max: Num = Field(description="largest singular value of the recurrent H×H blocks")


class LayerResultSchema(BaseModel):
    """One (layer, direction) of a model, in PyTorch's order (l0, l0_reverse, l1, …)."""

    layer: int = Field(description="from 1 (PyTorch's l0 is layer 1)")
    direction: Literal["forward", "backward"]
    grad_norm: list[Num] = Field(description="T numbers: ‖∂L/∂h_t‖_F of this unit, the total derivative")
    hidden: list[list[Num]] | None = None
    cell_state: list[list[Num]] | None = None
    gates: dict[str, list[list[Num]]] | None = None
    preactivation: list[list[Num]] | None = None
    grads: list[list[Num]] | None = None
    jacobian_norm: list[Num] | None = Field(None, description=(
        "‖∂s_T/∂s_t‖₂ within the unit (the backward direction: ‖∂s_1/∂s_t‖₂)"))
    bound: list[Num] | None = None
    sign_uniform: list[Num] | None = None
    cell_grad_norm: list[Num] | None = None
    summary: Summary


class ModelResultSchema(ModelLabel):
    loss: Num
    grad_norm: list[Num] = Field(description="T numbers: ‖∂L/∂h_t‖_F over the batch")
    hidden: list[list[Num]] | None = None
    cell_state: list[list[Num]] | None = None
    gates: dict[str, list[list[Num]]] | None = None
    preactivation: list[list[Num]] | None = None
    grads: list[list[Num]] | None = None
    jacobian_norm: list[Num] | None = None
    bound: list[Num] | None = None
    sign_uniform: list[Num] | None = Field(None, description=(
        "T numbers, rnn only: the fraction of units whose per-step ∂L/∂W_hh column h_{t−1}ᵀδ_t is "
        "sign-uniform (batch item 0); null at t = 1. Exactly 1 for sigmoid (h > 0)."))
    cell_grad_norm: list[Num] | None = Field(None, description=(
        "T numbers, lstm only: ‖∂L/∂c_t‖_F over the batch, the total derivative"))
    params: dict[str, list[Num] | list[list[Num]]] | None = None
    param_grad_norm: dict[str, Num]
    summary: Summary
    layers: list[LayerResultSchema] = Field(description=(
        "every (layer, direction); the top-level arrays are the top layer's forward direction"))


class RunResultSchema(BaseModel):
    config: dict
    models: list[ModelResultSchema]
    inputs: list[list[list[Num]]] | None = None
    targets: list | None = Field(None, description="T×B×O values, or T×B classes for loss kind xent")


class SeedsSummary(BaseModel):
    """A model's summary numbers, one per seed in the order of `seeds`."""

    log10_grad_ratio: list[Num]
    memory_horizon: list[int | None]
    overflow_step: list[int | None]
    overflow_phase: list[Literal["forward", "backward", "jacobian"] | None]
    sigma_max: list[Num]


class SeedsModelSchema(ModelLabel):
    grad_norm: dict[Literal["q10", "q50", "q90"], list[Num]] = Field(description=(
        "T numbers each: the 10 %, 50 % (median) and 90 % quantiles of ‖∂L/∂h_t‖ over the seeds "
        "(linear interpolation); an overflowed seed counts as +∞, so a quantile that reaches it is null"))
    loss: list[Num] = Field(description="the loss at each seed")
    summary: SeedsSummary


class SeedsResultSchema(BaseModel):
    """POST /api/runs with `seeds`: the run over every seed, in quantiles."""

    config: dict
    seeds: list[int]
    models: list[SeedsModelSchema]


class ErrorSchema(BaseModel):
    detail: str
    errors: list[dict] | None = None


class WeightsHead(BaseModel):
    output_size: int


class TrainedOrigin(BaseModel):
    """Where a network the server trained came from (POST /api/train/stream's `done`)."""

    model: str = Field(description="the catalogue key of the model trained (/api/meta's models)")
    task: TaskName
    seq_len: int
    steps: int


class WeightsInfo(BaseModel):
    """What POST /api/weights found in a file (and GET /api/weights/{id} returns)."""

    id: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="SHA-256 of the file's bytes")
    format: Literal["safetensors", "npz"]
    cell: CellName
    num_layers: int
    bidirectional: bool
    input_size: int
    hidden_size: int
    head: WeightsHead | None
    prefix: str
    head_prefix: str | None = Field(description="the readout's prefix, or null without a head")
    parameters: int
    trained: TrainedOrigin | None = Field(None, description=(
        "a model trained by this server (its `done` event's `weights`): the model and its training; "
        "absent for an uploaded file"))
