"""Feed contract (DESIGN.md's guardrail "data contracts with source systems"): every raw file a
file-backed source reads, against the columns the project declares for that source
(`tui.core.feed_contract`). A column renamed, missing, added or moved is a finding on the source and
column that names the files; files sharing the same problem make one finding. Reads only headers
and a sample of JSON objects, so it runs in milliseconds, and even when the build failed.

Statuses per kind of breach come from `contract.status` in thresholds.yml; a key added to a JSON
feed has its own (`unexpected_json`): JSON is read by key, so an extra key shifts nothing.
"""

from __future__ import annotations

from tui.core.checks.context import CheckContext
from tui.core.checks.findings import FAIL, PASS, WARN, Finding
from tui.core.feed_contract import JSON_SUFFIXES, Breach, check_sources, file_sources

CHECK = "contract.feed"
DEFAULT_STATUS = {"missing": FAIL, "renamed": FAIL, "moved": FAIL, "unexpected": FAIL, "unexpected_json": WARN}


def contract_findings(ctx: CheckContext) -> list[Finding]:
    if ctx.raw_dir is None or not file_sources(ctx.project.sources):
        ctx.skip(CHECK, "no source is read from raw files")
        return []
    contracts = {c.source: c for c in file_sources(ctx.project.sources)}
    findings = []
    for source, (files, breaches) in check_sources(ctx.project.sources, ctx.raw_dir).items():
        ctx.check_cancelled()
        expected = list(contracts[source].expected)
        if not breaches:
            findings.append(Finding(CHECK, PASS, source, None,
                                    f"{len(files)} file{'s' if len(files) != 1 else ''} match{'es' if len(files) == 1 else ''} the {len(expected)} declared columns" if files
                                    else f"no file matches {contracts[source].pattern}", {"files": len(files)}))
            continue
        groups: dict[tuple[str, str, str], list[Breach]] = {}
        for breach in breaches:
            groups.setdefault((breach.kind, breach.column, breach.detail if breach.kind != "missing" else ""), []).append(breach)
        findings += [_finding(ctx, source, same, expected, len(files)) for same in groups.values()]
    return findings


def _finding(ctx: CheckContext, source: str, same: list[Breach], expected: list[str], files_read: int) -> Finding:
    first = same[0]
    summary = first.line()
    if len(same) > 1:
        summary = summary.replace(f"feed {first.file}:", f"feed {first.file} and {len(same) - 1} more files:", 1)
    limit = int(ctx.config.get("contract.max_files", 20))
    evidence = {"kind": first.kind, "file": first.file, "files": [b.file for b in same[:limit]], "files_affected": len(same),
                "files_read": files_read, "detail": first.detail, "expected_columns": expected}
    return Finding(CHECK, _status(ctx, first), source, first.column, summary, evidence)


def _status(ctx: CheckContext, breach: Breach) -> str:
    statuses = {**DEFAULT_STATUS, **(ctx.config.get("contract.status", {}) or {})}
    kind = "unexpected_json" if breach.kind == "unexpected" and breach.file.endswith(JSON_SUFFIXES) else breach.kind
    status = str(statuses.get(kind, FAIL))
    return status if status in (PASS, WARN, FAIL) else FAIL
