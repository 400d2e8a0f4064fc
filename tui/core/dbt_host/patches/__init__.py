"""Every change pipeline-tui makes to dbt internals, one record each, in one registry.

Provides `REGISTRY` (a `registry.PatchRegistry` over `PATCHES`: `install()`, `uninstall()`, `bind(host)`,
`report()`), `PATCHES` and `PatchMismatch`. The records live with their code:
`cancel` (correctness: a cancel stops dbt at once), `duckdb` (correctness: the shared connection and
the warehouse lock; speed: the warehouse opened in advance, schema listing), `graph`, `warm`,
`contexts` and `chatter` (speed). Importing this package imports no dbt: each patch imports its
targets when it is installed.
"""

from __future__ import annotations

from tui.core.dbt_host.patches import cancel, chatter, contexts, duckdb, graph, warm
from tui.core.dbt_host.patches.registry import Patch, PatchMismatch, PatchRegistry

PATCHES: tuple[Patch, ...] = (*cancel.PATCHES, *duckdb.PATCHES, *graph.PATCHES, *warm.PATCHES,
                              *contexts.PATCHES, *chatter.PATCHES)
REGISTRY = PatchRegistry(PATCHES)

__all__ = ["PATCHES", "REGISTRY", "Patch", "PatchMismatch"]
