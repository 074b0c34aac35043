"""What the server keeps between requests: uploaded weight files (and, with the sweeps, their
results) — one module, two databases.

SQLite in `GFL_DATA_DIR` by default (`store.sqlite3`); PostgreSQL when `GFL_DATABASE_URL` is
set (postgresql://…), so that replicas behind a load balancer share what they keep. A new
connection per operation: the operations are few and short, and neither driver's connection
may be shared between threads without care.

Weight files are kept whole, keyed by the SHA-256 of their bytes, up to
`weights_store_bytes_max` bytes in all; the least recently used go first. Reading a file checks
its bytes against its key: a file that fails its checksum, or a row whose description does not
parse, is logged, deleted and answered as missing — never served.
"""

import hashlib
import json
import logging
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("gradient_flow_lab")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS weights (
        id TEXT PRIMARY KEY,
        size BIGINT NOT NULL,
        description TEXT NOT NULL,
        data {blob} NOT NULL,
        used DOUBLE PRECISION NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS weights_used ON weights (used)",
)


def file_id(data: bytes) -> str:
    """The id of a file: "sha256:<64 hex>" of its bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Store(ABC):
    """The server's store; `Store.open(settings)` picks the database."""

    blob = "BLOB"
    placeholder = "?"

    def __init__(self, weights_bytes_max: int):
        self.weights_bytes_max = weights_bytes_max
        self._lock = threading.Lock()  # one writer at a time in this process

    @staticmethod
    def open(settings) -> "Store":
        if settings.database_url:
            return PostgresStore(settings.database_url, settings.weights_store_bytes_max)
        return SQLiteStore(Path(settings.data_dir) / "store.sqlite3", settings.weights_store_bytes_max)

    # --- the database, per dialect -----------------------------------------------------------
    @abstractmethod
    def connect(self):
        """A context manager: a connection whose work is one transaction."""

    def _sql(self, text: str) -> str:
        return text.replace("%s", self.placeholder)

    def _execute(self, conn, text: str, args=()):
        return conn.execute(self._sql(text), args)

    def create(self) -> None:
        with self.connect() as conn:
            for statement in SCHEMA:
                self._execute(conn, statement.format(blob=self.blob))

    # --- weights --------------------------------------------------------------------------
    def put_weights(self, id_: str, data: bytes | Path, description: dict) -> None:
        """Keep a file (its bytes, or the file at a path), or, when it is there already, set its
        description and use time; then drop the least recently used others until the total fits
        `weights_bytes_max`."""
        now = time.time()
        text = json.dumps(description, separators=(",", ":"))
        with self._lock, self.connect() as conn:
            # another replica may keep the same file at the same moment: the first one stays
            if self._execute(conn, "SELECT 1 FROM weights WHERE id = %s", (id_,)).fetchone():
                self._execute(conn, "UPDATE weights SET description = %s, used = %s WHERE id = %s",
                              (text, now, id_))
            else:
                self._insert(conn, id_, data, text, now)
            rows = self._execute(conn, "SELECT id, size FROM weights ORDER BY used DESC").fetchall()
            total = 0
            for other, size in rows:
                total += size
                if total > self.weights_bytes_max and other != id_:
                    self._execute(conn, "DELETE FROM weights WHERE id = %s", (other,))
                    log.info("weights %s dropped from the store (least recently used)", other)

    def _insert(self, conn, id_: str, data: bytes | Path, text: str, now: float) -> None:
        if isinstance(data, Path):
            data = data.read_bytes()
        self._execute(conn, "INSERT INTO weights (id, size, description, data, used) "
                            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                      (id_, len(data), text, data, now))

    def weights_description(self, id_: str) -> dict | None:
        """The description kept with a file, or None (unknown, or a row that fails to parse)."""
        with self.connect() as conn:
            row = self._execute(conn, "SELECT description FROM weights WHERE id = %s", (id_,)).fetchone()
        if row is None:
            return None
        try:
            description = json.loads(row[0])
            if not isinstance(description, dict):
                raise ValueError("not an object")
        except ValueError as e:
            self._drop(id_, f"its description does not parse ({e})")
            return None
        return description

    def weights_file(self, id_: str) -> bytes | None:
        """The file's bytes, checked against its id, and its use time set; None when unknown or
        when the bytes fail the checksum (the row is then dropped)."""
        with self.connect() as conn:
            row = self._execute(conn, "SELECT data FROM weights WHERE id = %s", (id_,)).fetchone()
            if row is not None:
                self._execute(conn, "UPDATE weights SET used = %s WHERE id = %s", (time.time(), id_))
        if row is None:
            return None
        data = bytes(row[0])
        if file_id(data) != id_:
            self._drop(id_, "its bytes fail their checksum")
            return None
        return data

    def weights_bytes(self) -> int:
        with self.connect() as conn:
            (total,) = self._execute(conn, "SELECT COALESCE(SUM(size), 0) FROM weights").fetchone()
        return int(total)

    def _drop(self, id_: str, why: str) -> None:
        log.error("weights %s in the store: %s; dropped, not served", id_, why)
        with self._lock, self.connect() as conn:
            self._execute(conn, "DELETE FROM weights WHERE id = %s", (id_,))


class SQLiteStore(Store):
    def __init__(self, path: Path, weights_bytes_max: int):
        super().__init__(weights_bytes_max)
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        self.create()

    def _insert(self, conn, id_, data, text, now):
        """A file at a path goes in chunk by chunk (a blob of its size, then written through
        SQLite's incremental blob I/O): never whole in memory."""
        if not isinstance(data, Path):
            return super()._insert(conn, id_, data, text, now)
        size = data.stat().st_size
        cursor = conn.execute("INSERT INTO weights (id, size, description, data, used) "
                              "VALUES (?, ?, ?, zeroblob(?), ?)", (id_, size, text, size, now))
        with open(data, "rb") as f, conn.blobopen("weights", "data", cursor.lastrowid) as blob:
            while chunk := f.read(1 << 20):
                blob.write(chunk)

    @contextmanager
    def connect(self):
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            with conn:  # one transaction: committed on success, rolled back on an error
                yield conn
        finally:
            conn.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"


class PostgresStore(Store):
    blob = "BYTEA"
    placeholder = "%s"

    def __init__(self, url: str, weights_bytes_max: int):
        super().__init__(weights_bytes_max)
        import psycopg  # only with GFL_DATABASE_URL

        self.psycopg = psycopg
        self.url = url
        self.create()

    @contextmanager
    def connect(self):
        with self.psycopg.connect(self.url, connect_timeout=10) as conn:  # commits on success
            yield conn

    def __repr__(self) -> str:
        return "PostgresStore(…)"  # the URL may hold a password
