"""Schema versions: old stores open in this release, newer ones are refused clearly."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

import voiceinsights as vi
from voiceinsights import SchemaVersionError, StoreLockedError
from voiceinsights.schema import SCHEMA_VERSION, TABLES
from voiceinsights.store._migrations import MIGRATIONS, current_version, migrate


def _columns(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, type_ in rows:
        out.setdefault(table, []).append((column, type_.replace("TIMESTAMP WITH TIME ZONE",
                                                                 "TIMESTAMPTZ")))  # fmt: skip
    return out


def test_migrations_build_exactly_the_schema(tmp_path: Path) -> None:
    # Changing schema.py without a migration fails here.
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    conn = duckdb.connect(str(tmp_path / "m.duckdb"))
    assert migrate(conn, "m.duckdb") == list(range(1, SCHEMA_VERSION + 1))
    found = _columns(conn)
    for t in TABLES:
        assert found[t.name] == [(c.name, c.type) for c in t.columns], t.name
    assert current_version(conn) == SCHEMA_VERSION
    assert migrate(conn, "m.duckdb") == []  # idempotent


def test_a_version_1_store_opens_and_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    conn = duckdb.connect(str(path))
    assert migrate(conn, str(path), target=1) == [1]
    conn.execute(
        "INSERT INTO samples (call_sid, timestamp, jitter_ms) VALUES "
        "('CA1', TIMESTAMPTZ '2024-01-01 00:00:00+00', 12.5)"
    )
    tables = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "sync_cursors" not in tables
    conn.close()

    with vi.open(path) as store:
        assert store.version == SCHEMA_VERSION
        assert store.samples()["jitter_ms"].tolist() == [12.5]
        store.set_cursor("calls", "x")  # the table version 2 added
        assert store.get_cursor("calls") == "x"
        versions = store.sql("SELECT version FROM schema_version ORDER BY version")
    assert versions["version"].tolist() == list(range(1, SCHEMA_VERSION + 1))


def test_a_store_from_a_newer_release_is_refused(db_path: Path) -> None:
    vi.open(db_path).close()
    conn = duckdb.connect(str(db_path))
    conn.execute("INSERT INTO schema_version (version, description) VALUES (99, 'future')")
    conn.close()
    with pytest.raises(SchemaVersionError, match=r"version 99.*upgrade voiceinsights"):
        vi.open(db_path)
    with pytest.raises(SchemaVersionError):
        vi.open(db_path, read_only=True)


def test_a_store_locked_by_another_process(db_path: Path) -> None:
    vi.open(db_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, voiceinsights as vi
            store = vi.open({str(db_path)!r})
            print("open", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreLockedError) as info:
            vi.open(db_path)
        message = str(info.value)
        assert str(db_path) in message
        assert f"process {holder.pid}" in message
        assert "open_parquet" in message
        with pytest.raises(StoreLockedError):
            vi.open(db_path, read_only=True)
    finally:
        holder.communicate("", timeout=60)
    # Once the other process is gone the store opens.
    with vi.open(db_path) as store:
        store.write_rows("feedback", [{"call_sid": "CA1", "score": 5}])
        assert store.feedback()["score"].tolist() == [5]


def test_migrations_are_atomic(tmp_path: Path) -> None:
    from voiceinsights.store import _migrations

    path = tmp_path / "a.duckdb"
    conn = duckdb.connect(str(path))
    migrate(conn, str(path), target=1)
    broken = _migrations.Migration(2, "broken", ("CREATE TABLE half (a INT)", "SELEC nonsense"))
    saved = _migrations.MIGRATIONS
    _migrations.MIGRATIONS = (saved[0], broken)
    try:
        with pytest.raises(duckdb.Error):
            migrate(conn, str(path))
    finally:
        _migrations.MIGRATIONS = saved
    assert current_version(conn) == 1
    tables = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "half" not in tables
