"""The patch registry: every change pipeline-tui makes to dbt internals, as a record, guarded at install.

Provides `Site` (one attribute of dbt that a patch replaces or relies on), `Patch` (the record),
`PatchMismatch` (a correctness patch no longer fits: start-up stops with its one line) and
`PatchRegistry`: `install(host, disabled=())` checks and applies, `uninstall()` puts back exactly
the objects that were there, `bind(host)` routes the patches to the host of the invocation running
now (`current()`; None while anyone else runs dbt in the process: the patches then pass through).

The guards, per site: the installed version of the package that owns it is one the patch was tested
with; a wrapped function still has a signature it was tested with (`inspect.signature`); a function
replaced outright still has the source it was tested with (a hash of `inspect.getsource`); names a
patch relies on are still in the source. A speed patch that fails a guard is skipped with one log
line; a correctness patch raises `PatchMismatch` naming it. `PIPELINE_TUI_PATCHES_OFF=a,b` (or
`disabled=`) leaves patches out by name: the benchmark measures each one that way.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
import os
import threading
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable

LOG = logging.getLogger("pipeline_tui.patches")
OFF_ENV = "PIPELINE_TUI_PATCHES_OFF"
_ABSENT = object()


class PatchMismatch(Exception):
    """A correctness patch does not fit the installed dbt (one line for the user)."""


@dataclass(frozen=True)
class Site:
    """`owner` is "module" or "module:Class"; a guard is given by signatures, hashes or names."""

    owner: str
    attr: str
    signatures: tuple[str, ...] = ()  # str(inspect.signature(...)) seen on the tested versions
    source_hashes: tuple[str, ...] = ()  # source_hash(...) seen on the tested versions
    names: tuple[str, ...] = ()  # names the patch relies on, still in the target's source

    @property
    def target(self) -> str:
        return f"{self.owner}.{self.attr}".replace(":", ".")


@dataclass(frozen=True)
class Patch:
    name: str
    kind: str  # "wrap" (calls dbt's own), "replace" (dbt's body rewritten), "uses" (internals called)
    purpose: str  # "correctness" (stops start-up when it does not fit) or "speed" (skipped)
    package: str  # the distribution that owns the targets
    tested: str  # versions of `package` it was tested with (a PEP 440 specifier)
    sites: tuple[Site, ...]
    why: str
    saving: str  # measured: with it against without it (bench/bench_patches.py)
    build: Callable[["Context"], tuple] | None = None  # the new values, in site order
    requires: tuple[str, ...] = ()  # patches it needs (skipped with them)
    optional: bool = False  # `package` may be absent (another adapter): then nothing to do

    def __post_init__(self):
        assert self.kind in ("wrap", "replace", "uses") and self.purpose in ("correctness", "speed")


@dataclass
class Context:
    """What a patch's `build` gets: dbt's values at its sites, and the host of the running invocation."""

    originals: tuple
    current: Callable[[], Any]

    def original(self, index: int = 0) -> Any:
        return self.originals[index]


def source_hash(value: Any) -> str:
    return hashlib.blake2b(inspect.getsource(_function(value)).encode(), digest_size=8).hexdigest()


def signature(value: Any) -> str:
    """Parameters, kinds and defaults (annotations left out: they name types that move between releases)."""
    found = inspect.signature(_function(value))
    bare = [p.replace(annotation=inspect.Parameter.empty) for p in found.parameters.values()]
    return str(found.replace(parameters=bare, return_annotation=inspect.Signature.empty))


def _function(value: Any) -> Any:
    return value.__func__ if isinstance(value, (classmethod, staticmethod)) else value


def resolve(site: Site) -> tuple[Any, Any, Any]:
    """(owner object, the raw value at the site, the value found there). The raw value is a class's
    own dict entry (descriptors as they are; `_ABSENT` when the class inherits it: uninstall deletes
    the patch's again); the value found is what attribute lookup finds (inherited ones included)."""
    module_name, _, qualname = site.owner.partition(":")
    owner: Any = importlib.import_module(module_name)
    for part in filter(None, qualname.split(".")):
        owner = getattr(owner, part)
    if not isinstance(owner, type):
        raw = getattr(owner, site.attr, _ABSENT)
        return owner, raw, raw
    raw = vars(owner).get(site.attr, _ABSENT)
    found = next((vars(c)[site.attr] for c in owner.__mro__ if site.attr in vars(c)), _ABSENT)
    return owner, raw, found


def mismatch(site: Site, raw: Any) -> str | None:
    """Why the value at the site no longer fits the patch (None when it fits)."""
    if raw is _ABSENT:
        return f"{site.target} is gone"
    if site.signatures and signature(raw) not in site.signatures:
        return f"{site.target}{signature(raw)} has another signature"
    try:
        if site.source_hashes and source_hash(raw) not in site.source_hashes:
            return f"{site.target} has another body"
        missing = [n for n in site.names if n not in inspect.getsource(_function(raw))]
    except (OSError, TypeError):  # no source to compare: it cannot be the body the patch was tested on
        return f"{site.target} has another body (its source cannot be read)"
    return f"{site.target} no longer uses {', '.join(missing)}" if missing else None


def version_mismatch(patch: Patch) -> str | None:
    from packaging.specifiers import SpecifierSet

    try:
        installed = metadata.version(patch.package)
    except metadata.PackageNotFoundError:  # optional: another adapter, nothing to patch
        return "not applicable" if patch.optional else f"{patch.package} is not installed"
    if installed not in SpecifierSet(patch.tested, prereleases=True):
        return f"{patch.package} {installed} is untested (tested {patch.tested})"
    return None


@dataclass
class _Applied:
    patch: Patch
    saved: list = field(default_factory=list)  # (owner, attr, raw value before)


class PatchRegistry:
    def __init__(self, patches: tuple[Patch, ...]):
        names = [p.name for p in patches]
        assert len(names) == len(set(names)), "patch names must be unique"
        self.patches = patches
        self._applied: dict[str, _Applied] = {}
        self._lock = threading.RLock()
        self._host: Any = None
        self.skipped: dict[str, str] = {}  # name -> why (disabled, or a guard that failed)

    # --- the host of the running invocation -------------------------------------------------
    def current(self) -> Any:
        return self._host

    def bind(self, host: Any) -> None:
        self._host = host

    # --- install / uninstall ----------------------------------------------------------------
    @property
    def installed(self) -> bool:
        return bool(self._applied) or bool(self.skipped)

    def active(self, name: str) -> bool:
        return name in self._applied

    def install(self, disabled: tuple[str, ...] | frozenset = ()) -> None:
        """Check and apply every patch (once; again after `uninstall`). Raises PatchMismatch."""
        with self._lock:
            if self.installed:
                return
            off = set(disabled) | {n.strip() for n in os.environ.get(OFF_ENV, "").split(",") if n.strip()}
            try:
                for patch in self.patches:
                    self._install_one(patch, off)
            except BaseException:
                self.uninstall()
                raise

    def _install_one(self, patch: Patch, off: set) -> None:
        if patch.name in off or any(not self.active(r) for r in patch.requires):
            self.skipped[patch.name] = "disabled" if patch.name in off else "needs " + ", ".join(patch.requires)
            return
        problem, resolved = self.check(patch)
        if problem == "not applicable":
            self.skipped[patch.name] = problem
            return
        if problem is not None:
            if patch.purpose == "correctness":
                raise PatchMismatch(f"pipeline-tui cannot host this dbt: {patch.name} ({patch.why.split('.')[0]}) "
                                    f"does not fit: {problem}; install the versions in pyproject.toml")
            LOG.warning("pipeline-tui: speed patch %s skipped: %s", patch.name, problem)
            self.skipped[patch.name] = problem
            return
        self._apply(patch, resolved)

    def check(self, patch: Patch) -> tuple[str | None, list]:
        """(why it does not fit or None, [(owner, raw value)] per site)."""
        problem = version_mismatch(patch)
        if problem is not None:
            return problem, []
        resolved = []
        for site in patch.sites:
            try:
                owner, raw, found = resolve(site)
            except (ImportError, AttributeError) as error:  # the package is there: its target moved
                return f"{site.target} is gone ({error})", []
            problem = mismatch(site, found)
            if problem is not None:
                return problem, []
            resolved.append((owner, raw))
        return None, resolved

    def _apply(self, patch: Patch, resolved: list) -> None:
        applied = _Applied(patch)
        self._applied[patch.name] = applied
        if patch.build is None:  # "uses": guarded only
            return
        originals = tuple(getattr(owner, site.attr) for (owner, _), site in zip(resolved, patch.sites))
        values = patch.build(Context(originals, self.current))
        for (owner, raw), site, value in zip(resolved, patch.sites, values):
            if value is not None:
                applied.saved.append((owner, site.attr, raw))
                setattr(owner, site.attr, value)

    def uninstall(self) -> None:
        """Put back exactly what each patch replaced (the same objects), last installed first."""
        with self._lock:
            for applied in reversed(list(self._applied.values())):
                for owner, attr, raw in reversed(applied.saved):
                    if raw is _ABSENT:
                        delattr(owner, attr)
                    else:
                        setattr(owner, attr, raw)
            self._applied.clear()
            self.skipped.clear()

    def original(self, name: str, index: int = 0) -> Any:
        """dbt's own value at a site of an installed patch (tests compare with it)."""
        return self._applied[name].saved[index][2]

    def report(self) -> list[str]:
        """One line per patch: applied, or skipped and why."""
        return [f"{p.name}: {'applied' if self.active(p.name) else 'skipped: ' + self.skipped.get(p.name, '-')}"
                for p in self.patches]
