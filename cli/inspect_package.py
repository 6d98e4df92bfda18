"""``rlmodules inspect`` of a packaged policy (``rlmodules package``) or its Hub name.

Reads the checked ``rlmodules_package.json`` (contents, evaluation, requirements, the file
list) and describes the checkpoint inside as ``inspect`` describes any checkpoint;
``--verify`` checks every listed file against its size and checksum and names files the
list does not hold. A Hub name is downloaded (or found in the Hub cache) first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rlmodules.hub import local_folder
from rlmodules.policy_package import (
    file_problems,
    package_part,
    read_package_manifest,
    unlisted_files,
)

__all__ = ["describe_package", "print_package"]

Describe = Callable[..., dict[str, Any]]


def describe_package(path: str, describe: Describe, *, verify: bool) -> dict[str, Any]:
    """A packaged folder: its manifest's facts, its files (checked with ``verify``) and the
    description of the algorithm checkpoint inside (else of the module checkpoint)."""
    with local_folder(path) as (folder, source):
        manifest = read_package_manifest(folder)
        files = [{"file": name, "bytes": entry["bytes"]}
                 for name, entry in manifest["files"].items()]
        if verify:
            problems = file_problems(folder, manifest)
            for entry in files:
                entry["problem"] = problems[entry["file"]]
                entry["checksum_ok"] = entry["problem"] is None
        part = "algorithm" if manifest["contents"].get("algorithm") else "module"
        inner = describe(str(package_part(folder, manifest, part)), verify=verify)
        evaluation = manifest.get("evaluation") or {}
        return {
            "kind": "package",
            "path": str(folder.expanduser().absolute()),
            "source": source,
            "algorithm": manifest.get("algorithm"),
            "module": manifest.get("module_name"),
            "env": manifest.get("env"),
            "evaluation": {k: evaluation.get(k) for k in ("episodes", "mean", "std", "seeds")},
            "requirements": manifest.get("requirements"),
            "contents": manifest["contents"],
            "files": files,
            "unlisted_files": unlisted_files(folder, manifest),
            "checkpoint": inner,
        }


def print_package(info: dict[str, Any], print_checkpoint: Callable[[dict[str, Any]], None]
                  ) -> None:
    print(f"package      {info['source']}")
    if info["source"] != info["path"]:
        print(f"  folder     {info['path']}")
    ev = info["evaluation"]
    trained = f" ({info['algorithm']})" if info["algorithm"] else ""
    print(f"policy       {info['module']}{trained} on {info['env']}: return "
          f"{ev['mean']:.2f} ± {ev['std']:.2f} over {ev['episodes']} greedy episodes")
    needs = " ".join(f"{r['distribution']}=={r['version']}" if r["version"]
                     else r["distribution"] for r in info["requirements"])
    print(f"needs        {needs}")
    bad = [f for f in info["files"] if f.get("checksum_ok") is False]
    if any("checksum_ok" in f for f in info["files"]):
        status = f"{len(bad)} FAILED" if bad else "all checksums ok"
        print(f"files        {len(info['files'])} listed, {status}")
        for entry in bad:
            print(f"  FAILED     {entry['file']}: {entry['problem']}")
    else:
        print(f"files        {len(info['files'])} listed (--verify checks them)")
    for name in info["unlisted_files"]:
        print(f"  unlisted   {name} (not in the file list; never read)")
    print_checkpoint(info["checkpoint"])
