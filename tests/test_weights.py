"""POST /api/weights and GET /api/weights/{id}: files from PyTorch state_dicts, and every way a
file can be bad — each answered with a clear 4xx, nothing executed, nothing kept past the cap."""

import io
import json
import struct
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import LiveServer
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save as save_safetensors

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.weights import load_network

TORCH_MODULES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def make_client(tmp_path: Path, **overrides) -> TestClient:
    return TestClient(create_app(Settings(data_dir=str(tmp_path), **overrides)))


@pytest.fixture
def client(tmp_path):
    return make_client(tmp_path)


def state_dict(cell="lstm", D=5, H=6, layers=2, bidirectional=True, bias=True, O=3, prefix="rnn.",
               head_prefix="fc.", seed=0) -> dict[str, np.ndarray]:
    """A state_dict with PyTorch's names and shapes, drawn in numpy (torch's own files are
    checked in test_torch_files_of_every_cell)."""
    rng = np.random.default_rng(seed)
    G, dirs = GATES[cell], 2 if bidirectional else 1
    out = {}
    for k in range(layers):
        for s in ["", "_reverse"][:dirs]:
            out[f"{prefix}weight_ih_l{k}{s}"] = rng.standard_normal((G * H, D if k == 0 else H * dirs))
            out[f"{prefix}weight_hh_l{k}{s}"] = rng.standard_normal((G * H, H))
            if bias:
                out[f"{prefix}bias_ih_l{k}{s}"] = rng.standard_normal(G * H)
                out[f"{prefix}bias_hh_l{k}{s}"] = rng.standard_normal(G * H)
    if O:
        out[f"{head_prefix}weight"] = rng.standard_normal((O, H * dirs))
        out[f"{head_prefix}bias"] = rng.standard_normal(O)
    return out


def npz_bytes(arrays: dict, compressed=False) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def upload(client, data: bytes, name="model.safetensors", **form):
    return client.post("/api/weights", files={"file": (name, data)}, data=form)


def expect(r, status: int, *words: str):
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    for w in words:
        assert w in detail, detail
    return detail


# --- good files ----------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_torch_files_of_every_cell(client, torch, cell, bidirectional):
    """A real torch module's state_dict, saved by safetensors.torch: what the file holds."""
    from safetensors.torch import save

    torch.manual_seed(0)
    rnn = getattr(torch.nn, TORCH_MODULES[cell])(7, 12, num_layers=3, bidirectional=bidirectional)
    head = torch.nn.Linear(12 * (2 if bidirectional else 1), 4)
    sd = {**{f"encoder.rnn.{k}": v for k, v in rnn.state_dict().items()},
          **{f"readout.{k}": v for k, v in head.state_dict().items()}}
    r = upload(client, save({k: v.float().contiguous() for k, v in sd.items()}))
    assert r.status_code == 201, r.text
    info = r.json()
    assert info["id"].startswith("sha256:") and len(info["id"]) == 71
    assert {k: info[k] for k in ("format", "cell", "num_layers", "bidirectional", "input_size",
                                 "hidden_size", "head", "prefix")} == {
        "format": "safetensors", "cell": cell, "num_layers": 3, "bidirectional": bidirectional,
        "input_size": 7, "hidden_size": 12, "head": {"output_size": 4}, "prefix": "encoder.rnn."}
    assert info["parameters"] == sum(p.numel() for m in (rnn, head) for p in m.parameters())
    assert client.get(f"/api/weights/{info['id']}").json() == info


def stored_network(client, id_: str):
    """The network of an uploaded file as a run reads it: from the store, parsed again."""
    state = client.app.state
    return load_network(id_, state.store(), state.networks, 1 << 30)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_widths_and_the_same_file_gives_the_same_id(client, dtype):
    arrays = {k: v.astype(dtype) for k, v in state_dict().items()}
    data = save_safetensors(arrays)
    first, again = upload(client, data).json(), upload(client, data).json()
    assert first == again
    import hashlib

    assert first["id"] == "sha256:" + hashlib.sha256(data).hexdigest()
    network = stored_network(client, first["id"])
    for name, value in arrays.items():  # read in float64, value for value
        part = network.head if name.startswith("fc.") else network.rnn
        key = name.split(".", 1)[1]
        np.testing.assert_array_equal(part[key], value.astype(np.float64))


def test_bfloat16_is_read_as_the_upper_half_of_a_float32(client, torch):
    from safetensors.torch import save

    sd = {k: torch.from_numpy(v) for k, v in state_dict(O=0).items()}
    r = upload(client, save({k: v.to(torch.bfloat16) for k, v in sd.items()}))
    assert r.status_code == 201, r.text
    network = stored_network(client, r.json()["id"])
    for name, value in sd.items():
        want = value.to(torch.bfloat16).to(torch.float64).numpy()
        np.testing.assert_array_equal(network.rnn[name.removeprefix("rnn.")], want)


@pytest.mark.parametrize("compressed", [False, True])
def test_npz_files(client, compressed):
    arrays = state_dict(cell="gru", bidirectional=False, bias=False)
    r = upload(client, npz_bytes(arrays, compressed), "m.npz")
    assert r.status_code == 201, r.text
    info = r.json()
    assert (info["format"], info["cell"], info["bidirectional"]) == ("npz", "gru", False)
    assert info["num_layers"] == 2


def test_no_head_and_no_prefix(client):
    arrays = {k.removeprefix("rnn."): v for k, v in state_dict(O=0).items()}
    info = upload(client, save_safetensors(arrays)).json()
    assert info["head"] is None and info["prefix"] == ""


def test_two_networks_need_a_prefix_and_two_heads_a_head_prefix(client):
    arrays = {**state_dict(prefix="encoder.", head_prefix="fc."),
              **state_dict(cell="gru", prefix="decoder.", head_prefix="out.", O=2)}
    data = save_safetensors(arrays)
    expect(upload(client, data), 422, "several recurrent networks", "'decoder.'", "'encoder.'", "prefix")
    expect(upload(client, data, prefix="encoder."), 422, "several readout heads", "head_prefix")
    r = upload(client, data, prefix="decoder.", head_prefix="out.")
    assert r.status_code == 201 and r.json()["cell"] == "gru" and r.json()["head"] == {"output_size": 2}
    expect(upload(client, data, prefix="nothing."), 422, "prefix", "no recurrent weights under 'nothing.'")


# --- files the server will not read ----------------------------------------------------------
class Trap:
    """Unpickling this would create a file: the proof that nothing was unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_torch_pickle_is_refused_with_advice_and_never_unpickled(client, tmp_path, torch):
    trap = tmp_path / "unpickled"
    for legacy in (False, True):  # torch's zip format, and the plain pickle of old torch.save
        buf = io.BytesIO()
        torch.save({"weight_ih_l0": torch.zeros(4, 2), "trap": Trap(trap)}, buf,
                   _use_new_zipfile_serialization=not legacy)
        expect(upload(client, buf.getvalue(), "model.pt"), 415, "never unpickles",
               'save_file(model.state_dict(), "model.safetensors")')
    import pickle

    expect(upload(client, pickle.dumps(Trap(trap)), "model.pkl"), 415, "pickle")
    assert not trap.exists()


def test_an_npz_holding_a_pickle_is_refused_unread(client, tmp_path):
    trap = tmp_path / "unpickled"
    arrays = {**state_dict(), "trap": np.array([Trap(trap)], dtype=object)}
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # allow_pickle applies to loading only
    expect(upload(client, buf.getvalue(), "m.npz"), 422, "trap.npy", "object arrays")
    assert not trap.exists()


def test_truncated_and_corrupted_files(client):
    data = save_safetensors(state_dict())
    expect(upload(client, data[:-7]), 422, "not a valid safetensors file")
    expect(upload(client, data[: len(data) // 2]), 422, "not a valid safetensors file")
    expect(upload(client, b"\x00" * 1000), 415, "neither safetensors nor .npz")
    expect(upload(client, b"hello"), 415)
    expect(upload(client, b""), 422, "empty")
    npz = npz_bytes(state_dict())
    expect(upload(client, npz[:-40], "m.npz"), 422, ".npz")
    broken = bytearray(npz_bytes(state_dict(), compressed=True))
    broken[len(broken) // 2: len(broken) // 2 + 64] = b"\xff" * 64
    expect(upload(client, bytes(broken), "m.npz"), 422)


def safetensors_with(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


@pytest.mark.parametrize("entry", [
    {"dtype": "F32", "shape": [4, 2], "data_offsets": [0, 4000]},  # past the end
    {"dtype": "F32", "shape": [400, 2], "data_offsets": [0, 32]},  # shape larger than the bytes
    {"dtype": "F32", "shape": [4, 2], "data_offsets": [16, 48]},  # a gap, then past the end
    {"dtype": "F32", "shape": [4, 2], "data_offsets": [32, 0]},  # backwards
], ids=["offset-past-end", "shape-lies", "gap", "backwards"])
def test_a_safetensors_header_that_lies(client, entry):
    expect(upload(client, safetensors_with({"weight_hh_l0": entry}, b"\x00" * 32)), 422,
           "not a valid safetensors file")


def test_a_header_length_past_the_file(client):
    r = upload(client, struct.pack("<Q", 10**15) + b"{}" + b"\x00" * 100)
    assert r.status_code in (415, 422), r.text


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights(client, bad):
    arrays = state_dict()
    arrays["rnn.weight_hh_l1_reverse"][2, 3] = bad
    expect(upload(client, save_safetensors(arrays)), 422, "rnn.weight_hh_l1_reverse", "NaN or infinite")
    arrays = state_dict()
    arrays["fc.bias"][0] = bad
    expect(upload(client, save_safetensors(arrays)), 422, "fc.bias")


@pytest.mark.parametrize(("change", "words"), [
    (lambda a: a.update({"rnn.weight_ih_l1": a["rnn.weight_ih_l1"][:, :5]}), ["rnn.weight_ih_l1", "shape"]),
    (lambda a: a.update({"rnn.bias_hh_l0": np.zeros(7)}), ["rnn.bias_hh_l0", "shape"]),
    (lambda a: a.update({"rnn.weight_hh_l0": np.zeros((10, 6))}), ["rnn.weight_hh_l0"]),
    (lambda a: a.pop("rnn.weight_hh_l1_reverse"), ["missing", "rnn.weight_hh_l1_reverse"]),
    (lambda a: a.update({"rnn.weight_ih_l3": np.zeros((24, 12))}), ["layers"]),
    (lambda a: a.update({"rnn.weight_hr_l0": np.zeros((3, 6))}), ["proj_size"]),
], ids=["input-width", "bias", "gate-rows", "missing-reverse", "layer-gap", "proj-size"])
def test_inconsistent_shapes(client, change, words):
    arrays = state_dict()
    change(arrays)
    expect(upload(client, save_safetensors(arrays)), 422, *words)


def test_no_recurrent_weights(client):
    expect(upload(client, save_safetensors({"fc.weight": np.zeros((2, 3))})), 422, "no recurrent weights",
           "fc.weight")


def test_over_the_server_limits(client):
    expect(upload(client, save_safetensors(state_dict(layers=5, bidirectional=False))), 422, "layers_max")
    expect(upload(client, save_safetensors(state_dict(H=300, layers=1, O=0))), 422, "hidden_size_max")


def test_an_npz_that_would_unpack_to_gigabytes_is_refused_before_unpacking(tmp_path):
    """50 MB of zeros compress to a few kB: the declared sizes are checked before anything is
    unpacked (weights_bytes_max = 1 MB here, so the archive may unpack to 4 MB)."""
    client = make_client(tmp_path, weights_bytes_max=1_000_000)
    bomb = npz_bytes({**state_dict(), "zeros": np.zeros(6_250_000)}, compressed=True)
    assert len(bomb) < 200_000
    expect(upload(client, bomb, "bomb.npz"), 422, "would unpack to 500", "limit of 4000000")


def test_an_npy_header_that_claims_more_than_its_member_holds(client):
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**6, 10**6)})
    member.write(b"\x00" * 64)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("weight_hh_l0.npy", member.getvalue())
    expect(upload(client, buf.getvalue(), "m.npz"), 422, "weight_hh_l0.npy", "claims")


def test_a_file_over_the_limit_is_refused_before_it_is_read_whole(tmp_path):
    """On a real server (the test client reads a request body whole before the app sees it):
    50 MB offered without Content-Length, refused long before the end; the server stays up."""
    server = LiveServer({"GFL_WEIGHTS_BYTES_MAX": "100000"})
    sent = []

    def body():
        yield (b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="m.safetensors"\r\n'
               b"Content-Type: application/octet-stream\r\n\r\n")
        for _ in range(5000):
            sent.append(1)
            yield b"\x00" * 10_000
        yield b"\r\n--xyz--\r\n"

    try:
        try:
            r = httpx.post(server.url + "/api/weights", content=body(), timeout=30,
                           headers={"content-type": "multipart/form-data; boundary=xyz"})
        except httpx.TransportError:  # the server answered and closed while the client still wrote
            r = None
        if r is not None:
            expect(r, 413, "weights_bytes_max")
        assert len(sent) < 2000, len(sent)  # at most a fraction reached the socket buffers
        assert httpx.get(server.url + "/healthz").status_code == 200
    finally:
        server.stop()
    client = make_client(tmp_path, weights_bytes_max=100_000)
    expect(upload(client, save_safetensors({"weight_hh_l0": np.zeros((400, 100))})), 413, "weights_bytes_max")


def test_unknown_and_malformed_ids(client):
    expect(client.get("/api/weights/sha256:" + "0" * 64), 404, "upload the file again")
    assert client.get("/api/weights/banana").status_code == 422
    assert client.get("/api/weights/sha256:" + "G" * 64).status_code == 422


def test_a_form_without_a_file(client):
    expect(client.post("/api/weights", data={"prefix": "x"}), 422, "file")
    expect(client.post("/api/weights", json={"file": "x"}), 422, "file")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=300),
    st.builds(lambda n, rest: struct.pack("<Q", n) + rest, st.integers(0, 2**64 - 1),
              st.binary(max_size=200)),
    st.builds(lambda cut: save_safetensors(state_dict())[:cut], st.integers(0, 3000)),
    st.builds(lambda cut: npz_bytes(state_dict())[:cut], st.integers(0, 6000)),
))
def test_no_upload_is_answered_500(client, data):
    r = upload(client, data)
    assert r.status_code in (201, 413, 415, 422), r.text
    assert "detail" in r.json() or r.status_code == 201
