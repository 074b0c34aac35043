"""What the server keeps between requests: uploaded weight files and sweeps with their points
— one module, two databases.

SQLite in `GFL_DATA_DIR` by default (`store.sqlite3`); PostgreSQL when `GFL_DATABASE_URL` is
set (postgresql://…), so that replicas behind a load balancer share what they keep. A new
connection per operation: the operations are few and short, and neither driver's connection
may be shared between threads without care.

Weight files are kept whole, keyed by the SHA-256 of their bytes, up to
`weights_store_bytes_max` bytes in all; the least recently used go first. Reading a file checks
its bytes against its key: a file that fails its checksum, or a row whose description does not
parse, is logged, deleted and answered as missing — never served.

A sweep (app/sweeps.py) is a row keyed by the hash of its canonical request: its kind, the
request, its status (queued, running, done, cancelled, failed), the number of points, and
`updated`, touched by the server computing it (its heartbeat). Each finished point is a row of
its own, numbered in the order the points finished (`seq`), so that a client that attaches
late reads what is finished first and then follows the new rows. A point row that does not
parse is logged and deleted (a resubmission computes it again), never served.
"""

import hashlib
import io
import json
import logging
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("gradient_flow_lab")

CHUNK = 1 << 20  # bytes of a kept file read or written at a time

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS weights (
        id TEXT PRIMARY KEY,
        size BIGINT NOT NULL,
        description TEXT NOT NULL,
        data {blob} NOT NULL,
        used DOUBLE PRECISION NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS weights_used ON weights (used)",
    """CREATE TABLE IF NOT EXISTS sweeps (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        request TEXT NOT NULL,
        status TEXT NOT NULL,
        total BIGINT NOT NULL,
        detail TEXT,
        created DOUBLE PRECISION NOT NULL,
        started DOUBLE PRECISION NOT NULL,
        resumed_from BIGINT NOT NULL,
        updated DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS sweep_points (
        sweep_id TEXT NOT NULL,
        idx BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        failed INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (sweep_id, idx)
    )""",
    "CREATE INDEX IF NOT EXISTS sweep_points_seq ON sweep_points (sweep_id, seq)",
)

UNFINISHED = ("queued", "running")
SWEEP_COLUMNS = ("id", "kind", "request", "status", "total", "detail", "created", "started", "resumed_from",
                 "updated")


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
        out = io.BytesIO()
        return out.getvalue() if self._read_weights(id_, out) else None

    def copy_weights(self, id_: str, path: Path) -> bool:
        """Write the file to `path` a chunk at a time, as `weights_file` checks and reads it —
        never whole in memory; False when unknown or when the bytes fail the checksum."""
        with open(path, "wb") as out:
            return self._read_weights(id_, out)

    def _read_weights(self, id_: str, out) -> bool:
        digest = hashlib.sha256()
        with self.connect() as conn:
            row = self._execute(conn, "SELECT size FROM weights WHERE id = %s", (id_,)).fetchone()
            if row is None:
                return False
            self._execute(conn, "UPDATE weights SET used = %s WHERE id = %s", (time.time(), id_))
            for chunk in self._chunks(conn, id_, int(row[0])):
                digest.update(chunk)
                out.write(chunk)
        if "sha256:" + digest.hexdigest() != id_:
            self._drop(id_, "its bytes fail their checksum")
            return False
        return True

    def _chunks(self, conn, id_: str, size: int) -> Iterator[bytes]:
        """A kept file's bytes, CHUNK at a time (a longer or shorter blob than `size` fails
        its checksum either way)."""
        for start in range(0, size, CHUNK):
            (chunk,) = self._execute(conn, "SELECT substring(data FROM %s FOR %s) FROM weights WHERE id = %s",
                                     (start + 1, CHUNK, id_)).fetchone()
            yield bytes(chunk)

    def weights_bytes(self) -> int:
        with self.connect() as conn:
            (total,) = self._execute(conn, "SELECT COALESCE(SUM(size), 0) FROM weights").fetchone()
        return int(total)

    def _drop(self, id_: str, why: str) -> None:
        log.error("weights %s in the store: %s; dropped, not served", id_, why)
        with self._lock, self.connect() as conn:
            self._execute(conn, "DELETE FROM weights WHERE id = %s", (id_,))

    # --- sweeps ---------------------------------------------------------------------------
    def create_sweep(self, id_: str, kind: str, request: dict, total: int) -> bool:
        """Keep a new sweep, queued; False when its id is there already (another replica)."""
        now = time.time()
        text = json.dumps(request, separators=(",", ":"), sort_keys=True)
        with self._lock, self.connect() as conn:
            if self._execute(conn, "SELECT 1 FROM sweeps WHERE id = %s", (id_,)).fetchone():
                return False
            self._execute(conn, "INSERT INTO sweeps (id, kind, request, status, total, detail, created, "
                                "started, resumed_from, updated) VALUES (%s, %s, %s, 'queued', %s, NULL, %s, "
                                "%s, 0, %s) ON CONFLICT (id) DO NOTHING",
                          (id_, kind, text, total, now, now, now))
        return True

    def sweep(self, id_: str) -> dict | None:
        """A sweep's row with `done` and `errors` (its finished points, and those of them that
        ended in an error) and `request` parsed; None when unknown, or when its request does
        not parse (the sweep is then deleted)."""
        with self.connect() as conn:
            row = self._execute(conn, f"SELECT {', '.join(SWEEP_COLUMNS)} FROM sweeps WHERE id = %s",
                                (id_,)).fetchone()
            if row is None:
                return None
            done, errors = self._execute(conn, "SELECT COUNT(*), COALESCE(SUM(failed), 0) FROM sweep_points "
                                               "WHERE sweep_id = %s", (id_,)).fetchone()
        out = dict(zip(SWEEP_COLUMNS, row, strict=True))
        try:
            out["request"] = json.loads(out["request"])
            if not isinstance(out["request"], dict):
                raise ValueError("not an object")
        except ValueError as e:
            log.error("sweep %s in the store: its request does not parse (%s); dropped, not served", id_, e)
            self.delete_sweep(id_)
            return None
        out.update(done=int(done), errors=int(errors), total=int(out["total"]),
                   resumed_from=int(out["resumed_from"]))
        return out

    def sweeps(self, limit: int) -> list[dict]:
        """The most recently created sweeps' rows (without their requests), newest first."""
        with self.connect() as conn:
            rows = self._execute(conn, "SELECT s.id, s.kind, s.status, s.total, s.created, s.updated, "
                                       "(SELECT COUNT(*) FROM sweep_points p WHERE p.sweep_id = s.id) "
                                       "FROM sweeps s ORDER BY s.created DESC LIMIT %s", (limit,)).fetchall()
        return [{"id": r[0], "kind": r[1], "status": r[2], "total": int(r[3]), "created": r[4],
                 "updated": r[5], "done": int(r[6])} for r in rows]

    def set_sweep_status(self, id_: str, status: str, detail: str | None = None, *,
                         restarted: bool = False, only_if: tuple[str, ...] | None = None) -> bool:
        """Set a sweep's status (and detail, and `updated`); `restarted`: it starts computing
        again, from the points it has (`started`, `resumed_from`). `only_if`: only from one of
        these statuses. Whether the row changed."""
        now = time.time()
        sets, args = "status = %s, detail = %s, updated = %s", [status, detail, now]
        with self._lock, self.connect() as conn:
            if restarted:
                (done,) = self._execute(conn, "SELECT COUNT(*) FROM sweep_points WHERE sweep_id = %s",
                                        (id_,)).fetchone()
                sets += ", started = %s, resumed_from = %s"
                args += [now, int(done)]
            where = "id = %s"
            args.append(id_)
            if only_if:
                where += f" AND status IN ({', '.join(['%s'] * len(only_if))})"
                args += list(only_if)
            cursor = self._execute(conn, f"UPDATE sweeps SET {sets} WHERE {where}", tuple(args))
            return cursor.rowcount > 0

    def touch_sweeps(self, ids: list[str]) -> None:
        """The heartbeat of the sweeps this server computes."""
        if not ids:
            return
        with self._lock, self.connect() as conn:
            marks = ", ".join(["%s"] * len(ids))
            self._execute(conn, f"UPDATE sweeps SET updated = %s WHERE id IN ({marks})", (time.time(), *ids))

    def fail_stale_sweeps(self, before: float, detail: str) -> list[str]:
        """Mark failed every queued or running sweep not touched since `before` (its server has
        stopped); their ids."""
        with self._lock, self.connect() as conn:
            rows = self._execute(conn, "SELECT id FROM sweeps WHERE status IN ('queued', 'running') "
                                       "AND updated < %s", (before,)).fetchall()
            ids = [r[0] for r in rows]
            for id_ in ids:
                self._execute(conn, "UPDATE sweeps SET status = 'failed', detail = %s WHERE id = %s "
                                    "AND status IN ('queued', 'running')", (detail, id_))
        for id_ in ids:
            log.warning("sweep %s: %s", id_, detail)
        return ids

    def put_sweep_points(self, id_: str, points: list[tuple[int, bytes | str, bool]]) -> None:
        """Keep finished points, (index, its JSON, whether it failed) each, in one transaction,
        numbered in this order after the points finished before them; a point kept already
        stays as it is."""
        with self._lock, self.connect() as conn:
            for index, data, failed in points:
                text = data.decode() if isinstance(data, bytes) else data
                self._execute(conn, "INSERT INTO sweep_points (sweep_id, idx, seq, failed, data) "
                                    "SELECT %s, %s, COALESCE(MAX(seq), 0) + 1, %s, %s FROM sweep_points "
                                    "WHERE sweep_id = %s ON CONFLICT (sweep_id, idx) DO NOTHING",
                              (id_, index, int(failed), text, id_))

    def sweep_points(self, id_: str, after: int = 0) -> list[tuple[int, dict]]:
        """(seq, point) of the points finished after number `after`, in the order they
        finished. A row that does not parse is logged, deleted and left out."""
        with self.connect() as conn:
            rows = self._execute(conn, "SELECT seq, idx, data FROM sweep_points WHERE sweep_id = %s "
                                       "AND seq > %s ORDER BY seq", (id_, after)).fetchall()
        out, bad = [], []
        for seq, index, text in rows:
            try:
                point = json.loads(text)
                if not isinstance(point, dict):
                    raise ValueError("not an object")
            except ValueError as e:
                log.error("sweep %s, point %s in the store: does not parse (%s); dropped, not served",
                          id_, index, e)
                bad.append(index)
                continue
            out.append((int(seq), point))
        if bad:
            with self._lock, self.connect() as conn:
                for index in bad:
                    self._execute(conn, "DELETE FROM sweep_points WHERE sweep_id = %s AND idx = %s",
                                  (id_, index))
        return out

    def sweep_indices(self, id_: str) -> set[int]:
        """The indices of a sweep's finished points."""
        with self.connect() as conn:
            rows = self._execute(conn, "SELECT idx FROM sweep_points WHERE sweep_id = %s", (id_,)).fetchall()
        return {int(r[0]) for r in rows}

    def delete_sweep(self, id_: str) -> None:
        with self._lock, self.connect() as conn:
            self._execute(conn, "DELETE FROM sweep_points WHERE sweep_id = %s", (id_,))
            self._execute(conn, "DELETE FROM sweeps WHERE id = %s", (id_,))


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
            while chunk := f.read(CHUNK):
                blob.write(chunk)

    def _chunks(self, conn, id_, size):
        """Read through SQLite's incremental blob I/O: a chunk's pages, not the whole blob."""
        (rowid,) = conn.execute("SELECT rowid FROM weights WHERE id = ?", (id_,)).fetchone()
        with conn.blobopen("weights", "data", rowid, readonly=True) as blob:
            while chunk := blob.read(CHUNK):
                yield chunk

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
