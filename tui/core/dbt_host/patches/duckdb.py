"""dbt-duckdb: its shared connection, the warehouse lock, the warehouse opened in advance, schema listing.

- `duckdb.cursor_under_lock` (correctness): dbt-duckdb makes each connection's cursor from its one
  shared DuckDB connection outside its lock; DuckDB 2.0 refuses a second call on a busy connection
  ("Resource In Use Error: connection is busy with another call"), so two nodes (or a node and the
  row count) opening at the same moment failed one of them. The cursor is made under the lock.
- `duckdb.lock_release` (correctness, uses): the host closes dbt-duckdb's database after each
  invocation so the warehouse file is free while idle (dbt-duckdb keeps it open: PR #502).
- `duckdb.open_in_advance` (speed): dbt's first connection waits for the host's opener, which
  reopened the warehouse in a thread as the invocation started.
- `duckdb.list_schemas_unquoted` (speed): dbt lists the existing schemas with the database name
  quoted (`"warehouse"`), which dbt-duckdb's `list_schemas` compares with `lower(catalog_name)`:
  nothing ever matched, so every selected schema was created again on a connection of its own.
"""

from __future__ import annotations

from tui.core.dbt_host.patches.registry import Context, Patch, Site

DUCKDB = ("dbt-duckdb", ">=1.11,<1.12")
ENVIRONMENT = "dbt.adapters.duckdb.environments.local:LocalEnvironment"
MANAGER = "dbt.adapters.duckdb.connections:DuckDBConnectionManager"


def _cursor_under_lock(ctx: Context) -> tuple:
    from dbt.adapters.duckdb.environments.local import DuckDBConnectionWrapper

    def handle(self):
        with self.lock:
            if self.conn is None:
                self.conn = self.initialize_db(self.creds, self._plugins)
            self.handle_count += 1
            cursor = self.conn.cursor()
        cursor = self.initialize_cursor(self.creds, cursor, self._plugins, self._REGISTERED_DF)
        return DuckDBConnectionWrapper(cursor, self)

    return (handle,)


def _open_in_advance(ctx: Context) -> tuple:
    original_open = ctx.original().__func__

    def open(cls, connection):
        host = ctx.current()
        if host is not None:
            host.opener.wait()  # opened in advance, or not: either way settled before dbt looks
        return original_open(cls, connection)

    return (classmethod(open),)


def _list_schemas_unquoted(ctx: Context) -> tuple:
    original = ctx.original()

    def list_schemas(self, database):
        return original(self, unquoted(database))

    return (list_schemas,)


def unquoted(database: str | None) -> str | None:
    """`"warehouse"` -> `warehouse` (a doubled quote inside stands for one); anything else as is."""
    if isinstance(database, str) and len(database) >= 2 and database[0] == database[-1] == '"':
        return database[1:-1].replace('""', '"')
    return database


PATCHES = (
    Patch("duckdb.cursor_under_lock", "replace", "correctness", *DUCKDB, (
        Site(ENVIRONMENT, "handle", source_hashes=("3c955b1c8aa88750",)),),
        why="DuckDB 2.0: two cursors made at once on dbt-duckdb's shared connection failed one node.",
        saving="correctness (no 'connection is busy' failures)", build=_cursor_under_lock, optional=True),
    Patch("duckdb.lock_release", "uses", "correctness", *DUCKDB, (
        Site(MANAGER, "_ENV"), Site(MANAGER, "_LOCK"),
        Site(MANAGER, "close_all_connections", signatures=("(cls)",)),
        Site(ENVIRONMENT, "close", signatures=("(self)",)),
        Site("dbt.adapters.duckdb.environments:Environment", "initialize_db", signatures=(
            "(cls, creds, plugins=None)",
        ))),
        why="Lock release: the warehouse file is closed after each invocation, free for other processes.",
        saving="correctness (the warehouse lock)", optional=True),
    Patch("duckdb.open_in_advance", "wrap", "speed", *DUCKDB, (
        Site(MANAGER, "open", signatures=("(cls, connection)",)),),
        why="The warehouse (20-40 ms of DuckDB work without the GIL) opens while dbt selects nodes.",
        saving=("CPU -12 ms, wall +79 ms (-206 to 712): within noise alone (it saves waiting, not "
                "CPU)"), build=_open_in_advance, requires=("duckdb.lock_release",), optional=True),
    Patch("duckdb.list_schemas_unquoted", "wrap", "speed", *DUCKDB, (
        Site("dbt.adapters.duckdb.impl:DuckDBAdapter", "list_schemas", signatures=("(self, database)",)),),
        why="Existing schemas are recognised, so they are not created again on every run.",
        saving="CPU 18 ms, wall 297 ms (-160 to 801): a connection and a query per schema",
        build=_list_schemas_unquoted, optional=True),
)
