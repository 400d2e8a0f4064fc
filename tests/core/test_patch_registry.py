"""The patch registry (`tui.core.dbt_host.patches`): every patch fits the installed dbt, a patch that
does not fit is skipped (speed) or stops start-up (correctness), and uninstall gives dbt back exactly.

Real dbt: the guards read the installed dbt's own functions; the targets that "moved" here are real
dbt functions replaced in a subprocess, never a fake dbt.
"""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from tui.core.dbt_host.patches import PATCHES, REGISTRY, PatchMismatch
from tui.core.dbt_host.patches.registry import _ABSENT, OFF_ENV, Patch, PatchRegistry, Site, resolve

MOVED_TARGET = """
import sys
from dbt.graph.queue import GraphQueue

def join(self):  # a dbt release that rewrote GraphQueue.join
    self.inner.join()

GraphQueue.join = join
from tui.core.dbt_host.session import DbtSession, SessionError
from tui.core.workspace import Workspace
session = DbtSession(Workspace.resolve(workspace=sys.argv[1], project_dir=sys.argv[2]), history=None)
try:
    session.warm_up()
except SessionError as error:
    print(error)
"""


def raw_values() -> dict[str, object]:
    return {f"{p.name}:{s.target}": resolve(s)[1] for p in PATCHES for s in p.sites}


@pytest.fixture
def unpatched():
    REGISTRY.uninstall()
    yield
    REGISTRY.uninstall()


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name)
def test_every_patch_fits_the_installed_dbt(patch, unpatched):  # dbt's own functions, not our wrappers
    problem, _ = REGISTRY.check(patch)
    assert problem is None, f"patch {patch.name} no longer fits: {problem}"


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name)
def test_every_record_says_what_why_and_is_guarded(patch):
    assert patch.why and patch.saving and patch.tested and patch.sites
    assert (patch.build is None) == (patch.kind == "uses")
    for site in patch.sites:  # a "uses" record may only need a name to be there
        guarded = site.signatures or site.source_hashes or site.names or patch.kind == "uses"
        assert guarded, f"{patch.name}: {site.target} has no guard"


def test_uninstall_gives_dbt_back_its_own_objects(unpatched):
    before = raw_values()
    REGISTRY.install()
    changed = {key for key, value in raw_values().items() if value is not before[key]}
    assert len(changed) >= 20  # 22 attributes; the "uses" records and extra sites only guard
    REGISTRY.uninstall()
    after = raw_values()
    assert [key for key in before if after[key] is not before[key]] == []
    assert not REGISTRY.installed


def test_a_patch_left_out_by_name_is_not_installed(unpatched, monkeypatch):
    from dbt_common.clients import agate_helper

    dbts = agate_helper.build_type_tester
    monkeypatch.setenv(OFF_ENV, "warm.cache_type_testers,duckdb.lock_release")
    REGISTRY.install()
    assert agate_helper.build_type_tester is dbts and not REGISTRY.active("warm.cache_type_testers")
    assert REGISTRY.skipped["duckdb.open_in_advance"] == "needs duckdb.lock_release"  # it needs the other
    assert REGISTRY.active("warm.copy_flag_object")


def moved(purpose: str) -> Patch:
    """A record whose target's signature is not the installed one (as after a dbt release changed it)."""
    def build(ctx):
        return (lambda *args: None,)

    return Patch(f"test.{purpose}", "wrap", purpose, "dbt-core", ">=1.11,<1.13",
                 (Site("dbt.graph.queue:GraphQueue", "get", signatures=("(self, block, timeout, extra)",)),),
                 why="A test record.", saving="none", build=build)


def test_a_speed_patch_that_no_longer_fits_is_skipped_with_one_log_line(caplog):
    from dbt.graph.queue import GraphQueue

    dbts = vars(GraphQueue)["get"]
    registry = PatchRegistry((moved("speed"),))
    with caplog.at_level(logging.WARNING, logger="pipeline_tui.patches"):
        registry.install()
    lines = [r.getMessage() for r in caplog.records if r.name == "pipeline_tui.patches"]
    assert len(lines) == 1 and "test.speed" in lines[0] and "signature" in lines[0] and "\n" not in lines[0]
    assert vars(GraphQueue)["get"] is dbts and registry.skipped["test.speed"]


def test_a_correctness_patch_that_no_longer_fits_stops_start_up_naming_it(unpatched):
    from dbt_common.clients import agate_helper

    dbts = agate_helper.build_type_tester
    first = next(p for p in PATCHES if p.name == "warm.cache_type_testers")
    registry = PatchRegistry((first, moved("correctness")))
    with pytest.raises(PatchMismatch) as raised:
        registry.install()
    assert "test.correctness" in str(raised.value) and "\n" not in str(raised.value)
    assert agate_helper.build_type_tester is dbts and not registry.installed  # what it had installed came off


def test_a_session_whose_cancel_patch_does_not_fit_fails_its_warm_up_in_one_line(tiny_workspace):
    out = subprocess.run([sys.executable, "-c", MOVED_TARGET, str(tiny_workspace.root),
                          str(tiny_workspace.project_dir)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    [line] = out.stdout.strip().splitlines()
    assert "cancel.wake_scheduler" in line and "GraphQueue.join has another body" in line
    assert "Traceback" not in out.stderr


def test_an_inherited_target_is_deleted_again_on_uninstall(unpatched):
    from dbt.adapters.duckdb.impl import DuckDBAdapter

    assert "list_schemas" not in vars(DuckDBAdapter)  # dbt-duckdb inherits it from SQLAdapter
    REGISTRY.install()
    assert "list_schemas" in vars(DuckDBAdapter)
    REGISTRY.uninstall()
    assert resolve(Site("dbt.adapters.duckdb.impl:DuckDBAdapter", "list_schemas"))[1] is _ABSENT
