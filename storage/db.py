"""Engine and session set-up for SQLite (default) and PostgreSQL.

    db = Database.from_config(config)        # [database] url, default sqlite:///var/veribot.db
    db.upgrade()                              # alembic upgrade head (or create_all() for scratch dbs)
    n = db.run(lambda s: s.exec(select(Person)).all(), write=False)
    await db.arun(fn)                         # same, in a worker thread: never blocks the audio loop
    await db.arun(fn, lane="console")         # the web console's work: its own thread and connection

Two writer threads: the recorder's (calls' answers, the dialer: group commit, BEGIN IMMEDIATE) and
the console's (one short transaction per request, BEGIN deferred on SQLite, so a page that only
reads never takes the write lock). Console work never queues in front of a call's answer; on
SQLite the two meet only at the file's write lock, held by a console write for milliseconds.

SQLite runs in WAL mode with synchronous=FULL (a commit survives power loss) and foreign keys on;
write transactions start with BEGIN IMMEDIATE so two writers never deadlock half-way. Writes that
meet a busy/locked database (or a PostgreSQL serialization failure / deadlock) are retried with
backoff; other errors propagate unchanged and the transaction is rolled back.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)

log = logging.getLogger(__name__)
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # noise on every command
T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
_RETRY_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


def default_url(var_dir: str | Path = "var") -> str:
    return f"sqlite:///{Path(var_dir) / 'veribot.db'}"


def is_storage_failure(exc: BaseException) -> bool:
    """The database refuses writes for want of space or permission, or is gone: a full disk, a
    read-only or unopenable file, an I/O error; PostgreSQL's disk full / out of resources (class
    53), read-only transaction, connection failure (class 08) or admin shutdown (57P0x)."""
    if not isinstance(exc, DBAPIError):
        return False
    state = str(getattr(getattr(exc, "orig", None), "sqlstate", None) or "")
    if state.startswith(("53", "08", "57P")) or state == "25006":
        return True
    msg = str(getattr(exc, "orig", None) or exc).lower()
    return any(m in msg for m in ("disk is full", "disk i/o error", "readonly database", "unable to open database",
                                  "no space left"))


def is_retryable(exc: BaseException) -> bool:
    """A busy/locked SQLite database, a PG serialization failure/deadlock, or a dropped connection."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    msg = str(orig or exc).lower()
    return "database is locked" in msg or "database is busy" in msg or "database table is locked" in msg


class Database:
    """One database: an engine, a write-serialising bind, and a small thread pool for async callers."""

    def __init__(
        self,
        url: str | None = None,
        *,
        schema: str | None = None,
        durable: bool = True,
        busy_timeout: float = 10.0,
        pool_size: int = 5,
    ) -> None:
        self.url = url or default_url()
        u = make_url(self.url)
        self.dialect = u.get_backend_name()
        self.schema = schema
        if self.dialect == "sqlite":
            if u.database and u.database != ":memory:":
                Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                self.url, connect_args={"timeout": busy_timeout, "check_same_thread": False}
            )
            _sqlite_pragmas(self.engine, durable=durable, busy_ms=int(busy_timeout * 1000))
        elif self.dialect == "postgresql":
            args: dict[str, Any] = {}
            if schema:
                args["options"] = f"-csearch_path={schema}"
            self.engine = create_engine(
                self.url, connect_args=args, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
        else:
            raise ValueError(f"unsupported database {self.dialect!r}: use sqlite:/// or postgresql+psycopg://")
        self._write_bind = self.engine.execution_options(veribot_write=True)
        workers = 1 if self.dialect == "sqlite" else pool_size
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="veribot-db")
        self._writer = GroupWriter(self)
        self._console = GroupWriter(self, max_batch=1, name="veribot-db-console", immediate=False)

    @classmethod
    def from_config(cls, config: Any) -> Database:
        """`[database] url` from config.toml; SQLite under the var dir when not set."""
        return cls(config.database.url or default_url(config.var_dir), durable=config.database.durable)

    def __repr__(self) -> str:  # never show a password
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"

    # ----------------------------------------------------------- schema
    def create_all(self) -> None:
        """Create the tables straight from the models (scratch databases, no alembic history)."""
        SQLModel.metadata.create_all(self.engine)

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with alembic (creates it in an empty database)."""
        from alembic import command

        # processes starting together migrate one at a time: BEGIN IMMEDIATE / an advisory lock
        with self.engine.connect().execution_options(veribot_write=True) as conn:
            raw = conn.connection.driver_connection if self.dialect == "sqlite" else None
            if raw is not None:  # SQLite rebuilds tables to alter them: FKs off meanwhile (outside a txn)
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    if self.dialect == "postgresql":
                        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
                    command.upgrade(self.alembic_config(conn), revision)
            finally:
                if raw is not None:
                    raw.execute("PRAGMA foreign_keys=ON")

    def alembic_config(self, connection: Any = None) -> Any:
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        cfg.attributes["connection"] = connection
        return cfg

    # ----------------------------------------------------------- sessions
    def session(self) -> Session:
        """A plain session (reads, or writes you commit yourself). Objects stay usable after commit."""
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self, write: bool = True, *, immediate: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on error. Not retried.
        `immediate=False`: a write transaction that takes SQLite's write lock only at its first write."""
        bind = self._write_bind if write and immediate else self.engine
        with Session(bind, expire_on_commit=False) as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def run(self, fn: Callable[[Session], T], *, write: bool = True, attempts: int = 8) -> T:
        """Run `fn(session)` in a transaction and commit; retry it when the database is busy."""
        delay = 0.05
        for i in range(attempts):
            try:
                with self.transaction(write=write) as s:
                    return fn(s)
            except Exception as exc:
                if i == attempts - 1 or not is_retryable(exc):
                    raise
                log.warning("database busy (%s); retry %d in %.2fs", type(exc).__name__, i + 1, delay)
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    async def arun(self, fn: Callable[[Session], T], *, write: bool = True, lane: str = "record") -> T:
        """Awaitable from the event loop without blocking it: writes go to the group-commit writer
        thread (see `submit`), reads to the database thread pool. `lane="console"`: the web
        console's own writer thread (one short transaction each), never ahead of the calls' writes."""
        if lane == "console":
            return await asyncio.wrap_future(self._console.submit(fn))
        if write:
            return await asyncio.wrap_future(self.submit(fn))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: self.run(fn, write=False))

    def submit(self, fn: Callable[[Session], T] | InsertRows) -> Future:
        """Queue a write; the Future resolves once it is committed (durably). Writes queued together
        share one transaction (group commit), each in its own savepoint, so one failing write fails
        alone. Order is kept: writes are applied in the order they were submitted."""
        return self._writer.submit(fn)

    def dispose(self) -> None:
        self._writer.close()
        self._console.close()
        self._pool.shutdown(wait=True)
        self.engine.dispose()


def _sqlite_pragmas(engine: Engine, *, durable: bool, busy_ms: int) -> None:
    sync = "FULL" if durable else "NORMAL"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={sync}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("veribot_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass(frozen=True)
class InsertRows:
    """A write that only inserts rows (e.g. transcript turns): grouped into one executemany per commit,
    applied before the other writes of that commit."""

    table: Any
    rows: list[dict[str, Any]]


class GroupWriter:
    """One thread applying queued writes, many per commit (fewer fsyncs under load)."""

    def __init__(self, db: Database, max_batch: int = 256, *, name: str = "veribot-db-writer",
                 immediate: bool = True) -> None:
        self.db = db
        self.max_batch = max_batch
        self.name = name
        self.immediate = immediate
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[Session], Any] | InsertRows) -> Future:
        fut: Future = Future()
        self._q.put((fn, fut))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
        return fut

    def close(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._q.put(None)
                self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._apply([(fn, fut) for fn, fut in batch if fut.set_running_or_notify_cancel()])
            if stop:
                return

    def _apply(self, batch: list[tuple[Callable[[Session], Any], Future]]) -> None:
        """All in one transaction; if one write fails for a reason other than a busy database,
        each write is applied alone so only the faulty one fails."""
        try:
            values = self._commit([fn for fn, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                for item in batch:
                    self._apply([item])
                return
            batch[0][1].set_exception(exc)
            return
        for (_fn, fut), value in zip(batch, values, strict=True):
            fut.set_result(value)

    def _commit(self, fns: list[Any]) -> list[Any]:
        delay = 0.05
        for i in range(8):
            try:
                with self.db.transaction(write=True, immediate=self.immediate) as s:
                    rows: dict[Any, list[dict[str, Any]]] = {}
                    for fn in fns:
                        if isinstance(fn, InsertRows):
                            rows.setdefault(fn.table, []).extend(fn.rows)
                    for table, batch in rows.items():  # one executemany per table for the whole group
                        s.execute(insert(table), batch)
                    return [None if isinstance(fn, InsertRows) else fn(s) for fn in fns]
            except Exception as exc:
                if i == 7 or not is_retryable(exc):
                    raise
                log.warning("database busy (%s); retry %d", type(exc).__name__, i + 1)
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")
