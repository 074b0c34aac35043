"""Your own network on a real server: upload a file, then the first frame of a run with it.

    .venv/bin/python benchmarks/bench_weights.py [--repeat 5]

Starts `uvicorn app.main:app` (one worker, a fresh store in a temporary directory) and, for a
2-layer bidirectional LSTM with H = 256 and D = 64 plus a 10-class head (2.24 M parameters,
float32 safetensors, ≈ 9 MB; the issue's "≈ 1.2 M" undercounts layer 2, which reads 2H = 512),
measures per repeat (a new file each time, so nothing is cached):

- upload: POST /api/weights, from sending to the 201;
- first frame: POST /api/runs/stream with that model (T = 100, include hidden and grads),
  from sending to its first `forward` event;
- peak RSS growth of the server process over both, against the file's size (the kernel's
  VmHWM, reset before each repeat through /proc/<pid>/clear_refs).

Targets (issue 14): upload + first frame under 1 s; peak RSS growth under 3 × the file size.
Printed, never asserted.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from safetensors.numpy import save

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import free_port, wait_healthy  # noqa: E402

H, D, O, LAYERS = 256, 64, 10, 2
INCLUDE = ["hidden", "grads"]  # the Jacobian norms of 4 units of S = 512 are over the default budget


def state_dict(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for k in range(LAYERS):
        for s in ("", "_reverse"):
            d_in = D if k == 0 else 2 * H
            w_ih = rng.uniform(-0.06, 0.06, (4 * H, d_in))
            out[f"encoder.lstm.weight_ih_l{k}{s}"] = w_ih.astype(np.float32)
            out[f"encoder.lstm.weight_hh_l{k}{s}"] = rng.uniform(-0.06, 0.06, (4 * H, H)).astype(np.float32)
            out[f"encoder.lstm.bias_ih_l{k}{s}"] = rng.uniform(-0.06, 0.06, 4 * H).astype(np.float32)
            out[f"encoder.lstm.bias_hh_l{k}{s}"] = rng.uniform(-0.06, 0.06, 4 * H).astype(np.float32)
    out["classifier.weight"] = rng.uniform(-0.04, 0.04, (O, 2 * H)).astype(np.float32)
    out["classifier.bias"] = np.zeros(O, np.float32)
    return out


def kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def first_forward(client: httpx.Client, body: dict) -> float:
    start = time.perf_counter()
    with client.stream("POST", "/api/runs/stream", json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line == "event: forward":
                return time.perf_counter() - start
    raise RuntimeError("no forward event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    port = free_port()
    data = tempfile.mkdtemp(prefix="gfl-bench-weights-")
    env = {**os.environ, "GFL_DATA_DIR": data, "GFL_LOG_LEVEL": "warning"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port),
                               "--log-level", "warning"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, 30)
        rows = []
        with httpx.Client(base_url=url, timeout=60) as client:
            # warm-up: the first upload and run import what they need (safetensors, the store)
            warm = save(state_dict(10_000))
            wid = client.post("/api/weights", files={"file": ("w.safetensors", warm)}).json()["id"]
            first_forward(client, {"models": [{"weights": wid}], "seq_len": 100, "include": INCLUDE})
            for k in range(args.repeat):
                blob = save(state_dict(k))
                before = kib(server.pid, "VmRSS")
                Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset VmHWM
                t0 = time.perf_counter()
                r = client.post("/api/weights", files={"file": ("model.safetensors", blob)})
                upload = time.perf_counter() - t0
                after_upload = (kib(server.pid, "VmHWM") - before) * 1024
                r.raise_for_status()
                info = r.json()
                frame = first_forward(client, {"models": [{"weights": info["id"]}], "seq_len": 100,
                                               "include": INCLUDE})
                growth = (kib(server.pid, "VmHWM") - before) * 1024
                rows.append((upload, frame, growth, len(blob), info["parameters"], after_upload))
    finally:
        server.terminate()
        server.wait(10)

    size, params = rows[0][3], rows[0][4]
    print("peak growth per repeat, MB (upload, then with the first frame):",
          [(round(r[5] / 1e6, 1), round(r[2] / 1e6, 1)) for r in rows])
    total = [r[0] + r[1] for r in rows]
    growth = [r[2] / r[3] for r in rows]
    print(f"# bench_weights: 2-layer bidirectional LSTM, H = {H}, D = {D}, head {O}: {params:,} "
          f"parameters, float32 safetensors of {size / 1e6:.2f} MB; {args.repeat} repeats after a "
          "warm-up, one worker\n")
    print("| measure | median | worst | target | status |")
    print("|---|---|---|---|---|")
    print(f"| upload (POST /api/weights) | {1000 * statistics.median(r[0] for r in rows):.0f} ms "
          f"| {1000 * max(r[0] for r in rows):.0f} ms | | |")
    frames = [r[1] for r in rows]
    print(f"| first frame (run stream to its first forward event) | "
          f"{1000 * statistics.median(frames):.0f} ms | {1000 * max(frames):.0f} ms | | |")
    print(f"| upload + first frame | {1000 * statistics.median(total):.0f} ms | {1000 * max(total):.0f} ms "
          f"| < 1000 ms | {'PASS' if max(total) < 1 else 'MISS'} |")
    print(f"| peak server RSS growth ÷ file size | {statistics.median(growth):.2f} | {max(growth):.2f} | < 3 "
          f"| {'PASS' if max(growth) < 3 else 'MISS'} |")


if __name__ == "__main__":
    main()
