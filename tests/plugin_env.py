"""A fresh Python environment to install plugins into, as a user would (non-editable).

The environment sees this project's installed packages (torch, gymnasium, rlmodules) through
a ``.pth`` file, so nothing is downloaded; what a test installs (``pip install --no-deps
--no-build-isolation``) goes into the fresh environment only, and ``pip uninstall`` removes
it from there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

HERE = Path(__file__).parent / "plugin_author"


class PluginEnv:
    def __init__(self, root: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "env")],
                       check=True)
        self.python = root / "env" / "bin" / "python"
        site = subprocess.run([str(self.python), "-c", "import sysconfig; print("
                               "sysconfig.get_paths()['purelib'])"], check=True,
                              capture_output=True, text=True).stdout.strip()
        base = sysconfig.get_paths()["purelib"]
        Path(site, "_project_env.pth").write_text(f"import site; site.addsitedir({base!r})\n")
        self.root = root
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("RLMODULES_", "PYTHON"))}
        self.env["RLMODULES_CACHE_DIR"] = str(root / "cache")

    def install(self, *sources: Path) -> None:
        """Build and install each package folder from a copy (its folder stays clean)."""
        copies = []
        for source in sources:
            copy = self.root / "src" / source.name
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("build", "*.egg-info"))
            copies.append(str(copy))
        self.run("-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                 "--disable-pip-version-check", *copies)

    def run(self, *args: str, cwd: Path | None = None, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(self.python), *args], env=self.env, cwd=cwd or self.root,
                              capture_output=True, text=True, timeout=600)
        if check and done.returncode != 0:
            raise AssertionError(f"{args} failed ({done.returncode}):\n{done.stdout}\n"
                                 f"{done.stderr}")
        return done

    def script(self, code: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("-c", textwrap.dedent(code), check=check)
