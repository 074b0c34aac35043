"""Reading a network's weights from a file a client sent: safetensors or numpy .npz, never a
pickle, and finding the recurrent network (and its readout head) in it by PyTorch's
`state_dict` names.

    {prefix}weight_ih_l{k}[_reverse]   [G·H, D_k]   D_0 = input_size, D_k = H·dirs for k > 0
    {prefix}weight_hh_l{k}[_reverse]   [G·H, H]     G = 1 (nn.RNN), 4 (nn.LSTM), 3 (nn.GRU)
    {prefix}bias_ih_l{k}[_reverse], {prefix}bias_hh_l{k}[_reverse]   [G·H], optional
    {head_prefix}weight [O, H·dirs], {head_prefix}bias [O]            an nn.Linear readout

Nothing in a file is executed or trusted: safetensors headers are validated by the
`safetensors` package before a byte of data is read (the data are then read one tensor at a
time), .npz members are read with `allow_pickle=False` after their
declared sizes are checked against the limit — before anything is unpacked. float16,
bfloat16, float32 and float64 are read and converted to float64.
"""

import json
import mmap
import os
import re
import struct
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open

UNPACKED_FACTOR = 4  # an .npz may unpack to at most this many times weights_bytes_max
SAFETENSORS_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "BF16": "bfloat16"}
FLOAT_KINDS = (np.float16, np.float32, np.float64)
CELL_OF_GATES = {1: "rnn", 4: "lstm", 3: "gru"}
RECURRENT_KEY = re.compile(
    r"(?P<prefix>.*)(?P<kind>weight|bias)_(?P<which>ih|hh|hr)_l(?P<k>\d+)(?P<rev>_reverse)?")
SAVE_AS_SAFETENSORS = ('save it with safetensors instead: from safetensors.torch import save_file; '
                       'save_file(model.state_dict(), "model.safetensors")')


class WeightsError(Exception):
    """A file the server will not use: `status` (413, 415 or 422) and a `detail` that says
    what to do."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def invalid(detail: str) -> WeightsError:
    return WeightsError(422, detail)


# --- reading the file ---------------------------------------------------------------------
def read_arrays(path: Path, unpacked_bytes_max: int) -> tuple[str, dict[str, np.ndarray]]:
    """(format, every floating-point array of the file by name, in float64)."""
    with open(path, "rb") as f:
        head = f.read(9)
    # safetensors: an 8-byte little-endian header length, then the JSON header
    if len(head) == 9 and head[8:] == b"{" and struct.unpack("<Q", head[:8])[0] <= path.stat().st_size - 8:
        return "safetensors", _read_safetensors(path)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "npz", _read_npz(path, unpacked_bytes_max)
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise WeightsError(415, "this is a Python pickle (a PyTorch .pt/.pth file?), which the server "
                                f"never unpickles; {SAVE_AS_SAFETENSORS}")
    raise WeightsError(415, "the file is neither safetensors nor .npz; " + SAVE_AS_SAFETENSORS)


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    try:  # the package validates the header: offsets, sizes and dtypes that cover the file exactly
        with safe_open(str(path), framework="numpy") as f:
            names = list(f.keys())
    except SafetensorError as e:
        raise invalid(f"file: not a valid safetensors file ({e})") from None
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        arrays = {}
        for name in names:  # one tensor's bytes at a time: nothing else of the file is held
            entry = header[name]
            dtype = SAFETENSORS_DTYPES.get(entry["dtype"])
            if dtype is None:
                continue  # integer buffers and the like: not weights
            begin, end = entry["data_offsets"]
            raw = os.pread(f.fileno(), end - begin, 8 + n + begin)
            arrays[name] = _float64(raw, dtype, entry["shape"])
    return arrays


def _float64(raw: bytes, dtype, shape) -> np.ndarray:
    """The little-endian values in `raw` as float64 of `shape`; a matrix in Fortran order, so
    that its transpose — the layout the core computes with (W_x = weight_ihᵀ) — is C-contiguous
    without another copy."""
    if dtype == "bfloat16":  # the upper half of a float32
        values = (np.frombuffer(raw, np.dtype("<u2")).astype(np.uint32) << 16).view(np.float32)
    else:
        values = np.frombuffer(raw, np.dtype(dtype).newbyteorder("<"))
    out = _parameter_array(shape)
    out[...] = values.reshape(shape)
    return out


def _parameter_array(shape) -> np.ndarray:
    """An empty float64 array of `shape`, a matrix in Fortran order, in a memory mapping of
    its own. glibc would serve a network's large arrays from its heap once its mmap threshold
    has risen (every free of a mapped block raises it), where the space they leave is reused
    only piecemeal: uploads of a 9 MB float32 network then grew the server's peak RSS by up to
    5.4 times the file (benchmarks/bench_weights.py); in mappings of their own, which are given
    back whole when the network goes, by 2.2–2.4 times in every repeat."""
    count = int(np.prod(shape, dtype=np.int64))
    return np.ndarray(shape, np.float64, buffer=mmap.mmap(-1, max(8 * count, 1)),
                      order="F" if len(shape) == 2 else "C")


def _read_npz(path: Path, unpacked_bytes_max: int) -> dict[str, np.ndarray]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise invalid(f"file: not a valid .npz archive ({e})") from None
    with archive:
        members = archive.infolist()
        if any(m.filename.endswith(".pkl") or "/data/" in m.filename for m in members):
            raise WeightsError(415, "this is a PyTorch zip file (torch.save), which holds a pickle the "
                                    f"server never unpickles; {SAVE_AS_SAFETENSORS}")
        declared = sum(m.file_size for m in members)
        if declared > unpacked_bytes_max:
            raise invalid(f"file: the .npz would unpack to {declared} bytes, over the limit of "
                          f"{unpacked_bytes_max} (weights_bytes_max × 4); save the weights in float32 "
                          "or as safetensors")
        arrays = {}
        for m in members:
            if not m.filename.endswith(".npy"):
                raise invalid(f"file: {m.filename!r} in the .npz is not a .npy array")
            try:
                with archive.open(m) as member:
                    array = _read_npy(member, m.file_size)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
                raise invalid(f"file: {m.filename!r} in the .npz cannot be read ({e})") from None
            if array is not None:
                arrays[m.filename[:-4]] = array
    return arrays


def _read_npy(member, size: int) -> np.ndarray | None:
    """One .npy member, its header checked before its data: no pickle (object arrays are
    refused), and no allocation beyond what the member's declared size can hold."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ValueError(f".npy format version {version} is not read; save it with numpy ≥ 1.9")
    if dtype.hasobject:
        raise ValueError("object arrays (pickles) are not read")
    count = int(np.prod(shape, dtype=np.int64))
    if count * dtype.itemsize > size:
        raise ValueError(f"its header claims {count * dtype.itemsize} bytes, more than the member holds")
    data = member.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise ValueError("truncated")
    if dtype.type not in FLOAT_KINDS:
        return None
    values = np.frombuffer(data, dtype=dtype, count=count).reshape(shape, order="F" if fortran else "C")
    out = _parameter_array(shape)
    out[...] = values
    return out


# --- finding the network ---------------------------------------------------------------------
@dataclass
class Network:
    """The recurrent network of a file: its description (the API's answer, without `id` and
    `format`) and its parameters by PyTorch name without the prefixes (`weight_ih_l0`, …,
    and the head's `weight`, `bias` under `head`)."""

    description: dict
    rnn: dict[str, np.ndarray]
    head: dict[str, np.ndarray] | None

    def torch_state(self) -> dict[str, np.ndarray]:
        """The network as one unprefixed state_dict (the head's `weight` and `bias` beside the
        recurrent weights), as `core.run.ModelSpec.weights` takes it."""
        return {**self.rnn, **(self.head or {})}


def find_network(arrays: dict[str, np.ndarray], prefix: str | None = None,
                 head_prefix: str | None = None) -> Network:
    """The one recurrent network in `arrays` (see the module doc); every problem is a 422 whose
    detail names the keys and what to do."""
    matches = {name: RECURRENT_KEY.fullmatch(name) for name in arrays}
    matches = {name: m for name, m in matches.items() if m}
    prefixes = sorted({m["prefix"] for m in matches.values() if m["kind"] == "weight" and m["which"] == "ih"})
    if prefix is not None:
        if prefix not in prefixes:
            raise invalid(f"prefix: no recurrent weights under {prefix!r}; the file has them under "
                          f"{prefixes or 'no prefix at all'}")
    elif not prefixes:
        raise invalid("file: no recurrent weights (no key like 'weight_ih_l0', PyTorch's nn.RNN, "
                      f"nn.LSTM or nn.GRU state_dict names); keys: {_some(arrays)}")
    elif len(prefixes) > 1:
        raise invalid(f"file: several recurrent networks, under the prefixes {prefixes}; choose one "
                      "with the form field 'prefix'")
    else:
        prefix = prefixes[0]
    mine = {name: m for name, m in matches.items() if m["prefix"] == prefix}
    if any(m["which"] == "hr" for m in mine.values()):
        raise invalid("file: an LSTM with proj_size (weight_hr_l*) is not supported; use proj_size=0")

    rnn = {name[len(prefix):]: arrays[name] for name in mine}
    w_hh = rnn.get("weight_hh_l0")
    if w_hh is None or w_hh.ndim != 2 or w_hh.shape[1] == 0 or w_hh.shape[0] % w_hh.shape[1]:
        raise invalid(f"{prefix}weight_hh_l0: expected a [G·H, H] matrix, got shape "
                      f"{None if w_hh is None else list(w_hh.shape)}")
    H = w_hh.shape[1]
    G = w_hh.shape[0] // H
    if G not in CELL_OF_GATES:
        raise invalid(f"{prefix}weight_hh_l0: {w_hh.shape[0]} rows for hidden size {H} is not 1, 3 or "
                      "4 blocks (nn.RNN, nn.GRU, nn.LSTM)")
    layers = sorted({int(m["k"]) for m in mine.values()})
    if layers != list(range(len(layers))):
        raise invalid(f"file: the layers under {prefix!r} are {layers}; expected 0…{len(layers) - 1}")
    bidirectional = any(m["rev"] for m in mine.values())
    dirs = 2 if bidirectional else 1
    suffixes = ["", "_reverse"] if bidirectional else [""]
    D = None
    expected = {}
    for k in layers:
        for s in suffixes:
            w_ih = rnn.get(f"weight_ih_l{k}{s}")
            if w_ih is None or w_ih.ndim != 2:
                raise invalid(f"{prefix}weight_ih_l{k}{s}: missing or not a matrix")
            if k == 0:
                D = w_ih.shape[1] if D is None else D
            expected[f"weight_ih_l{k}{s}"] = (G * H, D if k == 0 else H * dirs)
            expected[f"weight_hh_l{k}{s}"] = (G * H, H)
            for b in ("bias_ih", "bias_hh"):
                if f"{b}_l{k}{s}" in rnn:
                    expected[f"{b}_l{k}{s}"] = (G * H,)
    for name, array in rnn.items():
        if name not in expected:
            raise invalid(f"{prefix}{name}: not part of a {len(layers)}-layer "
                          f"{'bidirectional ' if bidirectional else ''}network")
        if array.shape != expected[name]:
            raise invalid(f"{prefix}{name}: shape {list(array.shape)}, expected {list(expected[name])} "
                          f"(hidden size {H}, input size {D}, {G} gate blocks)")
    missing = [n for n in expected if n not in rnn]
    if missing:
        raise invalid(f"file: missing {[prefix + n for n in missing]}")

    head = _find_head(arrays, set(mine), H * dirs, head_prefix)
    head_prefix = head[0] if head else None
    for name, array in [*((prefix + n, a) for n, a in rnn.items()),
                        *(((head[0] + n, a) for n, a in head[1].items()) if head else ())]:
        if not np.isfinite(array).all():
            raise invalid(f"{name}: holds NaN or infinite values")
    parameters = sum(a.size for a in rnn.values()) + (sum(a.size for a in head[1].values()) if head else 0)
    description = {
        "cell": CELL_OF_GATES[G], "num_layers": len(layers), "bidirectional": bidirectional,
        "input_size": int(D), "hidden_size": int(H),
        "head": {"output_size": int(head[1]["weight"].shape[0])} if head else None,
        "prefix": prefix, "head_prefix": head_prefix, "parameters": int(parameters),
    }
    return Network(description, rnn, head[1] if head else None)


def _find_head(arrays, taken: set[str], width: int, head_prefix: str | None):
    """(prefix, {"weight", "bias"}) of the readout: an nn.Linear pair that reads the top layer."""
    candidates = []
    for name, w in arrays.items():
        if name in taken or not name.endswith("weight"):
            continue
        p = name[:-len("weight")]
        b = arrays.get(p + "bias")
        if w.ndim == 2 and w.shape[1] == width and b is not None and b.shape == (w.shape[0],):
            candidates.append(p)
    if head_prefix is not None:
        if head_prefix not in candidates:
            raise invalid(f"head_prefix: no readout '{head_prefix}weight' [O, {width}] with "
                          f"'{head_prefix}bias' [O]; candidates: {candidates}")
        candidates = [head_prefix]
    if not candidates:
        return None
    if len(candidates) > 1:
        raise invalid(f"file: several readout heads fit ({candidates}); choose one with the form "
                      "field 'head_prefix'")
    p = candidates[0]
    return p, {"weight": arrays[p + "weight"], "bias": arrays[p + "bias"]}


def _some(arrays: dict) -> str:
    names = sorted(arrays)
    if not names:
        return "none"
    return ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "")


# --- networks kept parsed, for the runs that name them ---------------------------------------
class NetworkCache:
    """The parsed networks of recently used files, up to `bytes_max` of float64 parameters (the
    store keeps the files; parsing one again costs about as much as the run's first frames)."""

    def __init__(self, bytes_max: int):
        self.bytes_max = bytes_max
        self._items: dict[str, tuple[Network, int]] = {}
        self._lock = threading.Lock()

    def get(self, id_: str) -> Network | None:
        with self._lock:
            item = self._items.pop(id_, None)
            if item is not None:
                self._items[id_] = item  # most recently used last
            return None if item is None else item[0]

    def put(self, id_: str, network: Network) -> None:
        size = 8 * (sum(a.size for a in network.rnn.values())
                    + (sum(a.size for a in network.head.values()) if network.head else 0))
        with self._lock:
            self._items.pop(id_, None)
            self._items[id_] = (network, size)
            total = sum(s for _, s in self._items.values())
            for other in list(self._items):
                if total <= self.bytes_max or other == id_:
                    break
                total -= self._items.pop(other)[1]


def load_network(id_: str, store, cache: NetworkCache, unpacked_bytes_max: int) -> Network | None:
    """The parsed network of a kept file: from the cache, or read again from the store (with
    the prefixes chosen at its upload); None when the store no longer has it."""
    network = cache.get(id_)
    if network is not None:
        return network
    description = store.weights_description(id_)
    if description is None:
        return None
    with tempfile.TemporaryDirectory(prefix="gfl-weights-") as tmp:
        path = Path(tmp) / "weights"
        if not store.copy_weights(id_, path):  # a chunk at a time: the file is never in memory
            return None
        _, arrays = read_arrays(path, unpacked_bytes_max)
    network = find_network(arrays, description["prefix"], description.get("head_prefix"))
    cache.put(id_, network)
    return network
