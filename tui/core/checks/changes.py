"""Recent changes (DESIGN.md "identify recent changes"): commits and changed files in the dbt project
since the baseline run (when it is a git repository), raw feed files added or changed since then
(size, lines, modified time), and source freshness (newest `loaded_at_field` against the source's
`warn_after` / `error_after`).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

from tui.core.checks.context import CheckContext
from tui.core.checks.findings import FAIL, PASS, WARN, Finding
from tui.core.checks.sql import quote

CHECK = "changes"
PERIODS = {"minute": 60, "hour": 3600, "day": 86400}


def git(project_dir: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(project_dir), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def git_findings(ctx: CheckContext) -> list[Finding]:
    if ctx.project_dir is None or git(ctx.project_dir, "rev-parse", "--git-dir") is None:
        ctx.skip(f"{CHECK}.git", "the dbt project is not a git repository: no commit history")
        return []
    since = ctx.baseline.started_at
    limit = str(ctx.config.get("changes.max_commits", 20))
    args = ["log", f"-{limit}", "--format=%h%x09%cI%x09%s"] + ([f"--since=@{int(since)}"] if since else []) + ["--", "."]
    commits = [line.split("\t", 2) for line in (git(ctx.project_dir, *args) or "").splitlines() if line.strip()]
    changed = _changed_files(ctx)
    evidence = {"since": _iso(since), "commits": [{"rev": c[0], "at": c[1], "subject": c[2]} for c in commits if len(c) == 3],
                "changed_files": changed}
    if not commits and not changed:
        return [Finding(f"{CHECK}.git", PASS, "project", None,
                        f"no commit or uncommitted change in the dbt project since {_iso(since) or 'the start of history'}", evidence)]
    models = [f for f in changed if f.endswith(".sql") or f.endswith(".yml")]
    return [Finding(f"{CHECK}.git", WARN if models and since else PASS, "project", None,
                    f"{len(commits)} commits and {len(changed)} changed files in the dbt project since "
                    f"{_iso(since) or 'the start of history'}" + (f" (models/YAML: {', '.join(models[:5])})" if models else ""),
                    evidence)]


def _changed_files(ctx: CheckContext) -> list[str]:
    rev = ctx.baseline.git_rev
    diff = git(ctx.project_dir, "diff", "--name-only", rev, "--", ".") if rev else None
    status = git(ctx.project_dir, "status", "--porcelain", "--", ".") or ""
    files = set((diff or "").split()) | {line[3:].strip() for line in status.splitlines() if line.strip()}
    return sorted(f for f in files if f)


def raw_file_findings(ctx: CheckContext) -> list[Finding]:
    """Raw files new or changed since the baseline: by size and line count when the baseline recorded
    them (a rewrite with the same bytes is no change), else by modification time."""
    if ctx.raw_dir is None or not Path(ctx.raw_dir).is_dir():
        ctx.skip(f"{CHECK}.raw_files", "no raw files folder: the sources are tables")
        return []
    files = {}
    for path in sorted(p for p in Path(ctx.raw_dir).rglob("*") if p.is_file() and not p.name.startswith(".")):
        stat = path.stat()
        files[str(path.relative_to(ctx.raw_dir))] = {"bytes": stat.st_size, "lines": count_lines(path),
                                                      "modified": _iso(stat.st_mtime), "mtime": stat.st_mtime}
    ctx.facts["raw_files"] = files
    before, since = ctx.baseline.facts.get("raw_files"), ctx.baseline.started_at
    if not files and not before:
        ctx.skip(f"{CHECK}.raw_files", f"no raw files in {ctx.raw_dir}: the sources are tables")
        return []
    if before is None and since is None:
        return [Finding(f"{CHECK}.raw_files", PASS, "raw", None,
                        f"{len(files)} raw files (no baseline run to compare with)", {"files": len(files)})]
    if before is not None:
        changed = [{"file": f, **info, "change": "new" if f not in before else "changed",
                    "baseline_bytes": (before.get(f) or {}).get("bytes"), "baseline_lines": (before.get(f) or {}).get("lines")}
                   for f, info in files.items() if f not in before or
                   (before[f].get("bytes"), before[f].get("lines")) != (info["bytes"], info["lines"])]
        gone = sorted(set(before) - set(files))
    else:
        changed = [{"file": f, **info, "change": "modified"} for f, info in files.items() if info["mtime"] > since]
        gone = []
    if not changed and not gone:
        return [Finding(f"{CHECK}.raw_files", PASS, "raw", None, "no raw file added or changed since the baseline run", {})]
    names = ", ".join(f"{c['file']} ({c['change']}, {c['lines']:,} lines)" for c in changed[:5]) + (" …" if len(changed) > 5 else "")
    gone_text = f"; {len(gone)} gone: {', '.join(gone[:5])}" if gone else ""
    return [Finding(f"{CHECK}.raw_files", WARN, "raw", None,
                    f"{len(changed)} raw files added or changed since the baseline run: {names}{gone_text}",
                    {"since": _iso(since), "files": [{k: v for k, v in c.items() if k != "mtime"} for c in changed[:50]],
                     "gone": gone})]


def count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b"\n")
    return count


def freshness_findings(ctx: CheckContext) -> list[Finding]:
    found = []
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    for raw in ctx.project.sources.values():
        field = raw.get("loaded_at_field")
        spec = ctx.spec(f"{raw.get('source_name')}.{raw.get('name')}")
        if not field or spec is None or spec.column(field) is None:
            continue
        ctx.check_cancelled()
        newest = ctx.runner.one(f"SELECT max(CAST({quote(field)} AS TIMESTAMP)) AS newest FROM {spec.relation}",
                                f"freshness of {spec.object}")["newest"]
        found.append(_freshness(ctx, spec.object, field, newest, now, raw.get("freshness") or {}))
    if not found:
        ctx.skip(f"{CHECK}.freshness", "no source declares a loaded_at_field")
    return found


def _freshness(ctx: CheckContext, object: str, field: str, newest: Any, now: dt.datetime, rule: dict) -> Finding:
    if newest is None:
        return Finding(f"{CHECK}.freshness", WARN, object, field, f"{field} has no value: freshness unknown", {})
    age = (now - newest).total_seconds()
    limits = {level: _seconds(rule.get(f"{level}_after")) for level in ("warn", "error")}
    level = "error" if limits["error"] and age > limits["error"] else "warn" if limits["warn"] and age > limits["warn"] else None
    status = PASS if level is None else (FAIL if level == "error" and ctx.config.get("changes.freshness_status") == "fail" else WARN)
    evidence = {"newest": newest.isoformat(), "age_hours": round(age / 3600, 1),
                "warn_after_hours": _hours(limits["warn"]), "error_after_hours": _hours(limits["error"])}
    summary = (f"newest {field} is {_age(age)} old" + (f", past {level}_after" if level else ", within its freshness limits"))
    return Finding(f"{CHECK}.freshness", status, object, field, summary, evidence)


def _seconds(limit: Any) -> float | None:
    if not isinstance(limit, dict) or not limit.get("count"):
        return None
    return float(limit["count"]) * PERIODS.get(str(limit.get("period", "hour")), 3600)


def _hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 1) if seconds else None


def _age(seconds: float) -> str:
    return f"{seconds / 86400:.1f} days" if seconds >= 86400 else f"{seconds / 3600:.1f} hours"


def _iso(timestamp: float | None) -> str | None:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds") if timestamp else None


def change_findings(ctx: CheckContext) -> list[Finding]:
    return git_findings(ctx) + raw_file_findings(ctx) + freshness_findings(ctx)
