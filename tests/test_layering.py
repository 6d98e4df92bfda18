"""The layering check (scripts/check_layers.py) catches what it is for, on a small tree.

The test command runs it over the real tree; here it must fail on an upward import, an
import circle and a private name used across packages, and pass once they are gone.
"""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_layers.py"

PYPROJECT = """
[tool.setuptools.package-dir]
"rlmodules" = "core"
"rlmodules.algorithms" = "algorithms"

[tool.importlinter]
root_package = "rlmodules"

[[tool.importlinter.contracts]]
name = "layers"
type = "layers"
containers = ["rlmodules"]
layers = ["algorithms", "specs : _json", "errors"]

[[tool.importlinter.contracts]]
name = "circles"
type = "acyclic_siblings"
ancestors = ["rlmodules"]
"""


@pytest.fixture
def check_layers():
    spec = importlib.util.spec_from_file_location("check_layers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(root: Path, files: dict[str, str]) -> Path:
    (root / "pyproject.toml").write_text(PYPROJECT)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


CLEAN = {
    "core/__init__.py": "",
    "core/errors.py": "class Error(Exception): ...\n",
    "core/_json.py": "def read(): ...\n",
    "core/specs.py": "from rlmodules.errors import Error\nfrom ._json import read\n",
    "algorithms/__init__.py": "",
    "algorithms/_helpers.py": "def helper(): ...\n",
    "algorithms/train.py": "from rlmodules.specs import Error\nfrom ._helpers import helper\n",
}


def test_a_clean_tree_passes(check_layers, tmp_path, capsys):
    assert check_layers.main(["check", str(_tree(tmp_path, CLEAN))]) == 0
    assert capsys.readouterr().out == ""


def test_an_upward_import_breaks_the_layers(check_layers, tmp_path, capsys):
    files = {**CLEAN, "core/errors.py": "import rlmodules.algorithms.train\n"}
    assert check_layers.main(["check", str(_tree(tmp_path, files))]) == 1
    out = capsys.readouterr().out
    assert "layers BROKEN" in out
    assert "rlmodules.errors -> rlmodules.algorithms.train" in out


def test_an_import_circle_is_found(check_layers, tmp_path, capsys):
    files = {**CLEAN, "core/a.py": "import rlmodules.b\n", "core/b.py": "import rlmodules.a\n"}
    assert check_layers.main(["check", str(_tree(tmp_path, files))]) == 1
    assert "circles BROKEN" in capsys.readouterr().out


def test_a_module_placed_in_no_layer_is_named(check_layers, tmp_path, capsys):
    files = {**CLEAN, "core/extra.py": "from rlmodules.errors import Error\n"}
    assert check_layers.main(["check", str(_tree(tmp_path, files))]) == 1
    assert ("module rlmodules.extra is in no layer of the layers contract"
            in capsys.readouterr().out)


def test_a_private_name_of_another_package_is_refused(check_layers, tmp_path, capsys):
    files = {**CLEAN, "algorithms/train.py": """\
        from rlmodules._json import read
        from rlmodules.specs import _hidden
        from ._helpers import helper
    """}
    assert check_layers.main(["check", str(_tree(tmp_path, files))]) == 1
    out = capsys.readouterr().out
    assert "rlmodules.algorithms.train imports rlmodules._json, private to rlmodules" in out
    assert "imports rlmodules.specs._hidden, private to rlmodules" in out
    assert "_helpers" not in out  # its own package's private module is fine
