"""``rlmodules list`` / ``info`` / ``doctor``: output, exit codes, and no torch import."""

from __future__ import annotations

import attrs
import pytest
import rlmodules
from rlmodules import registry
from rlmodules.cli import main

CLI = """
    import contextlib, io, json, sys
    from rlmodules.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main({argv!r})
    print(json.dumps({{"code": code, "out": out.getvalue(), "err": err.getvalue(),
                      "torch": "torch" in sys.modules}}))
"""


@pytest.fixture(scope="module")
def cli(run_python, plugin_site, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cli-cache")

    def run(*argv: str) -> dict:
        return run_python(CLI.format(argv=list(argv)), path=[plugin_site], cache_dir=cache)

    return run


def test_list_prints_an_aligned_table_with_builtins_and_origins(cli):
    out = cli("list")
    assert out["code"] == 0 and out["torch"] is False
    lines = out["out"].splitlines()
    assert lines[0].split() == ["KIND", "NAME", "PLUGIN", "DISTRIBUTION", "VERSION", "STATUS"]
    rows = [line.split() for line in lines[1:]]
    assert ["module", "bc", "rlmodules", "rlmodules", "0.1.0", "ok"] in rows
    assert ["module", "alpha_mlp", "alpha", "rlmodules-test-alpha", "1.0", "ok"] in rows
    assert ["module", "ppo", "beta", "rlmodules_test.beta", "2.0", "override"] in rows
    assert ["module", "shared", "alpha", "rlmodules-test-alpha", "1.0", "conflict"] in rows
    column = lines[0].index("PLUGIN")
    assert all(line[column - 2:column] == "  " and line[column] != " " for line in lines)
    assert "warning: rlmodules plugin 'aaa_broken'" in out["err"]


def test_list_filters_by_kind_and_pattern_and_prints_json(cli):
    out = cli("list", "modules", "alpha*")
    assert [line.split()[1] for line in out["out"].splitlines()[1:]] == ["alpha_mlp"]
    rows = __import__("json").loads(cli("list", "distribution", "--json")["out"])
    alpha = next(r for r in rows if r["name"] == "alpha_dist")
    assert alpha == {"kind": "distribution", "name": "alpha_dist", "plugin": "alpha",
                     "distribution": "rlmodules-test-alpha", "version": "1.0", "status": "ok",
                     "qualified_name": "alpha/alpha_dist", "target": "rlt_alpha.impl:AlphaDist"}
    assert cli("list", "*/old_*")["out"].split()[6:12] == [
        "module", "old_alpha", "alpha", "rlmodules-test-alpha", "1.0", "alias"]


def test_list_rejects_an_unknown_kind(cli):
    out = cli("list", "modul", "x")
    assert out["code"] == 1
    assert "unknown kind 'modul'; Did you mean 'module'? expected one of module," in out["err"]


def test_doctor_reports_broken_plugins_names_and_conflicts(cli):
    out = cli("doctor")
    assert out["code"] == 1
    text = out["out"]
    assert ("BROKEN plugin 'aaa_broken' (rlmodules-test-aaa-broken 0.1), import: "
            "ModuleNotFoundError: No module named 'nonexistent_dependency_xyz'") in text
    assert 'raise RuntimeError("catalog table exploded")' in text
    assert "fix: reinstall or upgrade rlmodules-test-zzz-hook, or block it" in text
    assert "CONFLICT: module name 'shared' is provided by alpha/shared, beta/shared" in text
    assert "module 'ppo' is overridden by plugin 'beta'" in text
    # Targets are imported and checked: these test plugins register plain classes.
    assert ("BROKEN module 'alpha/alpha_mlp' (rlmodules-test-alpha): it points to <class "
            "'rlt_alpha.impl.AlphaModule'>, which is not a RLModule subclass") in text
    assert "BROKEN distribution 'alpha/alpha_dist' (rlmodules-test-alpha)" in text
    assert "6 broken plugin(s) or name(s), 1 conflict(s)" in text


def test_doctor_is_happy_when_nothing_is_broken(capsys):
    with registry.isolated_registry(autoload=False, use_cache=False):
        assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "rlmodules  (rlmodules 0.1.0)" in out and "everything OK" in out


@attrs.define
class TinyConfig:
    hidden: list = attrs.field(factory=lambda: [8, 8])
    activation: str = "relu"


class Documented:
    """A documented module.

    It explains itself.
    """

    default_model_config_class = TinyConfig


class InfoPlugin:
    @rlmodules.hookimpl
    def rlmodules_modules(self):
        return {"documented": Documented}

    @rlmodules.hookimpl
    def rlmodules_catalogs(self):
        return {"documented": Documented}


def test_info_shows_origin_docstring_and_config_defaults(capsys):
    with registry.isolated_registry(autoload=False, use_cache=False):
        registry.register_plugin(InfoPlugin(), name="docs")
        assert main(["info", "documented", "--kind", "module"]) == 0
        out = capsys.readouterr().out
        assert main(["info", "documented"]) == 0
        both = capsys.readouterr().out
        assert main(["info", "documnted"]) == 1
        err = capsys.readouterr().err
    assert "module: documented\n  qualified name: docs/documented\n" in out
    assert "provided by:    plugin 'docs' (in-process)" in out
    assert f"target:         {__name__}:Documented" in out
    assert "  A documented module.\n  \n  It explains itself." in out
    assert "model config: TinyConfig\n    hidden = [8, 8]\n    activation = 'relu'" in out
    assert "catalog: documented" in both and "module: documented" in both
    assert "unknown module name 'documnted'. Did you mean 'documented'?" in err


def test_a_reader_that_goes_away_ends_the_command_quietly():
    # `rlmodules list | head -1`: the pipe closes before the table is written.
    import subprocess
    import sys

    code = "import sys; from rlmodules.cli import main; sys.exit(main(['list']))"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        process.stdout.close()
        err = process.stderr.read().decode()
        assert process.wait(timeout=60) == 1
    assert "Traceback" not in err and "BrokenPipe" not in err
