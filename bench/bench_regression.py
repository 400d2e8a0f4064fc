"""DESIGN.md's regression, reproduced: build the baseline a few times (history), deliver the incident
(a large partner feed, duplicated enrollments that fan out the coverage join), build again, and ask
pipeline-tui which models slowed (the `performance` checks: each model against its own median in
history) and which join exploded (the `keys` checks: fan-out against the baseline's stored facts).

    baseline_builds(workspace, builds, env)        # builds the baseline raw data; stores check facts
    ...generate the incident raw feeds...
    rows, table = incident_rows(workspace, env, label)   # builds the incident; rows + before/after table

The before/after table lists every model: median of the baseline builds, the incident build, the
ratio, and whether pipeline-tui named it.
"""

from __future__ import annotations

import statistics

from bench.bench_common import Row, cli, log

FAN_OUT_MODEL = "int_claims_matched_to_coverage"  # where duplicated enrollments multiply claims
BASELINE_FAMILIES = ["keys"]


def _build(workspace, env: dict) -> float:
    built = cli(workspace, "build", env=env, check=False)
    if built.returncode not in (0, 1):  # 1: a data test failed, expected on the incident data
        raise RuntimeError(f"build failed: {built.stdout[-1500:]} {built.stderr[-1500:]}")
    return built.seconds


def baseline_builds(workspace, builds: int, env: dict) -> None:
    from tui.core.checks.triage import run_checks

    for build in range(builds):
        seconds = _build(workspace, env)
        log(f"baseline build {build + 1}/{builds}: {seconds:.1f} s")
    run_checks(workspace, families=BASELINE_FAMILIES)  # the fan-out facts become the baseline


def incident_rows(workspace, env: dict, label: str) -> tuple[list[Row], str]:
    from tui.core.checks.triage import run_checks
    from tui.core.history import HistoryStore

    seconds = _build(workspace, env)
    log(f"incident build: {seconds:.1f} s; running the performance and keys checks")
    findings, _ = run_checks(workspace, families=["performance", "keys"])
    slowed = {f.object: f for f in findings if f.check == "performance.duration" and f.status != "pass"}
    fan_out = [f for f in findings if f.check == "keys.fan_out" and f.status == "fail"]
    with HistoryStore(workspace.history_path) as store:
        runs = [r for r in store.recent_runs(50) if r.command == "build" and r.status in ("success", "error")]
        incident, earlier = runs[0], runs[1:]
        before = _model_medians(store, earlier)
        after = {n.name: n.duration_s for n in store.node_results(incident.run_id)
                 if n.resource_type == "model" and n.duration_s is not None}
    table = _before_after(before, after, slowed, fan_out)
    total_before = statistics.median(r.elapsed_s for r in earlier if r.elapsed_s)
    named_join = any(f.object == FAN_OUT_MODEL for f in fan_out)
    joins = ", ".join(f"`{f.object}` ({f.column}: {f.evidence.get('rows_per_key', 0):.3f} rows per key)" for f in fan_out)
    note = (f"slowed models named: {', '.join(f'`{m}`' for m in slowed) or 'none'}; "
            f"fan-out fails: {joins or 'none'}")
    if not slowed:
        note += " (the performance check ignores models less than 0.5 s slower than their median)"
    row = Row("regression", f"DESIGN.md regression {label}: baseline → incident build (dbt invocation)", "s",
              [incident.elapsed_s or 0.0], [total_before], f"median of {len(earlier)} baseline builds",
              "slowed models and the exploding join named", (incident.elapsed_s or 0.0) / total_before,
              bool(slowed) and named_join, note)
    return [row], table


def _model_medians(store, runs) -> dict[str, float]:
    durations: dict[str, list[float]] = {}
    for run in runs:
        for node in store.node_results(run.run_id):
            if node.resource_type == "model" and node.duration_s is not None:
                durations.setdefault(node.name, []).append(node.duration_s)
    return {name: statistics.median(values) for name, values in durations.items()}


def _before_after(before: dict[str, float], after: dict[str, float], slowed: dict, fan_out: list) -> str:
    exploded = {f.object for f in fan_out}
    lines = ["| model | baseline median | incident | ratio | named by pipeline-tui |", "|---|---:|---:|---:|---|"]
    for name in sorted(after, key=lambda n: -(after[n] / before[n] if before.get(n) else 0)):
        was = before.get(name)
        ratio = f"{after[name] / was:.1f}x" if was else "—"
        named = [label for label, hit in (("slowed", name in slowed), ("fan-out", name in exploded)) if hit]
        shown = f"{was:.2f} s" if was is not None else "—"
        lines.append(f"| `{name}` | {shown} | {after[name]:.2f} s | {ratio} | {', '.join(named) or ''} |")
    return "\n".join(lines) + "\n"
