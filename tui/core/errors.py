"""One-line, user-facing error messages with a way forward, from dbt and DuckDB errors.

Provides `translate(error, workspace=None) -> str` for exceptions or raw messages, `one_line`,
`nothing_selected(selector)`, `locked_by(message) -> pid | None` and `is_input_error(line)`.
Recognised: a missing project or profile (or an unreadable profiles.yml, with its line), a
profile whose adapter is not installed (with the package to install), an unknown target, an empty selection, compilation errors (with file and line), database errors in
a model, a raw file that is missing or unreadable (file and line), and a warehouse locked by
another process (with its PID). Anything else becomes its first meaningful line. Never a traceback.
"""

from __future__ import annotations

import re
from typing import Any

MAX_CHARS = 300
LOCK = re.compile(r"Could not set lock on file \"?(?P<path>[^\"]+?)\"?: Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")
COMPILE_IN_NODE = re.compile(r"Compilation Error in (?P<kind>\w+) (?P<name>\S+) \((?P<path>[^)]+)\)")
RUNTIME_IN_NODE = re.compile(r"(?:Runtime|Database) Error in (?P<kind>\w+) (?P<name>\S+) \((?P<path>[^)]+)\)")
LINE = re.compile(r"^\s*line (?P<line>\d+)\s*$", re.MULTILINE | re.IGNORECASE)
SQL_LINE = re.compile(r"LINE (?P<line>\d+):")
MISSING_FILE = re.compile(r'No files found that match the pattern "(?P<pattern>[^"]+)"')
CSV_LINE = re.compile(r"CSV Error on Line: (?P<line>\d+)")
CSV_FILE = re.compile(r"^\s*file = (?P<file>.+?)\s*$", re.MULTILINE)
# Translated lines that mean the project or its input is broken (exit 2), not the data or a test (exit 1).
INPUT_ERROR = re.compile(r"compilation error in |Parser Error|Binder Error|Catalog Error|raw file .* (?:not found|line \d+)",
                         re.IGNORECASE)
ADAPTER_PACKAGES = {"athena": "dbt-athena-community", "sqlserver": "dbt-sqlserver", "spark": "dbt-spark"}
HEADERS = re.compile(r"^(Runtime|Compilation|Database|Parsing|Dependency|Internal) Error\s*$", re.IGNORECASE)


def one_line(text: str) -> str:
    """The first meaningful line, whitespace collapsed, at most MAX_CHARS."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not HEADERS.match(ln)] or lines or [""]
    line = re.sub(r"\s+", " ", lines[0])
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…"


def locked_by(message: str) -> int | None:
    match = LOCK.search(str(message))
    return int(match["pid"]) if match else None


def locked_message(pid: int | None, path: str | None = None) -> str:
    who = f"PID {pid}" if pid else "PID unknown"
    return f"warehouse is locked by another process ({who}): close that process or retry when it is done"


def is_input_error(line: str | None) -> bool:
    """A translated error that says the project or a raw file is broken (not the data, not a test)."""
    return bool(line and INPUT_ERROR.search(line))


def nothing_selected(selector: str | None) -> str:
    if not selector:
        return "the project has nothing to run for this command: add models, seeds, snapshots or tests"
    return (f"nothing matches the selector '{selector}': check the node name or the selector syntax "
            "(model_name, model_name+, tag:name, path:models/dir)")


def translate(error: BaseException | str | Any, workspace: Any = None) -> str:
    """A single line for the user, with a way forward where one is known."""
    text = str(error) if not isinstance(error, BaseException) else (str(error) or type(error).__name__)
    for rule in (_lock, _missing_adapter, _missing_project, _unreadable_profiles, _missing_profiles_dir, _missing_profile,
                 _missing_target, _compile_error, _missing_raw_file, _bad_raw_line, _node_error, _missing_ref):
        found = rule(text, workspace)
        if found:
            return found if len(found) <= MAX_CHARS else found[: MAX_CHARS - 1] + "…"
    return one_line(text)


def _lock(text: str, workspace: Any) -> str | None:
    match = LOCK.search(text)
    return locked_message(int(match["pid"]), match["path"]) if match else None


def adapter_package(adapter: str) -> str:
    """The PyPI package of dbt's adapter for a profile `type` (most are `dbt-<type>`)."""
    return ADAPTER_PACKAGES.get(adapter, f"dbt-{adapter}")


def _missing_adapter(text: str, workspace: Any) -> str | None:
    """dbt hides this behind "Credentials in profile … invalid: Runtime Error"."""
    match = re.search(r"Could not find adapter type (?P<type>[\w-]+)!", text)
    if not match:
        return None
    adapter = match["type"]
    where = re.search(r'profile "(?P<profile>[^"]+)", target "(?P<target>[^"]+)"', text)
    which = f"target '{where['target']}' of profile '{where['profile']}'" if where else "the profile's target"
    log = f"{workspace.log_path}/dbt.log" if workspace is not None else "dbt.log"
    return missing_adapter(adapter, which) or (  # there, but its import failed (a driver, a version clash)
        f"the dbt adapter for `type: {adapter}` is installed but does not load (see {log}): "
        f"reinstall it with `pip install --force-reinstall {adapter_package(adapter)}`")


def missing_adapter(adapter: str, which: str = "the profile's target") -> str | None:
    """One line naming the package to install when dbt has no adapter for `type: adapter`
    (None when it is installed). Looks for the adapter without importing it."""
    import importlib.util

    try:
        installed = importlib.util.find_spec(f"dbt.adapters.{adapter}") is not None
    except (ImportError, ValueError):
        installed = False
    if installed:
        return None
    return (f"dbt adapter not installed: `pip install {adapter_package(adapter)}` in pipeline-tui's environment "
            f"({which} is `type: {adapter}`), or choose another target with --target")


def _missing_project(text: str, workspace: Any) -> str | None:
    if "No dbt_project.yml found" in text or "not a dbt project" in text.lower():
        where = f" at {workspace.project_dir}" if workspace is not None else ""
        return f"no dbt project{where} (dbt_project.yml not found): check --project-dir"
    return None


def _missing_profile(text: str, workspace: Any) -> str | None:
    match = re.search(r"Could not find profile named '([^']+)'", text)
    if not match:
        return None
    where = f" in {workspace.profiles_dir}/profiles.yml" if workspace is not None else ""
    return f"dbt profile '{match[1]}' not found{where}: check --profiles-dir"


def _unreadable_profiles(text: str, workspace: Any) -> str | None:
    if "error while trying to read your profiles.yml" not in text:
        return None
    where = f"{workspace.profiles_dir}/profiles.yml" if workspace is not None else "profiles.yml"
    line = re.search(r"error near line (\d+)", text) or re.search(r", line (\d+)", text)
    at = f" near line {line[1]}" if line else ""
    return f"cannot read {where}: YAML syntax error{at} (fix the file and run again)"


def _missing_profiles_dir(text: str, workspace: Any) -> str | None:
    match = re.fullmatch(r"\s*Path '(?P<path>[^']+)' does not exist\.?\s*", text)
    if not match:
        return None
    return (f"no profiles.yml found ({match['path']} does not exist and the project has none): "
            "pass --profiles-dir or set DBT_PROFILES_DIR")


def _missing_target(text: str, workspace: Any) -> str | None:
    match = re.search(r"profile '([^']+)' does not have a target named '([^']+)'", text)
    if not match:
        return None
    valid = re.findall(r"^\s*-\s*(\S+)\s*$", text, re.MULTILINE)
    hint = f" (valid: {', '.join(valid)})" if valid else ""
    return f"dbt profile '{match[1]}' has no target '{match[2]}'{hint}: check --target"


def _compile_error(text: str, workspace: Any) -> str | None:
    match = COMPILE_IN_NODE.search(text)
    if not match:
        return None
    line = LINE.search(text)
    where = match["path"] + (f" line {line['line']}" if line else "")
    detail = _detail_after(text, match.end())
    return f"compilation error in {where}: {detail} (fix the file and run again)"


def _raw_dir(workspace: Any) -> str:
    raw = getattr(workspace, "raw_dir", None)
    return str(raw) if raw is not None else "the raw folder (PIPELINE_TUI_RAW_DIR)"


def _missing_raw_file(text: str, workspace: Any) -> str | None:
    match = MISSING_FILE.search(text)
    if not match:
        return None
    return f"raw file '{match['pattern']}' not found in {_raw_dir(workspace)}: restore it or generate the feeds again"


def _bad_raw_line(text: str, workspace: Any) -> str | None:
    line, file = CSV_LINE.search(text), CSV_FILE.search(text)
    if not (line and file):
        return None
    path = file["file"]
    raw = getattr(workspace, "raw_dir", None)
    if raw is not None and path.startswith(str(raw) + "/"):
        path = path[len(str(raw)) + 1:]
    reason = "not valid UTF-8" if "unicode" in text.lower() else one_line(text[line.end():].split("file =")[0] or "unreadable")
    return f"raw file {path} line {line['line']}: {reason} (fix or remove that line and run again)"


def _node_error(text: str, workspace: Any) -> str | None:
    match = RUNTIME_IN_NODE.search(text)
    if not match:
        return None
    line = SQL_LINE.search(text)
    detail = _detail_after(text, match.end())
    where = match["path"] + (f", compiled SQL line {line['line']}" if line else "")
    return f"{match['name']} failed ({where}): {detail}"


def _missing_ref(text: str, workspace: Any) -> str | None:
    match = re.search(r"'([^']+)' \(([^)]+)\) depends on a node named '([^']+)' which was not found", text)
    if not match:
        return None
    return f"compilation error in {match[2]}: {match[1].split('.')[-1]} refers to '{match[3]}', which does not exist"


def _detail_after(text: str, position: int) -> str:
    rest = [ln.strip() for ln in text[position:].splitlines() if ln.strip()]
    rest = [ln for ln in rest if not LINE.match(ln) and not ln.startswith("^")]
    return one_line(rest[0]) if rest else "see the dbt log for details"
