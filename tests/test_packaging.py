"""Wheels: what ships in them, and (slow) a non-editable install that runs the README."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRIB = ("rlmodules-lstm", "rlmodules-cnn", "rlmodules-mobilenet")
#: The module each contrib package registers (`rlmodules check` runs it on its own spaces).
CONTRIB_MODULES = ("lstm", "tiny_atari_cnn", "mobilenet_v2")


def _build_wheels(sources: list[Path], out: Path) -> list[Path]:
    """Wheels of ``sources`` built offline with this interpreter's setuptools."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(out), *map(str, sources)],
        check=True, capture_output=True, text=True, timeout=600,
    )
    return sorted(out.glob("*.whl"))


def test_the_wheel_ships_the_license_the_examples_and_every_package(tmp_path):
    (wheel,) = _build_wheels([ROOT], tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    info = "rlmodules-0.1.0.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    license_text = zipfile.ZipFile(wheel).read(f"{info}/licenses/LICENSE").decode()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata and "License-File: LICENSE" in metadata
    examples = {p.name for p in (ROOT / "examples").iterdir() if p.suffix in (".py", ".json")}
    assert {f"rlmodules/examples/{name}" for name in examples} <= names
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]
    for package in packages:
        assert f"{package.replace('.', '/')}/__init__.py" in names, package
    entry_points = zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
    assert "rlmodules.plugins.builtin" in entry_points and "[pytest11]" in entry_points


def test_each_contrib_package_ships_its_license():
    for package in CONTRIB:
        text = (ROOT / "contrib" / package / "LICENSE").read_text()
        assert text == (ROOT / "LICENSE").read_text(), package
        assert 'license-files = ["LICENSE"]' in (ROOT / "contrib" / package /
                                                 "pyproject.toml").read_text()


@pytest.mark.slow
def test_wheels_install_into_a_fresh_venv_and_run_the_readme(tmp_path):
    wheels = _build_wheels([ROOT, *(ROOT / "contrib" / p for p in CONTRIB)], tmp_path / "wheels")
    assert len(wheels) == 1 + len(CONTRIB)
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # Dependencies (torch, gymnasium, ...) come from this environment, appended after the
    # venv's own site-packages; nothing is downloaded and our packages come from the wheels.
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "_deps_from_test_env.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(  # --ignore-installed: this environment's editable installs are visible
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--disable-pip-version-check", "--no-index", "--no-deps", "--ignore-installed",
         *map(str, wheels)],
        check=True, capture_output=True, text=True, timeout=600,
    )
    work = tmp_path / "work"  # not the source tree: imports must find the installed wheels
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "RLMODULES"))}
    env["RLMODULES_CACHE_DIR"] = str(tmp_path / "cache")

    def run(*argv: str | Path) -> str:
        result = subprocess.run([str(a) for a in argv], cwd=work, env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    where = run(python, "-c", "import rlmodules, rlmodules_lstm; "
                "print(rlmodules.__file__, rlmodules_lstm.__file__)")
    assert all(path.startswith(site) for path in where.split()), where
    readme = (ROOT / "README.md").read_text().split("## Quick start\n", 1)[1]
    quick_start = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    run(python, "-c", quick_start)
    assert (work / "ppo-cartpole" / "rlmodule.json").is_file()
    rlmodules = venv / "bin" / "rlmodules"
    listed = run(rlmodules, "list", "module")
    for name in CONTRIB_MODULES:
        assert name in listed
        assert "FAIL" not in run(rlmodules, "check", name)
    run(rlmodules, "train", "--config", "stateless_cartpole_lstm", "--timesteps", "256",
        "--num-threads", "1", "--out", work / "run")
    assert (work / "run" / "checkpoint" / "algorithm_state.json").is_file()
