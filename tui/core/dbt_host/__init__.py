"""Everything that hosts dbt in-process. Importing this package imports no dbt.

- `session`: `DbtSession`, the warm session (one project, dbt imported once, the manifest kept);
- `worker`: `WorkerClient` and the persistent child process the TUI runs the session in;
- `host`: `DbtHost`, owned by a session: the cancel state, graph reuse, the warehouse opener
  (`opener`) and the event chatter the patches read, and the calls into dbt's adapters;
- `patches/`: the registry of every change to dbt internals, each guarded by version and signature;
- `translator`: dbt's callbacks -> `tui.core.run_events` dataclasses (`EventTranslator`);
- `delivery`: `EventSink`, which hands the events to their listeners from a thread of its own;
- `feed_warnings`: the feed-contract warnings of a build, re-checked only when feeds or manifest change;
- `recovery`: a table left half-swapped by a cancel gets its previous version back;
- `fingerprint`: has the project changed since it was parsed;
- `environment`: telemetry off and the resource tracker started, before dbt is imported.
"""
