"""The profile's target, resolved as dbt resolves it (tui.core.profile_target), without dbt.

Where dbt puts a relative DuckDB file is checked against plain dbt in tests/cli/test_user_shapes.py;
these cover the rules: target choice, env_var(), flags, relative paths, in-memory and non-file targets.
"""

from __future__ import annotations

from pathlib import Path

from tui.core.profile_target import MEMORY, resolve
from tui.core.workspace import Workspace, embedded_project_dir


def project(root: Path, outputs: str, target: str = "dev", profile: str = "shop") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(f"name: shop\nversion: '1.0'\nprofile: {profile}\n")
    (root / "profiles.yml").write_text(f"shop:\n  target: {target}\n  outputs:\n{outputs}")
    return root


DUCK = "    {name}:\n      type: duckdb\n      path: {path}\n"


def test_a_relative_path_is_taken_from_the_project_folder_not_the_current_one(tmp_path, monkeypatch):
    proj = project(tmp_path / "proj", DUCK.format(name="dev", path="data/shop.duckdb"))
    monkeypatch.chdir(tmp_path)
    target = resolve(proj, proj)
    assert (target.profile, target.name, target.adapter) == ("shop", "dev", "duckdb")
    assert target.warehouse == proj / "data" / "shop.duckdb"
    assert target.label == "shop.duckdb" and target.error is None
    assert target.search_path == str(proj)  # DuckDB's relative file names: dbt's working directory


def test_the_target_is_the_option_then_dbt_target_then_the_profiles_own(tmp_path):
    proj = project(tmp_path / "p", DUCK.format(name="dev", path="dev.duckdb") + DUCK.format(name="ci", path="ci.duckdb")
                   + DUCK.format(name="prod", path="/srv/prod.duckdb"))
    assert resolve(proj, proj).warehouse == proj / "dev.duckdb"
    assert resolve(proj, proj, env={"DBT_TARGET": "ci"}).warehouse == proj / "ci.duckdb"
    assert resolve(proj, proj, "prod", env={"DBT_TARGET": "ci"}).warehouse == Path("/srv/prod.duckdb")
    missing = resolve(proj, proj, "qa")
    assert missing.warehouse is None and "has no target 'qa' (valid: dev, ci, prod)" in missing.error


def test_a_profile_without_a_target_key_uses_default(tmp_path):
    proj = tmp_path / "p"
    proj.mkdir()
    (proj / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    (proj / "profiles.yml").write_text("shop:\n  outputs:\n" + DUCK.format(name="default", path="w.duckdb"))
    assert resolve(proj, proj).name == "default" and resolve(proj, proj).warehouse == proj / "w.duckdb"


def test_env_var_is_rendered_with_the_sessions_environment_and_its_default(tmp_path):
    path = "\"{{ env_var('SHOP_DB', 'fallback.duckdb') }}\""
    proj = project(tmp_path / "p", DUCK.format(name="dev", path=path), target="\"{{ env_var('SHOP_TARGET', 'dev') }}\"")
    assert resolve(proj, proj, env={}).warehouse == proj / "fallback.duckdb"
    assert resolve(proj, proj, env={"SHOP_DB": "/data/x.duckdb"}).warehouse == Path("/data/x.duckdb")
    required = project(tmp_path / "q", DUCK.format(name="dev", path="\"{{ env_var('NOPE') }}\""))
    error = resolve(required, required, env={}).error
    assert "Env var required but not provided: 'NOPE'" in error and "\n" not in error


def test_in_memory_and_remote_targets_have_no_file(tmp_path):
    no_path = project(tmp_path / "a", "    dev:\n      type: duckdb\n")
    target = resolve(no_path, no_path)
    assert target.warehouse is None and target.location == MEMORY  # dbt-duckdb's default
    assert "in memory" in target.why_no_warehouse()
    motherduck = project(tmp_path / "b", DUCK.format(name="dev", path="'md:analytics'"))
    assert resolve(motherduck, motherduck).warehouse is None
    assert resolve(motherduck, motherduck).label == "md:analytics"


def test_another_adapter_is_recorded_with_its_type(tmp_path):
    proj = project(tmp_path / "p", "    dev:\n      type: postgres\n      host: localhost\n      path: ignored.db\n")
    target = resolve(proj, proj)
    assert (target.adapter, target.warehouse, target.label) == ("postgres", None, "postgres")
    assert "postgres warehouse" in target.why_no_warehouse()


def test_unreadable_files_are_one_line_errors(tmp_path):
    proj = project(tmp_path / "p", DUCK.format(name="dev", path="x.duckdb"))
    (proj / "profiles.yml").write_text("shop:\n  target: dev\n  outputs: [\n")
    error = resolve(proj, proj).error
    assert "YAML syntax error" in error and "\n" not in error
    other = project(tmp_path / "q", DUCK.format(name="dev", path="x.duckdb"), profile="elsewhere")
    assert "profile 'elsewhere' not found" in resolve(other, other).error


def test_the_embedded_profile_points_at_the_workspaces_warehouse(tmp_path):
    ws = Workspace.resolve(workspace=tmp_path / "ws")
    assert ws.embedded and ws.warehouse == ws.demo_warehouse == tmp_path / "ws" / "warehouse.duckdb"
    assert ws.profile_target().search_path == str(ws.raw_dir)
    # without the session's environment, dbt's default in the profile: flags.PROFILES_DIR
    bare = resolve(embedded_project_dir(), embedded_project_dir(), env={})
    assert bare.warehouse == embedded_project_dir() / "warehouse.duckdb"
