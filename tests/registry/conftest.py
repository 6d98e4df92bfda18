"""Real throwaway plugin distributions, pip-installed into a temporary folder.

The folder goes on ``PYTHONPATH`` of a fresh interpreter (``run_python``), so the shared
environment stays clean and each check sees a fresh process, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN_SOURCES = {
    # distribution: (version, entry-point name, {module file: source})
    "rlmodules-test-alpha": ("1.0", "alpha", {
        "rlt_alpha/__init__.py": "",
        "rlt_alpha/plugin.py": """
            import rlmodules

            @rlmodules.hookimpl
            def rlmodules_modules():
                return {"alpha_mlp": "rlt_alpha.impl:AlphaModule",
                        "shared": "rlt_alpha.impl:SharedA"}

            @rlmodules.hookimpl
            def rlmodules_distributions():
                return {"alpha_dist": "rlt_alpha.impl:AlphaDist"}

            @rlmodules.hookimpl
            def rlmodules_aliases():
                return {"module": {"old_alpha": "alpha_mlp"}}
        """,
        "rlt_alpha/impl.py": """
            class AlphaModule:
                '''The alpha test module.'''

            class SharedA:
                pass

            class AlphaDist:
                pass
        """,
    }),
    "rlmodules_test.beta": ("2.0", "beta", {
        "rlt_beta/__init__.py": "",
        "rlt_beta/plugin.py": """
            import rlmodules
            from rlmodules.registry import override

            @rlmodules.hookimpl
            def rlmodules_modules():
                return {"shared": "rlt_beta.impl:SharedB",
                        "ppo": override("rlt_beta.impl:BetaPPO")}
        """,
        "rlt_beta/impl.py": "class SharedB:\n    pass\n\nclass BetaPPO:\n    pass\n",
    }),
    # Loaded first (sorted by distribution): fails to import.
    "rlmodules-test-aaa-broken": ("0.1", "aaa_broken", {
        "rlt_aaa_broken/__init__.py": "",
        "rlt_aaa_broken/plugin.py": "import nonexistent_dependency_xyz\n",
    }),
    # Loaded between the good ones: returns invalid data.
    "rlmodules-test-mmm-invalid": ("0.1", "mmm_invalid", {
        "rlt_mmm_invalid/__init__.py": "",
        "rlt_mmm_invalid/plugin.py": """
            import rlmodules

            @rlmodules.hookimpl
            def rlmodules_modules():
                return ["not", "a", "mapping"]
        """,
    }),
    # Loaded last: one hook works, the next raises -> nothing of it may stay registered.
    "rlmodules-test-zzz-hook": ("0.1", "zzz_hook", {
        "rlt_zzz_hook/__init__.py": "",
        "rlt_zzz_hook/plugin.py": """
            import rlmodules

            @rlmodules.hookimpl
            def rlmodules_modules():
                return {"zzz_ok": "rlt_zzz_hook.plugin:rlmodules_modules"}

            @rlmodules.hookimpl
            def rlmodules_catalogs():
                raise RuntimeError("catalog table exploded")
        """,
    }),
    "rlmodules-test-gamma": ("3.0", "gamma", {
        "rlt_gamma/__init__.py": "",
        "rlt_gamma/plugin.py": """
            import rlmodules

            @rlmodules.hookimpl
            def rlmodules_modules():
                return {"gamma_net": "rlt_gamma.plugin:GammaNet"}

            class GammaNet:
                pass
        """,
    }),
    # Exits the interpreter when imported.
    "rlmodules-test-exits": ("0.1", "exits", {
        "rlt_exits/__init__.py": "",
        "rlt_exits/plugin.py": "import sys\nsys.exit(4)\n",
    }),
    # Registers fine, then breaks everywhere it decides or is resolved.
    "rlmodules-test-decides": ("0.1", "decides_badly", {
        "rlt_decides/__init__.py": "",
        "rlt_decides/plugin.py": """
            import rlmodules

            @rlmodules.hookimpl
            def rlmodules_modules():
                return {"dangling": "rlt_decides.nothing:Missing"}

            @rlmodules.hookimpl
            def rlmodules_catalogs():
                return {"not_catalog": "collections:OrderedDict"}

            @rlmodules.hookimpl
            def rlmodules_aliases():
                return {"module": {"loop_a": "loop_b", "loop_b": "loop_a"}}

            @rlmodules.hookimpl(tryfirst=True)
            def rlmodules_action_dist_cls(action_space):
                raise RuntimeError("decision exploded")
        """,
    }),
    # Its entry point names a module that does not exist (a typo in pyproject.toml).
    "rlmodules-test-misspelled": ("0.2", "misspelled", {
        "rlt_misspelled/__init__.py": "",
        "rlt_misspelled/plugin.py": "plugin = object()\n",
    }, "rlt_misspelled.missing:plugin"),
    # Declares a model_config key for the default modules.
    "rlmodules-test-keys": ("0.3", "rlt_keys", {
        "rlt_keys/__init__.py": "",
        "rlt_keys/plugin.py": """
            import rlmodules
            from rlmodules.registry import ConfigKey

            @rlmodules.hookimpl
            def rlmodules_config_keys():
                return {"use_gru": ConfigKey(type=bool, default=False, doc="a GRU encoder")}
        """,
    }),
}

#: Installed by the tests that need them, not for the whole session.
_ON_DEMAND = ("rlmodules-test-gamma", "rlmodules-test-exits", "rlmodules-test-decides",
              "rlmodules-test-misspelled", "rlmodules-test-keys")
#: Distributions installed for the whole session.
SESSION_DISTRIBUTIONS = [d for d in PLUGIN_SOURCES if d not in _ON_DEMAND]


def write_project(root: Path, dist: str) -> Path:
    version, ep_name, files, *value = PLUGIN_SOURCES[dist]
    project = root / dist
    package = next(iter(files)).split("/")[0]
    value = value[0] if value else f"{package}.plugin"  # an entry point's own value, if given
    for rel, source in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{dist}"
        version = "{version}"

        [project.entry-points.rlmodules]
        {ep_name} = "{value}"

        [tool.setuptools]
        packages = ["{package}"]
    """))
    return project


def pip_install(projects: list[Path], target: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps",
         "--no-index", "--disable-pip-version-check", "--target", str(target),
         *map(str, projects)],
        check=True, capture_output=True, text=True,
    )


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the test plugin distributions pip-installed into it."""
    sources = tmp_path_factory.mktemp("plugin-sources")
    site = tmp_path_factory.mktemp("plugin-site")
    pip_install([write_project(sources, d) for d in SESSION_DISTRIBUTIONS], site)
    return site


def _run_python(code: str, *, path: list[Path], cache_dir: Path, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON document as its last line."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RLMODULES_")}
    clean.update(PYTHONPATH=os.pathsep.join(map(str, path)), RLMODULES_CACHE_DIR=str(cache_dir))
    clean.update(env)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=clean, capture_output=True,
        text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="session")
def run_python():
    """``run_python(code, path=[...], cache_dir=..., **env)`` → the JSON the code printed."""
    return _run_python


@pytest.fixture
def install_plugin(tmp_path: Path):
    """``install_plugin(dist, target)``: build one test distribution and pip-install it."""

    def install(dist: str, target: Path) -> Path:
        pip_install([write_project(tmp_path / "sources", dist)], target)
        return target

    return install
