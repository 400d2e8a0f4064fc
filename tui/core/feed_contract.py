"""Raw feed files against the columns the dbt project expects: a renamed, added, missing or moved
column is named together with its file, so a changed feed never turns into a silent column of nulls.

Provides `check_feeds(manifest_path, raw_dir) -> list[Breach]`, `check_sources(sources, raw_dir)`
(per source: the files read and their breaches; the checks engine's `feed_contract` family),
`Breach.line()` (one line for the user) and `summary(breaches)`: one line per column problem, files
that share it counted together. Only reads header lines and a sample of JSON objects (milliseconds,
whatever the feed size).

Where the contract comes from (the dbt manifest, so any project with file-backed sources works):
each source whose `external_location` reads a file (`read_csv('companies.csv', ...)`,
`read_json_objects('plans.json', ...)`, globs such as `claims/*.jsonl`; `.json`/`.jsonl` files are
JSON, anything else CSV) expects its declared
columns, minus pipeline columns (`_source_file`, ...) and `X_raw` twins of a column `X`.
What the file says: a CSV's header line (order matters: CSV fields are read by position), or the
keys of the first `sample` objects of a JSON-lines file or JSON array (a key missing from some
objects counts: those rows would get nulls).
"""

from __future__ import annotations

import glob
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

READER = re.compile(r"read_(?:csv|json_objects|json)\s*\(\s*'(?P<pattern>[^']+)'")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")  # JSON lines are often read as text lines (read_csv)
SAMPLE_OBJECTS = 200


@dataclass(frozen=True)
class Breach:
    file: str  # relative to the raw folder
    column: str
    kind: str  # missing, unexpected, renamed, moved
    detail: str = ""
    source: str = ""  # "source_name.table_name" whose contract the file breaks

    def line(self) -> str:
        what = {"missing": f"column '{self.column}' is missing",
                "unexpected": f"column '{self.column}' is not in the contract",
                "renamed": f"column '{self.column}' is named {self.detail}",
                "moved": f"column '{self.column}' moved ({self.detail})"}[self.kind]
        if self.kind == "missing" and self.detail:
            what += f" ({self.detail})"
        return f"feed {self.file}: {what}"


def summary(breaches: list[Breach], limit: int = 10) -> list[str]:
    """One line per (column, problem); many files with the same problem make one line."""
    groups: dict[tuple[str, str], list[Breach]] = {}
    for breach in breaches:
        groups.setdefault((breach.kind, breach.column), []).append(breach)
    lines = []
    for same in groups.values():
        line = same[0].line()
        if len(same) > 1:
            line = line.replace(f"feed {same[0].file}:", f"feed {same[0].file} and {len(same) - 1} more files:", 1)
        lines.append(line)
    extra = len(lines) - limit
    return lines[:limit] + ([f"… and {extra} more feed column problems"] if extra > 0 else [])


def check_feeds(manifest_path: Path | str, raw_dir: Path | str) -> list[Breach]:
    """Every breach of every file-backed source's files; [] when the manifest has none."""
    try:
        sources = json.loads(Path(manifest_path).read_text()).get("sources", {})
    except (OSError, ValueError):
        return []
    return [b for _, breaches in check_sources(sources, raw_dir).values() for b in breaches]


@dataclass(frozen=True)
class SourceContract:
    source: str  # "source_name.table_name"
    pattern: str  # the file or glob the source reads, relative to the raw folder
    expected: tuple[str, ...]


def file_sources(sources: dict) -> list[SourceContract]:
    """Sources (manifest entries) that read files, with the columns they expect from them."""
    found = []
    for source in sources.values():
        location = ((source.get("config") or {}).get("meta") or source.get("meta") or {}).get("external_location")
        match = READER.search(location or "")
        if match:
            found.append(SourceContract(f"{source.get('source_name')}.{source.get('name')}", match["pattern"],
                                        tuple(expected_columns(list(source.get("columns") or {})))))
    return sorted(found, key=lambda c: c.source)


def check_sources(sources: dict, raw_dir: Path | str) -> dict[str, tuple[list[str], list[Breach]]]:
    """source -> (files read, relative to the raw folder; their breaches)."""
    checked = {}
    for contract in file_sources(sources):
        files = _files(Path(raw_dir), contract.pattern)
        breaches = _check_files(Path(raw_dir), files, list(contract.expected)) if contract.expected else []
        checked[contract.source] = (files, [replace(b, source=contract.source) for b in breaches])
    return checked


def expected_columns(declared: list[str]) -> list[str]:
    names = set(declared)
    return [c for c in declared if not c.startswith("_") and not (c.endswith("_raw") and c[:-4] in names)] \
        if declared else []


def _files(raw_dir: Path, pattern: str) -> list[str]:
    return [str(Path(p).relative_to(raw_dir)) for p in sorted(glob.glob(str(raw_dir / pattern)))]


def _check_files(raw_dir: Path, files: list[str], expected: list[str]) -> list[Breach]:
    found = []
    for relative in files:
        path = raw_dir / relative
        if relative.endswith(JSON_SUFFIXES):
            found += _json_breaches(relative, _json_keys(path), expected)
        else:
            found += _csv_breaches(relative, _header(path), expected)
    return found


def _header(path: Path) -> list[str] | None:
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace").strip()
    return [name.strip().strip('"') for name in first.split(",")] if first else None


def _csv_breaches(file: str, header: list[str] | None, expected: list[str]) -> list[Breach]:
    if header is None:
        return []  # an empty file: no rows, nothing to misread
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    if len(header) == len(expected):
        renamed = [(e, h) for e, h in zip(expected, header) if e in missing and h in unexpected]
        breaches = [Breach(file, e, "renamed", f"'{h}' in the file") for e, h in renamed]
        missing = [c for c in missing if c not in {e for e, _ in renamed}]
        unexpected = [c for c in unexpected if c not in {h for _, h in renamed}]
    else:
        breaches = []
    breaches += [Breach(file, c, "missing") for c in missing] + [Breach(file, c, "unexpected") for c in unexpected]
    if not breaches:
        breaches = [Breach(file, e, "moved", f"position {header.index(e) + 1}, expected {i + 1}")
                    for i, e in enumerate(expected) if header[i] != e]
    return breaches


def _json_keys(path: Path) -> tuple[int, dict[str, int]]:
    """(objects sampled, key -> objects holding it) over the first SAMPLE_OBJECTS objects."""
    objects, counts = 0, {}
    for obj in _sample_objects(path):
        if isinstance(obj, dict):
            objects += 1
            for key in obj:
                counts[key] = counts.get(key, 0) + 1
    return objects, counts


def _sample_objects(path: Path):
    with path.open("rb") as handle:
        head = handle.read(1 << 16).lstrip()
    if head.startswith(b"["):  # a JSON array: parse the whole file only if it is small enough
        try:
            return json.loads(path.read_bytes())[:SAMPLE_OBJECTS] if path.stat().st_size < 64 << 20 else []
        except ValueError:
            return []
    return [_loads(line) for line in _first_lines(path, SAMPLE_OBJECTS)]


def _first_lines(path: Path, count: int) -> list[bytes]:
    lines = []
    with path.open("rb") as handle:
        for line in handle:
            lines.append(line)
            if len(lines) == count:
                break
    return lines


def _loads(line: bytes):
    try:
        return json.loads(line)
    except ValueError:
        return None  # a malformed line is the rejects' business, not the contract's


def _json_breaches(file: str, keys: tuple[int, dict[str, int]], expected: list[str]) -> list[Breach]:
    objects, counts = keys
    if not objects:
        return []
    unexpected = [key for key in counts if key not in expected]
    breaches = []
    for column in expected:
        held = counts.get(column, 0)
        if held < objects:
            detail = "" if held == 0 else f"absent from {objects - held} of the first {objects} objects"
            breaches.append(Breach(file, column, "missing", detail))
    return breaches + [Breach(file, key, "unexpected") for key in unexpected]
