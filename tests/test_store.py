"""The store (app/store.py) on both of its databases: SQLite in a directory, and a real
PostgreSQL server that the test session starts itself (tests/postgres.py) — no mocks."""

import numpy as np
import pytest
from fastapi.testclient import TestClient
from safetensors.numpy import save as save_safetensors

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.store import PostgresStore, SQLiteStore, Store, file_id


@pytest.fixture(params=["sqlite", "postgres"])
def settings_for(request, tmp_path):
    """Settings whose store is SQLite in tmp_path, or a fresh PostgreSQL database."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""

    def make(**overrides) -> Settings:
        return Settings(data_dir=str(tmp_path), database_url=url, **overrides)

    return make


def blob(n: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).bytes(n)


def test_the_store_is_the_database_asked_for(settings_for):
    store = Store.open(settings_for())
    assert isinstance(store, PostgresStore if settings_for().database_url else SQLiteStore)


def test_files_round_trip_by_their_checksum(settings_for):
    store = Store.open(settings_for())
    data = blob(5000)
    id_ = file_id(data)
    store.put_weights(id_, data, {"cell": "lstm", "note": "한국어 too"})
    store.put_weights(id_, data, {"cell": "lstm", "note": "한국어 too"})  # again: still one
    assert store.weights_file(id_) == data
    assert store.weights_description(id_) == {"cell": "lstm", "note": "한국어 too"}
    assert store.weights_bytes() == 5000
    assert store.weights_file(file_id(b"other")) is None
    assert store.weights_description(file_id(b"other")) is None
    # a second store on the same database (another worker, another replica) sees it
    assert Store.open(settings_for()).weights_file(id_) == data


def test_least_recently_used_files_go_first_past_the_cap(settings_for):
    store = Store.open(settings_for(weights_store_bytes_max=10_000))
    files = [blob(4000, seed) for seed in range(4)]
    ids = [file_id(f) for f in files]
    for id_, data in zip(ids[:2], files[:2], strict=True):
        store.put_weights(id_, data, {})
    assert store.weights_file(ids[0]) == files[0]  # used: now the first is the more recent
    store.put_weights(ids[2], files[2], {})  # 12 000 > 10 000: the second goes
    assert store.weights_file(ids[1]) is None
    assert store.weights_file(ids[0]) == files[0] and store.weights_file(ids[2]) == files[2]
    store.put_weights(ids[3], files[3], {})
    assert store.weights_bytes() <= 10_000


def test_a_file_that_fails_its_checksum_is_dropped_never_served(settings_for, caplog):
    store = Store.open(settings_for())
    data = blob(300)
    id_ = file_id(data)
    store.put_weights(id_, data, {"cell": "rnn"})
    with store.connect() as conn:  # the disk or someone else changed a byte
        store._execute(conn, "UPDATE weights SET data = %s WHERE id = %s", (data[:-1] + b"!", id_))
    assert store.weights_file(id_) is None
    assert "fail their checksum" in caplog.text
    assert store.weights_description(id_) is None  # gone


def test_a_row_that_fails_to_parse_is_dropped(settings_for, caplog):
    store = Store.open(settings_for())
    data = blob(300)
    id_ = file_id(data)
    store.put_weights(id_, data, {"cell": "rnn"})
    with store.connect() as conn:
        store._execute(conn, "UPDATE weights SET description = %s WHERE id = %s", ("{not json", id_))
    assert store.weights_description(id_) is None
    assert "does not parse" in caplog.text
    assert store.weights_file(id_) is None


def test_uploads_through_the_api_on_either_database(settings_for):
    client = TestClient(create_app(settings_for()))
    rng = np.random.default_rng(0)
    arrays = {"weight_ih_l0": rng.standard_normal((8, 3)), "weight_hh_l0": rng.standard_normal((8, 2))}
    info = client.post("/api/weights", files={"file": ("m.safetensors", save_safetensors(arrays))}).json()
    assert info["cell"] == "lstm" and info["hidden_size"] == 2
    other = TestClient(create_app(settings_for()))  # a second server on the same store
    assert other.get(f"/api/weights/{info['id']}").json() == info


def test_a_file_is_copied_out_a_chunk_at_a_time_checked_like_a_read(settings_for, tmp_path, caplog):
    store = Store.open(settings_for())
    data = blob(3 * (1 << 20) + 17)  # more than one chunk, the last one short
    id_ = file_id(data)
    store.put_weights(id_, data, {})
    assert store.copy_weights(id_, tmp_path / "out") and (tmp_path / "out").read_bytes() == data
    assert not store.copy_weights(file_id(b"other"), tmp_path / "none")
    with store.connect() as conn:  # one byte longer: the checksum fails
        store._execute(conn, "UPDATE weights SET data = %s WHERE id = %s", (data + b"!", id_))
    assert not store.copy_weights(id_, tmp_path / "bad")
    assert "fail their checksum" in caplog.text
    assert store.weights_file(id_) is None  # dropped
