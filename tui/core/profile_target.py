"""The profile's target, resolved the way dbt resolves it, without importing dbt.

Provides `ProfileTarget` (profile and target names, the adapter `type`, the warehouse file) and
`resolve(project_dir, profiles_dir, target=None, env=None) -> ProfileTarget`. It never raises:
a profile it cannot read gives a `ProfileTarget` whose `error` says why in one line.

What dbt does, and so what this does:
- the profile is `profile:` of dbt_project.yml, read from `<profiles_dir>/profiles.yml`;
- the target is `--target`, else `DBT_TARGET`, else the profile's `target:`, else `default`;
- values are Jinja: `env_var('X', default)` reads `env` (the environment the dbt session gets),
  `flags.PROFILES_DIR` / `flags.PROJECT_DIR` are the folders given to dbt;
- a relative DuckDB `path` is relative to dbt's working directory, which is the project folder
  (pipeline-tui runs dbt there, as `cd project && dbt build` does); no `path` means dbt-duckdb's
  default, `:memory:`, which keeps nothing once dbt ends (so `warehouse` is None);
- DuckDB reads relative file names (`read_csv('data/x.csv')`) from `settings.file_search_path`,
  else from that working directory (`search_path`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

MEMORY = ":memory:"  # dbt-duckdb's default path
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+:")  # md:db, s3://…, ducklake:… (not a local file)


@dataclass(frozen=True)
class ProfileTarget:
    profile: str | None
    name: str | None  # the target's name ("dev"); None when the profile could not be read
    adapter: str | None  # the target's `type` ("duckdb", "postgres", …)
    location: str | None = None  # the DuckDB `path` as rendered (":memory:", "md:x", a file)
    warehouse: Path | None = None  # the DuckDB file on disk it names (absolute), when it names one
    error: str | None = None  # why the profile could not be resolved (one line)
    search_path: str | None = None  # where DuckDB finds relative file names in dbt's runs

    @property
    def label(self) -> str:
        """What the header shows for the warehouse: its file name, else the location or adapter."""
        if self.warehouse is not None:
            return self.warehouse.name
        return self.location or self.adapter or ""

    def why_no_warehouse(self) -> str:
        """One line: why there is no DuckDB file to read (for triage, check, the detail screen)."""
        if self.error:
            return self.error
        where = f"target '{self.name}' of profile '{self.profile}'"
        if self.adapter != "duckdb":
            return f"the {where} is a {self.adapter} warehouse: pipeline-tui reads DuckDB files only for now"
        if self.location in (None, "", MEMORY):
            return (f"the {where} keeps its DuckDB database in memory (no `path:`), so nothing is left to "
                    "read after the build: set `path:` to a file in profiles.yml")
        return f"the {where} points at {self.location}, not a local DuckDB file"


class _Flags:
    """The `flags` object profiles may use (dbt's holds every CLI flag; profiles use the folders)."""

    def __init__(self, project_dir: Path, profiles_dir: Path, target: str | None):
        self.PROJECT_DIR, self.PROFILES_DIR, self.TARGET = str(project_dir), str(profiles_dir), target


class _Unresolved(Exception):
    pass


def resolve(project_dir: Path, profiles_dir: Path, target: str | None = None,
            env: Mapping[str, str] | None = None) -> ProfileTarget:
    """The target dbt would use for this project (see the module docstring). Never raises."""
    env = os.environ if env is None else env
    project_dir, profiles_dir = Path(project_dir), Path(profiles_dir)
    render = _renderer(env, _Flags(project_dir, profiles_dir, target))
    try:
        profile = _profile_name(project_dir, render)
        entry = _profile_entry(profiles_dir, profile)
        name = target or env.get("DBT_TARGET") or render(entry.get("target")) or "default"
        outputs = entry.get("outputs") or {}
        if name not in outputs:
            valid = ", ".join(map(str, outputs)) or "none"
            raise _Unresolved(f"dbt profile '{profile}' has no target '{name}' (valid: {valid}): check --target")
        output = outputs[name] or {}
        adapter = render(output.get("type")) or None
        location = render(output.get("path")) if adapter == "duckdb" else None
        search = render((output.get("settings") or {}).get("file_search_path")) if adapter == "duckdb" else None
    except _Unresolved as error:
        return ProfileTarget(None, None, None, error=str(error))
    if adapter != "duckdb":
        return ProfileTarget(profile, name, adapter)
    return ProfileTarget(profile, name, adapter, location or MEMORY, _local_file(location, project_dir),
                         search_path=search or str(project_dir))  # dbt's cwd: the project folder


def _local_file(location: str | None, cwd: Path) -> Path | None:
    if not location or location == MEMORY or _URL.match(location):
        return None
    path = Path(location).expanduser()  # DuckDB expands `~` itself
    return Path(os.path.normpath(path if path.is_absolute() else cwd / path))


def _profile_name(project_dir: Path, render) -> str:
    project = _read_yaml(project_dir / "dbt_project.yml")
    name = render(project.get("profile"))
    if not name:
        raise _Unresolved(f"{project_dir / 'dbt_project.yml'} names no `profile:`: add the profile's name")
    return str(name)


def _profile_entry(profiles_dir: Path, profile: str) -> dict:
    path = profiles_dir / "profiles.yml"
    entry = _read_yaml(path).get(profile)
    if not isinstance(entry, dict):
        raise _Unresolved(f"dbt profile '{profile}' not found in {path}: check --profiles-dir")
    return entry


def _read_yaml(path: Path) -> dict:
    import yaml

    try:
        data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError:
        raise _Unresolved(f"cannot read {path}: the file is missing or unreadable") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        near = f" near line {mark.line + 1}" if mark is not None else ""
        raise _Unresolved(f"cannot read {path}: YAML syntax error{near} (fix the file and run again)") from None
    return data if isinstance(data, dict) else {}


def _renderer(env: Mapping[str, str], flags: _Flags):
    """A function rendering one profile value as dbt does (plain values are returned as text)."""
    state: dict[str, Any] = {}

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise _Unresolved(f"Env var required but not provided: '{name}' (profiles.yml): set it or give env_var a default")

    def render(value: Any) -> str | None:
        if value is None:
            return None
        text = str(value)
        if "{{" not in text and "{%" not in text:
            return text
        quick = _quick_env_var(text, env)
        if quick is not None:
            return quick
        if "env" not in state:
            state["env"] = _jinja_environment()
        try:
            return state["env"].from_string(text).render(env_var=env_var, flags=flags).strip()
        except _Unresolved:
            raise
        except Exception as error:  # noqa: BLE001 - any Jinja problem: say which value, in one line
            raise _Unresolved(f"cannot render {text!r} in profiles.yml: {error}") from None

    return render


_ONE_ENV_VAR = re.compile(r"""^\{\{\s*env_var\(\s*(['"])(?P<name>[^'"]+)\1\s*(?:,\s*(?P<default>.+?))?\s*\)\s*\}\}$""")
_LITERAL = re.compile(r"""^(['"])(?P<text>[^'"]*)\1$""")


def _quick_env_var(text: str, env: Mapping[str, str]) -> str | None:
    """`{{ env_var('X') }}` / `{{ env_var('X', 'default') }}`, the usual profile value, without
    importing Jinja (0.1-0.5 s, on the cockpit's UI thread); None when it takes real Jinja."""
    match = _ONE_ENV_VAR.match(text.strip())
    if match is None:
        return None
    if match["name"] in env:
        return env[match["name"]]
    literal = _LITERAL.match(match["default"] or "")
    return literal["text"] if literal else None


def _jinja_environment():
    import jinja2

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    environment.filters.update(as_number=lambda v: v, as_text=str, as_native=lambda v: v,
                               as_bool=lambda v: str(v).lower() in ("true", "1", "yes"))
    return environment
