"""Speed patches that rewrite dbt function bodies in node contexts and validation (guarded by a source hash).

- `contexts.build_macro_namespaces`: every node context gets a `MacroGenerator` for each of the
  ~530 macros; they are made in one loop with the same four attributes;
- `contexts.cache_validators`: `dbtClassMixin.validate` made a new jsonschema validator for every
  test result row; one is kept per class;
- `contexts.flag_sources_without_source_lines`: the adapter names the module that declared each
  behaviour flag with `inspect.stack()`, which reads the source lines of every frame; the frames are
  walked without their source.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from tui.core.dbt_host.patches.registry import Context, Patch, Site

CORE, COMMON = ("dbt-core", ">=1.11,<1.13"), ("dbt-common", ">=1.39,<1.40")


def _build_macro_namespaces(ctx: Context) -> tuple:
    from dbt.clients.jinja import MacroGenerator
    from dbt.exceptions import DuplicateMacroNameError

    new = object.__new__

    def add_macros(self, macros, ctx) -> None:
        node, stack, internal = self.node, self.thread_ctx, self.internal_package_names
        search_package, root_package = self.search_package, self.root_package
        for macro in macros:
            func = new(MacroGenerator)
            func.__dict__.update(context=ctx, macro=macro, node=node, stack=stack)
            name, package = macro.name, macro.package_name
            hierarchy = self.internal_packages if package in internal else self.packages
            namespace = hierarchy.setdefault(package, {})
            if name in namespace:
                raise DuplicateMacroNameError(macro, macro, package)  # dbt passes the new generator's macro twice
            namespace[name] = func
            if package not in internal:
                if package == search_package:
                    self.locals[name] = func
                elif package == root_package:
                    self.globals[name] = func

    return (add_macros, None, None, None)


def _cache_validators(ctx: Context) -> tuple:
    import jsonschema
    from dbt_common.dataclass_schema import ValidationError

    validators: dict[type, Any] = {}

    def validate(cls, data: Any) -> None:
        validator = validators.get(cls)
        if validator is None:
            validator = validators[cls] = jsonschema.Draft7Validator(cls.json_schema())
        error = next(iter(validator.iter_errors(data)), None)
        if error is not None:
            raise ValidationError.create_from(error) from error

    return (classmethod(validate),)


def _flag_sources_without_source_lines(ctx: Context) -> tuple:
    from dbt_common import behavior_flags

    own_module = behavior_flags.__name__

    def _default_source() -> str:
        frame = sys._getframe(1)  # dbt's own frame: `inspect.stack()` started at `_default_source`
        while frame is not None:
            module = inspect.getmodule(frame)
            if module and module.__name__ != own_module:
                return module.__name__
            frame = frame.f_back
        return "Unknown"

    return (staticmethod(_default_source),)


PATCHES = (
    Patch("contexts.build_macro_namespaces", "replace", "speed", *CORE, (
        Site("dbt.context.macros:MacroNamespaceBuilder", "add_macros", source_hashes=("a454e1ec76e8a10a",)),
        Site("dbt.clients.jinja:MacroGenerator", "__init__", source_hashes=("20b1d47cab2218da",)),
        Site("dbt_common.clients.jinja:CallableMacroGenerator", "__init__", source_hashes=("abedfd36cfd807da",)),
        Site("dbt_common.clients.jinja:BaseMacroGenerator", "__init__", source_hashes=("73d96bf7ff174003",))),
        why="Macro generators for a node context are made in one loop.",
        saving="", build=_build_macro_namespaces),
    Patch("contexts.cache_validators", "replace", "speed", *COMMON, (
        Site("dbt_common.dataclass_schema:dbtClassMixin", "validate", source_hashes=("5235740515048bfc",)),),
        why="One jsonschema validator per class instead of one per validated row.",
        saving="", build=_cache_validators),
    Patch("contexts.flag_sources_without_source_lines", "replace", "speed", *COMMON, (
        Site("dbt_common.behavior_flags:BehaviorFlagRendered", "_default_source", source_hashes=("12064b011b3b87c2",)),),
        why="Behaviour flag sources are found without reading every frame's source lines.",
        saving="", build=_flag_sources_without_source_lines),
)
