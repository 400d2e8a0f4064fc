"""Every change pipeline-tui makes to dbt internals, one record each, in one registry.

Provides `REGISTRY` (a `registry.PatchRegistry` over `PATCHES`: `install()`, `uninstall()`, `bind(host)`,
`report()`), `PATCHES` and `PatchMismatch`. The records live with their code:
`cancel` (correctness: a cancel stops dbt at once), `duckdb` (correctness: the shared connection and
the warehouse lock; speed: the warehouse opened in advance, schema listing), `graph`, `warm` and
`chatter` (speed).

Savings (`saving` in each record) were measured with `bench/bench_patches.py`: a warm `build -s
dim_plans` on test-size data through a worker with every patch against one without that patch,
6 alternating pairs (8 for groups) on dbt-core 1.11.16, on a 2-core machine at load 9-12: rough.
"CPU" is the worker's CPU time per rebuild, "wall" the median paired difference (its range). One
patch alone is mostly within the noise; the groups are not: all speed patches together save about
113 ms CPU and 0.3 s wall per rebuild (0.70 s against 0.99 s). Dropped for saving nothing
measurable (as a group of three: CPU -15 ms, wall -181 ms) against the cost of full replacements of
dbt bodies: the macro-namespace loop (`MacroNamespaceBuilder.add_macros`, gone in dbt-core 1.12),
the cached jsonschema validators (`dbtClassMixin.validate`) and the behaviour-flag source walk
(`BehaviorFlagRendered._default_source`). Importing this package imports no dbt: each patch imports its
targets when it is installed.
"""

from __future__ import annotations

from tui.core.dbt_host.patches import cancel, chatter, duckdb, graph, warm
from tui.core.dbt_host.patches.registry import Patch, PatchMismatch, PatchRegistry

PATCHES: tuple[Patch, ...] = (*cancel.PATCHES, *duckdb.PATCHES, *graph.PATCHES, *warm.PATCHES, *chatter.PATCHES)
REGISTRY = PatchRegistry(PATCHES)

__all__ = ["PATCHES", "REGISTRY", "Patch", "PatchMismatch"]
