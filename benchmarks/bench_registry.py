"""Registry start-up and resolution cost, against plain ``entry_points(group=...)``.

Builds synthetic installed distributions (``*.dist-info`` folders) in a temporary folder put
on ``PYTHONPATH``: ~200 and ~2,000 of them, 50 carrying an ``rlmodules`` plugin with five
lazy names each. For each size it times fresh interpreters (best of several, interleaved):
``python -c pass``, plain ``importlib_metadata.entry_points(group="rlmodules")``, and
``rlmodules.registry.list()`` with a cold and a warm discovery cache. Then it times warm name
resolution per call against a plain dict lookup, in this process.

Run: ``python benchmarks/bench_registry.py``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import timeit
from pathlib import Path

PLUGINS = 50
RUNS = 9

PLUGIN_SOURCE = textwrap.dedent("""
    import rlmodules

    @rlmodules.hookimpl
    def rlmodules_modules():
        return {{f"synth_{index}_{{n}}": f"synth_plugin_{index}.impl:Net{{n}}"
                for n in range(5)}}
""")

SNIPPETS = {
    "python -c pass": "pass",
    "entry_points(group=...)": "import importlib_metadata as m; m.entry_points(group='rlmodules')",
    "registry.list(), cold cache": "from rlmodules import registry; registry.list()",
    "registry.list(), warm cache": "from rlmodules import registry; registry.list()",
}


def make_site(root: Path, distributions: int) -> Path:
    site = root / f"site-{distributions}"
    site.mkdir()
    for index in range(distributions):
        info = site / f"synth_dist_{index}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: synth-dist-{index}\nVersion: 1.0\n")
        if index < PLUGINS:
            (info / "entry_points.txt").write_text(
                f"[rlmodules]\nsynth_{index} = synth_plugin_{index}\n")
            # Targets inside the plugin's own package: the discovery cache vouches for them.
            package = site / f"synth_plugin_{index}"
            package.mkdir()
            (package / "__init__.py").write_text(PLUGIN_SOURCE.format(index=index))
    return site


def fresh_process_ms(code: str, env: dict[str, str]) -> float:
    import time

    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return (time.perf_counter() - start) * 1000


def bench_start_up(root: Path, distributions: int) -> None:
    site = make_site(root, distributions)
    # As a user runs it: with bytecode caching on (stdlib modules always have theirs), so
    # the comparison measures imports and discovery, not recompiling our sources.
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("RLMODULES_") and k != "PYTHONDONTWRITEBYTECODE"}
    base.update(PYTHONPATH=str(site), PYTHONWARNINGS="ignore")
    warm_cache = root / f"warm-{distributions}"
    subprocess.run([sys.executable, "-c", SNIPPETS["registry.list(), warm cache"]],
                   env={**base, "RLMODULES_CACHE_DIR": str(warm_cache)}, check=True)
    best = dict.fromkeys(SNIPPETS, float("inf"))
    for run in range(RUNS):
        for label, code in SNIPPETS.items():
            cache = warm_cache if "warm" in label else root / f"cold-{distributions}-{run}"
            elapsed = fresh_process_ms(code, {**base, "RLMODULES_CACHE_DIR": str(cache)})
            best[label] = min(best[label], elapsed)
    plain = best["entry_points(group=...)"]
    print(f"\n{distributions} installed distributions, {PLUGINS} plugins "
          f"(fresh process, best of {RUNS}):")
    for label, ms in best.items():
        added = ms - best["python -c pass"]
        print(f"  {label:30s} {ms:7.1f} ms   +{added:6.1f} ms over start   "
              f"{ms / plain:5.2f}x plain entry_points")


def bench_resolution() -> None:
    from rlmodules import hookimpl, registry

    class Plugin:
        @hookimpl
        def rlmodules_modules(self):
            return {"bench_net": "json:JSONDecoder"}  # a lazy target, imported once

    with registry.isolated_registry(autoload=False, use_cache=False):
        registry.register_plugin(Plugin(), name="bench")
        registry.get("module", "bench_net")
        calls = 200_000
        per_call = min(timeit.repeat(lambda: registry.get("module", "bench_net"), number=calls,
                                     repeat=5)) / calls
        table = {("module", "bench_net"): Plugin}
        per_dict = min(timeit.repeat(lambda: table[("module", "bench_net")], number=calls,
                                     repeat=5)) / calls
    print(f"\nwarm resolution registry.get('module', name): {per_call * 1e6:.3f} us per call "
          f"({per_call / per_dict:.2f}x a plain dict lookup through a lambda, "
          f"{per_dict * 1e6:.3f} us)")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for distributions in (200, 2000):
            bench_start_up(Path(tmp), distributions)
    bench_resolution()


if __name__ == "__main__":
    main()
