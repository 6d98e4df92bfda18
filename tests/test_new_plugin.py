"""`rlmodules new-plugin` refuses bad names and occupied targets with exact errors, and
`rlmodules check --spaces` scopes the kit to named space cases (the packages the scaffold
writes are installed and tested in test_plugin_author.py)."""

from __future__ import annotations

import conformance_modules as cm
import gymnasium as gym
import pytest
from rlmodules import ConfigError, UnknownNameError
from rlmodules.cli import main
from rlmodules.cli.new_plugin import write_plugin
from rlmodules.testing import NAMED_SPACES, check_module, named_space_cases, space_cases_for


def test_the_scaffold_writes_a_src_layout_package_with_the_entry_point(tmp_path, capsys):
    assert main(["new-plugin", "rlm-laplace", "--kind", "distribution",
                 "--dir", str(tmp_path)]) == 0
    root = tmp_path / "rlm-laplace"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == ["LICENSE", "README.md", "pyproject.toml", "src/rlm_laplace/__init__.py",
                     "src/rlm_laplace/distribution.py", "src/rlm_laplace/plugin.py",
                     "src/rlm_laplace/py.typed", "tests/test_rlm_laplace.py"]
    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points.rlmodules]\nrlm_laplace = "rlm_laplace.plugin"' in pyproject
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"next: pip install -e {root} && pytest {root}")


@pytest.mark.parametrize("name", ["Rlm-Gru", "rlm--gru", "1rlm", "rlm gru", "rlm-", ""])
def test_a_bad_name_is_refused(tmp_path, name):
    with pytest.raises(ConfigError) as info:
        write_plugin(name, "module", tmp_path)
    assert str(info.value) == (
        f"invalid plugin name {name!r}: use lowercase letters, digits and single '-' or '_' "
        f"between them, starting with a letter (e.g. 'rlm-gru')")
    assert not any(tmp_path.iterdir())


def test_a_reserved_name_is_refused(tmp_path):
    with pytest.raises(ConfigError) as info:
        write_plugin("rlmodules", "module", tmp_path)
    assert str(info.value) == ("invalid plugin name 'rlmodules': its import name 'rlmodules' is "
                               "reserved; choose a distinctive name such as 'rlm-rlmodules'")


def test_an_existing_non_empty_target_is_refused_and_left_alone(tmp_path, capsys):
    (tmp_path / "rlm-gru").mkdir()
    write_plugin("rlm-gru", "encoder", tmp_path)  # an empty folder is fine
    before = (tmp_path / "rlm-gru" / "pyproject.toml").read_text()
    assert main(["new-plugin", "rlm-gru", "--kind", "module", "--dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"rlmodules new-plugin: error: {tmp_path / 'rlm-gru'} already exists and is not an "
        f"empty folder; choose another NAME or --dir, or remove it first\n")
    assert (tmp_path / "rlm-gru" / "pyproject.toml").read_text() == before
    assert not (tmp_path / "rlm-gru" / "src" / "rlm_gru" / "module.py").exists()


def test_an_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"^unknown plugin kind 'policy'; expected one of "
                       r"module, encoder, distribution$"):
        write_plugin("rlm-x", "policy", tmp_path)


def test_list_spaces_names_every_case(capsys):
    assert main(["check", "--list-spaces"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(NAMED_SPACES)
    assert lines[0].split() == ["box-discrete", "Box(4,)->Discrete(3)"]


def test_check_spaces_runs_only_the_named_cases(capsys):
    assert main(["check", "ppo", "--spaces", "box-box,discrete-discrete",
                 "--model-config", '{"fcnet_hiddens": [8]}', "--check", "forward_outputs"]) == 0
    cases = {line.split("[")[1].split("]")[0] for line in capsys.readouterr().out.splitlines()
             if "[" in line}
    assert cases == {"Box(5,)->Box(2,)+config", "Discrete(6)->Discrete(2)+config"}


def test_an_unknown_space_name_suggests_the_closest(capsys):
    assert main(["check", "ppo", "--spaces", "box-dicsrete"]) == 1
    assert capsys.readouterr().err == (
        "rlmodules check: error: --spaces: unknown space case 'box-dicsrete'. Did you mean "
        "'box-discrete'? Space cases: " + ", ".join(NAMED_SPACES) + "\n")


def test_an_unsupported_space_fails_in_one_line_that_says_so(capsys):
    assert main(["check", "conformance_modules:TinyPolicy", "--spaces", "box-box",
                 "--check", "forward_outputs"]) == 1
    fail = [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL")]
    assert fail == [
        "FAIL  build [Box(5,)->Box(2,)]: conformance_modules:TinyPolicy does not support these "
        "spaces: TinyPolicy "
        "takes a 1-D Box observation space and a Discrete action space, got Box(-inf, inf, (5,), "
        "float32) and Box(-2.0, 2.0, (2,), float32). Fix: check only the spaces it supports: "
        "declare them on the class, e.g. conformance_spaces = [\"box-discrete\"], or pass "
        "--spaces (names: rlmodules check --list-spaces)"]


def test_conformance_spaces_may_name_space_cases():
    class Named(cm.TinyPolicy):
        conformance_spaces = ["box-discrete"]

    assert space_cases_for(Named) == named_space_cases("box-discrete")
    assert check_module(Named, checks=["forward_outputs"]).ok

    class Typo(cm.TinyPolicy):
        conformance_spaces = ["box-discrte"]

    with pytest.raises(UnknownNameError, match=r"^Typo.conformance_spaces: unknown space case "
                       r"'box-discrte'. Did you mean 'box-discrete'\?"):
        space_cases_for(Typo)


def test_a_default_grid_case_that_crashes_the_build_says_how_to_scope_the_check():
    class Crashes(cm.TinyPolicy):
        def setup(self):
            if not isinstance(self.observation_space, gym.spaces.Box):
                raise IndexError("tuple index out of range")
            super().setup()

    report = check_module(Crashes, checks=["forward_outputs"], raise_on_failure=False)
    failed = {r.case: r.message for r in report.failed}
    assert failed["Discrete(6)->Discrete(2)"] == (
        "building the module raised IndexError: tuple index out of range. If the module does "
        "not support these spaces, raise SpaceError for them in setup, or check only the "
        "spaces it supports: declare them on the class, e.g. conformance_spaces = "
        "[\"box-discrete\"], or pass --spaces (names: rlmodules check --list-spaces)")
