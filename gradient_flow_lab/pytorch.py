"""A run of a live PyTorch module: `from_torch(rnn, x, y)` gives the Run that POST /api/runs gives
for the module's state_dict uploaded (POST /api/weights) and the same inputs and targets.

torch is never imported here: the module and tensors you pass are read through their own
methods (`state_dict()`, `detach().cpu().numpy()`), so this file works with whatever torch you
have, and `import gradient_flow_lab` never loads it.
"""

import hashlib

import numpy as np

from gradient_flow_lab.runs import Run, resolve, run_spec

HEAD_PREFIX = "head."
INCLUDE = ["hidden", "grads", "jacobian", "cell_state", "gates"]


def _numpy(x) -> np.ndarray:
    """A tensor (or array, or nested list) as a numpy array, without a copy to the graph."""
    if hasattr(x, "detach"):
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    return np.asarray(x)


def _state(module, head) -> dict[str, np.ndarray]:
    if type(module).__name__ not in ("RNN", "LSTM", "GRU"):
        raise TypeError(f"from_torch takes an nn.RNN, nn.LSTM or nn.GRU, not {type(module).__name__}")
    if getattr(module, "proj_size", 0):
        raise ValueError("an nn.LSTM with proj_size is not supported; use proj_size=0")
    state = {k: _numpy(v).astype(np.float64) for k, v in module.state_dict().items()}
    if head is not None:
        if type(head).__name__ != "Linear":
            raise TypeError(f"head must be an nn.Linear, not {type(head).__name__}")
        state[HEAD_PREFIX + "weight"] = _numpy(head.weight).astype(np.float64)
        if head.bias is None:
            state[HEAD_PREFIX + "bias"] = np.zeros(head.weight.shape[0])
        else:
            state[HEAD_PREFIX + "bias"] = _numpy(head.bias).astype(np.float64)
    return state


def _weights_id(state: dict[str, np.ndarray]) -> str:
    """An id for the state_dict in the run's config: SHA-256 of its names, shapes and float64 bytes."""
    h = hashlib.sha256()
    for name in sorted(state):
        a = np.ascontiguousarray(state[name], dtype="<f8")
        h.update(f"{name}{list(a.shape)}".encode())
        h.update(a.tobytes())
    return "sha256:" + h.hexdigest()


def from_torch(
    module,
    inputs,
    targets=None,
    *,
    loss: str = "mse",
    at: str = "last",
    head=None,
    seed: int = 0,
    include: list[str] | None = None,
    **fields,
) -> Run:
    """The run of a live `nn.RNN`, `nn.LSTM` or `nn.GRU` (any number of layers, bidirectional or
    not) on `inputs`, with its gradients through time: the same numbers as torch's autograd, in
    float64.

    inputs   [T, B, D], or [B, T, D] for a `batch_first` module, or [T, D] (batch 1): a tensor or
             an array
    targets  for loss "mse" values [T, B, O] ([B, T, O] batch first, [T, O] batch 1); for "xent"
             class indices [T, B] ([B, T], [T]); None: drawn from `seed`, as the API does
    loss     "mse" (½‖y − y*‖²) or "xent" (softmax cross-entropy); `at`: "last" or "all" steps
    head     the `nn.Linear` readout y_t = h_t Wᵀ + b; None: drawn from `seed` (output size from
             the targets, else `output_size` in `fields`, else 1)
    fields   any other RunRequest field (`output_size`, `init` for a drawn head, …)

        >>> rnn = torch.nn.LSTM(3, 32, num_layers=2); head = torch.nn.Linear(32, 1)
        >>> r = gfl.from_torch(rnn, torch.randn(100, 8, 3), torch.randn(100, 8, 1), head=head)
        >>> r.models[0].unit(1, "forward").grad_norm      # ‖∂L/∂h_t‖ of layer 1
    """
    from gradient_flow_lab.app.weights import WeightsError, find_network
    from gradient_flow_lab.errors import ApiError

    state = _state(module, head)
    try:
        network = find_network(state, prefix="", head_prefix=HEAD_PREFIX if head is not None else None)
    except WeightsError as e:
        raise ApiError(e.status, e.detail) from None
    weights_id = _weights_id(state)

    batch_first = bool(getattr(module, "batch_first", False))
    x = _numpy(inputs).astype(np.float64)
    if x.ndim == 3 and batch_first:
        x = x.transpose(1, 0, 2)
    body = {
        "models": [
            {
                "weights": weights_id,
                **({"activation": module.nonlinearity} if type(module).__name__ == "RNN" else {}),
            }
        ],
        "input": {"kind": "values", "values": x},
        "loss": {"kind": loss, "at": at},
        "seed": seed,
        "include": INCLUDE if include is None else include,
        **fields,
    }
    if targets is not None:
        y = _numpy(targets)
        if loss == "xent":
            y = y.astype(np.int64)
            if y.ndim == 2 and batch_first:
                y = y.T
            body["targets"] = {"classes": y}
        else:
            y = y.astype(np.float64)
            if y.ndim == 3 and batch_first:
                y = y.transpose(1, 0, 2)
            body["targets"] = {"values": y}
    spec, config = resolve("run", body, lambda id_: network if id_ == weights_id else None)
    return run_spec(spec, config)
