"""Gradient Flow Lab's numerical core: numpy only, float64, no I/O.

- `core.activations`  φ, φ' and γ as a table
- `core.cells`        RNN, LSTM, GRU: step forward and backward
- `core.init`         weight initialisation
- `core.inputs`       input sequences and targets
- `core.bptt`         backpropagation through time, a step at a time
- `core.stack`        stacked and bidirectional models, PyTorch's parameter layout
- `core.spectral`     warm-started largest singular values
- `core.analysis`     the Pascanu bound and the summary numbers
- `core.run`          a run as a lazy stream of frames, and its collected result
"""

from gradient_flow_lab.core.run import ModelSpec, RunSpec, collect, run

__all__ = ["ModelSpec", "RunSpec", "collect", "run"]
