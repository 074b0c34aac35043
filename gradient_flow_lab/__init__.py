"""Gradient Flow Lab: exact backpropagation through time for RNN, LSTM and GRU, in numpy.

    >>> import gradient_flow_lab as gfl
    >>> r = gfl.run(models=[{"cell": "rnn", "activation": "sigmoid"}, {"cell": "lstm"}], seq_len=100)
    >>> r.figure("gradient_flow")

The same numbers as the HTTP API (docs/api.md), in a notebook or a script:

- `run(**fields) -> Run` and `train(**fields) -> Training`, computed in this process; `Run` and
  `Training` hold numpy arrays, `.to_dict()` (the API's JSON) and `.figure(view)` (plotly, drawn
  as the page draws it, `lang="en" | "ko"`, `theme="light" | "dark"`);
- `from_torch(module, inputs, targets=None, *, loss="mse", at="last", head=None) -> Run` for a
  live `nn.RNN`, `nn.LSTM` or `nn.GRU`;
- `Client(base_url)`: the same over HTTP, against a server (`.run`, `.stream`, `.train`,
  `.upload_weights`, `.sweep`);
- `ApiError`: what the API refused, with its `status` and `detail`, raised by all of them.

`python -m gradient_flow_lab` is the command line (`run`, `serve`).

The one import package of the distribution: `gradient_flow_lab.core` (numpy only) computes,
`gradient_flow_lab.app` serves it over HTTP. In a checkout, `app/`, `core/`, `static/` and
`templates/` are this package's sub-directories by symbolic links, so the repository keeps its
layout and an installed wheel holds nothing at the top of site-packages but this package.
Importing it is cheap: the names above load their modules on first use (FastAPI, pydantic,
plotly, httpx and torch only when a function needs them).
"""

import os
from importlib import import_module
from typing import TYPE_CHECKING

# One BLAS thread per run, set before numpy loads. A run is thousands of small matrix
# products; concurrency comes from serving runs side by side (threads, workers). With
# OpenBLAS's default of one thread per core, its spinning threads fight any other load on
# the machine: measured on a busy 2-core machine, an LSTM run (B=32, T=1000, H=128) took
# 6–27 s with 2 BLAS threads and 0.9 s with 1. An explicit setting in the environment wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"

# public name -> the module that defines it, imported on first access (PEP 562)
_EXPORTS = {
    "run": "runs",
    "train": "runs",
    "Run": "runs",
    "RunModel": "runs",
    "RunUnit": "runs",
    "Training": "runs",
    "TrainedModel": "runs",
    "Event": "runs",
    "SeedsRun": "runs",
    "SeedsModel": "runs",
    "from_torch": "pytorch",
    "Client": "client",
    "SweepStream": "client",
    "ApiError": "errors",
}
__all__ = [
    "ApiError",
    "Client",
    "Event",
    "Run",
    "RunModel",
    "RunUnit",
    "SeedsModel",
    "SeedsRun",
    "SweepStream",
    "TrainedModel",
    "Training",
    "__version__",
    "from_torch",
    "run",
    "train",
]

if TYPE_CHECKING:  # what editors and type checkers see
    from gradient_flow_lab.client import Client, SweepStream
    from gradient_flow_lab.errors import ApiError
    from gradient_flow_lab.pytorch import from_torch
    from gradient_flow_lab.runs import (
        Event,
        Run,
        RunModel,
        RunUnit,
        SeedsModel,
        SeedsRun,
        TrainedModel,
        Training,
        run,
        train,
    )


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gradient_flow_lab' has no attribute {name!r}")
    value = getattr(import_module(f"gradient_flow_lab.{module}"), name)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
