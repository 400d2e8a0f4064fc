"""`DbtRun`: the real embedded dbt project (plain dbtRunner, unpatched, in this process) on one tmp workspace.

Its own raw folder, warehouse, target and log paths; warnings collected from dbt's events.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt"


@dataclass
class DbtRun:
    """One workspace for the embedded project: raw feeds, warehouse, target and logs in `root`."""

    root: Path
    warnings: list[str] = field(default_factory=list)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    def invoke(self, *args: str):
        """Run dbt with `args`; returns dbt's result. Warnings land in `self.warnings`."""
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
        from dbt.cli.main import dbtRunner

        from dbt.deprecations import reset_deprecations

        from tui.core.dbt_host.patches import REGISTRY

        REGISTRY.uninstall()  # plain dbt, even when a warm session of an earlier test patched it
        reset_deprecations()  # as in a fresh `dbt` process (dbt's own test fixtures do the same)

        def collect(event) -> None:
            if event.info.level == "warn":
                self.warnings.append(f"{event.info.name}: {event.info.msg}")

        argv = [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
                "--target-path", str(self.root / "target"), "--log-path", str(self.root / "logs")]
        with _env(PIPELINE_TUI_RAW_DIR=str(self.raw), PIPELINE_TUI_WAREHOUSE=str(self.warehouse),
                  PIPELINE_TUI_THREADS="2", DO_NOT_TRACK="1"):
            try:
                return dbtRunner(callbacks=[collect]).invoke(argv)
            finally:
                DuckDBConnectionManager.close_all_connections()  # release the warehouse file

    def build(self, *args: str):
        result = self.invoke("build", *args)
        assert result.success, _failures(result)
        return result

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            con.execute(f"set file_search_path = '{self.raw}'")  # the base_* views read raw files
            return con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list | None = None):
        return self.query(sql, params)[0][0]


def _failures(result) -> str:
    if result.exception is not None:
        return repr(result.exception)
    return "; ".join(f"{r.node.name}: {r.status} {r.message}" for r in result.result
                     if str(r.status) not in ("success", "pass", "warn"))


@contextmanager
def _env(**values: str):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
