"""Thresholds and rule folders of the checks engine.

`ChecksConfig.load(extra_dirs)` reads `thresholds.yml` from the bundled `checks/` folder, then from
each extra folder (environment `PIPELINE_TUI_CHECKS_DIR`, then the ones given) merged key by key,
and remembers every folder so rules and the playbook can be found in them too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CHECKS_ENV = "PIPELINE_TUI_CHECKS_DIR"
_PACKAGE_DIR = Path(__file__).resolve().parents[2]  # .../tui


class ConfigError(Exception):
    """A checks file cannot be read (one line naming the file)."""


def bundled_checks_dir() -> Path:
    for candidate in (_PACKAGE_DIR / "_bundled" / "checks", _PACKAGE_DIR.parent / "checks"):
        if (candidate / "thresholds.yml").is_file():
            return candidate
    return _PACKAGE_DIR.parent / "checks"


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"cannot read {path}: {first}") from error


def merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


@dataclass(frozen=True)
class ChecksConfig:
    values: dict[str, Any]
    dirs: tuple[Path, ...] = field(default=())

    @classmethod
    def load(cls, extra_dirs: tuple[Path | str, ...] | list = (), overrides: dict | None = None) -> ChecksConfig:
        dirs = [bundled_checks_dir()]
        if os.environ.get(CHECKS_ENV):
            dirs.append(Path(os.environ[CHECKS_ENV]))
        dirs += [Path(d) for d in extra_dirs]
        values: dict = {}
        for folder in dirs:
            if (folder / "thresholds.yml").is_file():
                values = merge(values, read_yaml(folder / "thresholds.yml"))
        return cls(merge(values, overrides or {}), tuple(dirs))

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def files(self, pattern: str) -> list[Path]:
        """Files matching a glob in every checks folder, bundled first."""
        found = []
        for folder in self.dirs:
            found += sorted(folder.glob(pattern))
        return found
