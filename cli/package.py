"""``rlmodules package RUN --out DIR``: a trained policy as a folder for the Hugging Face Hub;
and ``rlmodules eval`` of such a folder or its Hub name (``hf://org/name``).

Heavy imports (torch, gymnasium) happen when a command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rlmodules.errors import ConfigError

__all__ = ["register", "evaluate_package"]


def register(subparsers: Any) -> None:
    """Add the ``package`` command."""
    p = subparsers.add_parser(
        "package", help="package a trained policy for the Hugging Face Hub: checkpoints, "
        "evaluation, replay video, model card, checksummed file list",
        description="Write a self-contained folder from a `rlmodules train` run directory, "
        "an algorithm checkpoint or a module checkpoint: the checkpoints (and an ONNX export "
        "with rlmodules-onnx), a greedy evaluation on fresh env seeds, optionally a replay "
        "video, a model card (README.md) and rlmodules_package.json listing every file's "
        "checksum. Publish it with the Hub's CLI: hf upload ORG/NAME DIR.",
    )
    p.add_argument("source", type=Path, help="a run directory, an algorithm checkpoint or a "
                   "module checkpoint")
    p.add_argument("--out", type=Path, required=True, help="the folder to write (replaced if "
                   "it holds an earlier package)")
    p.add_argument("--episodes", type=int, default=10, help="evaluation episodes (default 10)")
    p.add_argument("--seed", type=int, default=None, help="env seed of the first evaluation "
                   "episode, then +1 per episode (default: a random one, recorded)")
    p.add_argument("--video", nargs="?", const="gif", choices=("gif", "mp4"), default=None,
                   help="record the first evaluation episode: gif (Pillow) or mp4 (needs "
                   "imageio-ffmpeg); both come with `pip install \"rlmodules[video]\"`")
    p.add_argument("--env", default=None, help="for a module checkpoint: the env it acts in "
                   "(a gymnasium id or 'pkg.mod:Name')")
    p.add_argument("--env-config", metavar="JSON", default=None,
                   help="for a module checkpoint: the env's settings as a JSON object")
    p.add_argument("--no-export", action="store_true",
                   help="leave out the ONNX export (written when rlmodules-onnx is installed)")
    p.add_argument("--repo-id", default=None, metavar="ORG/NAME",
                   help="the Hub repository you will upload to (used in the card's commands)")
    p.set_defaults(func=_package)


def _package(args: argparse.Namespace) -> int:
    from rlmodules.hub import parse_hub_path
    from rlmodules.sharing import package_policy

    if args.repo_id is not None:
        parse_hub_path(f"hf://{args.repo_id}")  # checked as the card's hf:// names will be
    packaged = package_policy(
        args.source, args.out, episodes=args.episodes, seed=args.seed, video=args.video,
        env=args.env, env_config=_json_object("--env-config", args.env_config),
        repo_id=args.repo_id, export=not args.no_export)
    manifest, evaluation = packaged.manifest, packaged.evaluation
    seeds = evaluation.seeds
    print(f"evaluated {manifest['module_name']} on {manifest['env']}: return "
          f"{evaluation.mean:.2f} ± {evaluation.std:.2f} over {len(seeds)} episodes "
          f"(seeds {seeds[0]}..{seeds[-1]})")
    if manifest["video"]:
        print(f"replay: {packaged.path / manifest['video']} ({len(evaluation.frames)} frames)")
    parts = ", ".join(f"{folder}/" for folder in manifest["contents"].values() if folder)
    print(f"packaged: {packaged.path} ({parts}, README.md; {len(manifest['files'])} files "
          f"checksummed)")
    for note in packaged.notes:
        print(f"note: {note}")
    print(f"publish with: hf upload {args.repo_id or 'ORG/NAME'} {packaged.path}")
    return 0


def _json_object(flag: str, text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{flag} must be a JSON object, got {text!r} ({exc})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{flag} must be a JSON object, got {text!r}")
    return value


# --- eval of a packaged policy ---------------------------------------------------------------
def evaluate_package(args: argparse.Namespace) -> int:
    """``rlmodules eval`` of a packaged folder or ``hf://org/name``: the module acts greedily
    on the package's recorded env seeds (or from ``--seed``), so the first ``--episodes``
    reproduce the model card's numbers."""
    from rlmodules import RLModule
    from rlmodules.algorithms.obs_normalization import ObservationNormalizer
    from rlmodules.hub import open_checkpoint
    from rlmodules.registry import untrusted_input
    from rlmodules.sharing import evaluate_policy, write_video

    if args.episodes < 1:
        raise ConfigError(f"--episodes must be a positive integer, got {args.episodes}")
    with open_checkpoint(args.checkpoint, "module") as opened:
        manifest, package = opened.manifest, opened.package
        if manifest is None or package is None:
            raise ConfigError(f"{args.checkpoint} is not a packaged policy")
        module = RLModule.from_checkpoint(opened.path)
        preprocess = None
        if manifest.get("observation_filter") == "MeanStdFilter":
            normalizer = ObservationNormalizer.from_checkpoint(
                package / manifest["contents"]["algorithm"])
            preprocess = None if normalizer is None else normalizer.normalize
        env, env_config = (args.env, {}) if args.env else (manifest["env"],
                                                           manifest["env_config"])
        start = manifest["evaluation"]["seeds"][0] if args.seed is None else args.seed
        seeds = list(range(start, start + args.episodes))
        with untrusted_input(opened.source):  # the env is named by a downloaded file
            result = evaluate_policy(module, env, env_config, seeds=seeds,
                                     record=args.gif is not None, preprocess=preprocess)
    if args.gif is not None:
        write_video(result.frames, args.gif, fps=result.fps or 30)
        print(f"recorded {len(result.frames)} frames: {args.gif}")
    mean_length = sum(result.lengths) / len(result.lengths)
    print(f"{opened.source} on {env}: return {result.mean:.2f} ± {result.std:.2f} over "
          f"{len(seeds)} episodes (seeds {seeds[0]}..{seeds[-1]}, mean length "
          f"{mean_length:.1f})")
    return 0

