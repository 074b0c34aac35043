"""POST /api/weights and GET /api/weights/{id}: a network's weights from a file, kept in the
store under the SHA-256 of its bytes."""

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi import Path as PathParam

from gradient_flow_lab.app.errors import ERROR_DOCS
from gradient_flow_lab.app.schemas import WeightsInfo
from gradient_flow_lab.app.serialize import JSONResponse
from gradient_flow_lab.app.weights import UNPACKED_FACTOR, Network, WeightsError, find_network, read_arrays

router = APIRouter(prefix="/api", tags=["weights"])

ID_PATTERN = r"^sha256:[0-9a-f]{64}$"
COPY_CHUNK = 1 << 20

UPLOAD_ERRORS = {
    413: {**ERROR_DOCS[413], "description": "the file is over weights_bytes_max"},
    415: {**ERROR_DOCS[422], "description": "neither safetensors nor .npz (a pickle is never read)"},
    422: {**ERROR_DOCS[422], "description": "a malformed file, or no single usable network in it"},
}


@router.post("/weights", status_code=201, response_class=JSONResponse,
             responses={201: {"model": WeightsInfo}, **UPLOAD_ERRORS})
def upload_weights(
    request: Request,
    file: Annotated[UploadFile, File(description="a .safetensors or .npz file of a state_dict")],
    prefix: Annotated[str | None, Form(description="the network's key prefix, e.g. 'encoder.rnn.'")] = None,
    head_prefix: Annotated[str | None, Form(description="the readout nn.Linear's prefix")] = None,
):
    """Read the weights of an `nn.RNN`, `nn.LSTM` or `nn.GRU` (and an `nn.Linear` head) from a
    safetensors or .npz file of PyTorch state_dict names, keep the file, and say what it holds.
    A model entry `{"weights": id}` of a run then computes with them."""
    settings = request.app.state.settings
    with tempfile.TemporaryDirectory(prefix="gfl-upload-") as tmp:
        path = Path(tmp) / "weights"
        id_ = _copy_hashing(file, path, settings.weights_bytes_max)
        try:
            fmt, arrays = read_arrays(path, UNPACKED_FACTOR * settings.weights_bytes_max)
            network = find_network(arrays, prefix, head_prefix)
        except WeightsError as e:
            raise HTTPException(e.status, e.detail) from None
        del arrays
        _check_limits(network, settings)
        description = {"id": id_, "format": fmt, **network.description}
        # Not cached here: the first run reads the network again from the store. Its float64
        # parameters (twice a float32 file) and the store's write of the file are then never
        # held at once, and the upload's peak memory stays near twice the file's size.
        del network
        request.app.state.store().put_weights(id_, path, description)
    return JSONResponse(description, status_code=201)


@router.get("/weights/{weights_id}", response_class=JSONResponse,
            responses={200: {"model": WeightsInfo}, 422: ERROR_DOCS[422],
                       404: {**ERROR_DOCS[422], "description": "not in the store"}})
def get_weights(request: Request, weights_id: Annotated[str, PathParam(pattern=ID_PATTERN)]):
    """What an uploaded file holds, while the store keeps it (404 once it is gone)."""
    store = request.app.state.store()
    description = store.weights_description(weights_id) if store.weights_file(weights_id) else None
    if description is None:
        raise HTTPException(404, f"no weights {weights_id} in the store; upload the file again "
                                 "(POST /api/weights)")
    return JSONResponse(description)


def _copy_hashing(upload: UploadFile, path: Path, limit: int) -> str:
    """Copy the upload to `path` chunk by chunk, hashing it; 413 past `limit` bytes."""
    digest, size = hashlib.sha256(), 0
    with open(path, "wb") as out:
        while chunk := upload.file.read(COPY_CHUNK):
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"the file is over {limit} bytes (limit weights_bytes_max)")
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise HTTPException(422, "file: the file is empty")
    return "sha256:" + digest.hexdigest()


def _check_limits(network: Network, settings) -> None:
    d = network.description
    checks = [("num_layers", d["num_layers"], settings.layers_max, "layers_max"),
              ("hidden_size", d["hidden_size"], settings.hidden_size_max, "hidden_size_max"),
              ("input_size", d["input_size"], settings.input_size_max, "input_size_max")]
    if d["head"]:
        checks.append(("output_size", d["head"]["output_size"], settings.output_size_max, "output_size_max"))
    for field, value, limit, name in checks:
        if value > limit:
            raise HTTPException(422, f"file: the network's {field} is {value}, over the limit {name} = "
                                     f"{limit} of this server")
