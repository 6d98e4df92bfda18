"""The model card (``README.md``) of a packaged policy, in the Hugging Face Hub's format.

YAML front matter the Hub indexes (``library_name``, ``tags``, and ``model-index`` with the
evaluated ``mean_reward`` as ``"mean +/- std"`` and the env as the dataset, as RL Zoo and
huggingface_sb3 write it, so the Hub's leaderboards read it), then what a reader needs:
the replay, the evaluation, the exact install line, how to load, evaluate and resume, the
env and its kwargs, every hyper-parameter, and how to verify the files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["card_metadata", "model_card"]

PLACEHOLDER_REPO = "YOUR_NAME/{name}"


def card_metadata(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The card's front matter as data (what ``huggingface_hub.ModelCard`` parses back)."""
    env, algorithm = manifest["env"] or "custom-env", manifest["algorithm"]
    evaluation = manifest["evaluation"]
    tags = ["reinforcement-learning", "deep-reinforcement-learning", "rlmodules", env]
    tags += [algorithm.lower()] if algorithm else []
    tags += [manifest["module_name"]] if manifest["module_name"] not in tags else []
    return {
        "library_name": "rlmodules",
        "tags": list(dict.fromkeys(tags)),
        "model-index": [{
            "name": algorithm or manifest["module_name"],
            "results": [{
                "task": {"type": "reinforcement-learning", "name": "reinforcement-learning"},
                "dataset": {"name": env, "type": env},
                "metrics": [{
                    "type": "mean_reward",
                    "value": f"{evaluation['mean']:.2f} +/- {evaluation['std']:.2f}",
                    "name": "mean_reward",
                    "verified": False,
                }],
            }],
        }],
    }


def model_card(manifest: Mapping[str, Any], *, hyperparameters: Mapping[str, Any] | None,
               install: str, repo_id: str | None) -> str:
    """The whole ``README.md``: front matter and body."""
    name = repo_id or PLACEHOLDER_REPO.format(name=default_repo_name(manifest))
    sections = [
        _title(manifest),
        _replay(manifest.get("video")),
        _evaluation(manifest, name),
        _usage(manifest, install, name, named=repo_id is not None),
        _training(manifest),
        _hyperparameters(hyperparameters),
        _files(manifest, name),
    ]
    body = "\n".join(section for section in sections if section)
    return f"---\n{_yaml(card_metadata(manifest))}---\n\n{body}"


def default_repo_name(manifest: Mapping[str, Any]) -> str:
    """``ppo-CartPole-v1``: RL Zoo's naming, the algorithm (or module) and the env."""
    prefix = (manifest["algorithm"] or manifest["module_name"]).lower()
    env = (manifest["env"] or "env").replace("/", "-").replace(":", "-")
    return f"{prefix}-{env}"


# --- sections -------------------------------------------------------------------------------
def _title(manifest: Mapping[str, Any]) -> str:
    env, algorithm, module = manifest["env"], manifest["algorithm"], manifest["module_name"]
    agent = f"**{algorithm}** agent" if algorithm else f"**{module}** policy"
    trained = f"trained with rlmodules' reference {algorithm}" if algorithm else "packaged"
    return (f"# {agent} playing **{env}**\n\n"
            f"A `{module}` module {trained} on `{env}`, packaged with "
            f"`rlmodules package`: a safe checkpoint (JSON and safetensors, nothing "
            f"pickled or executed on load) with checksums for every file.\n")


def _replay(video: str | None) -> str:
    if not video:
        return ""
    if video.endswith(".mp4"):
        return f'<video src="{video}" controls autoplay loop muted></video>\n'
    return f"![A greedy episode]({video})\n"


def _evaluation(manifest: Mapping[str, Any], name: str) -> str:
    ev = manifest["evaluation"]
    seeds = ev["seeds"]
    seed_text = str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]} to {seeds[-1]}"
    mean_length = sum(ev["lengths"]) / len(ev["lengths"])
    lines = [
        "## Evaluation\n",
        f"Mean return **{ev['mean']:.2f} ± {ev['std']:.2f}** over {ev['episodes']} episodes "
        f"with greedy actions, one env seed per episode ({seed_text}); returns from "
        f"{min(ev['returns']):.2f} to {max(ev['returns']):.2f}, mean length "
        f"{mean_length:.1f} steps. Evaluated with rlmodules {manifest['rlmodules_version']}.",
    ]
    if manifest.get("video"):
        frames = ev.get("recorded_frames")
        part = "" if frames is None or frames > ev["lengths"][0] \
            else f", its first {frames - 1} steps"
        lines[-1] += f" The replay is the first of these episodes (seed {seeds[0]}{part})."
    lines.append(f"\nThe same episodes again: `rlmodules eval hf://{name} "
                 f"--episodes {ev['episodes']}` (they use the recorded seeds).\n")
    return "\n".join(lines)


def _usage(manifest: Mapping[str, Any], install: str, name: str, *, named: bool) -> str:
    hub = f"hf://{name}"
    out = ["## Usage\n"]
    if not named:
        out.append(f"Replace `{name}` with the repository you uploaded this folder to.\n")
    out += ["```bash", install, f"rlmodules eval {hub} --episodes 10",
            f"rlmodules inspect --verify {hub}", "```\n", "```python",
            "import gymnasium as gym", "from rlmodules import RLModule, compute_actions", "",
            f'module = RLModule.from_checkpoint("{hub}")  # or "{hub}@<commit or tag>"']
    out += _acting_lines(manifest)
    out.append("```\n")
    if manifest["contents"].get("algorithm"):
        out += ["Continue training (the optimizer state, counters and RNG states are in "
                "`checkpoint/`):\n", "```python", "from rlmodules.algorithms import Algorithm",
                "", f'algo = Algorithm.from_checkpoint("{hub}")', "result = algo.train()",
                "```\n"]
        if manifest.get("run"):
            out += ["or as a `rlmodules train` run:\n", "```bash",
                    f"hf download {name} --local-dir my-run",
                    f"rlmodules train --resume my-run --timesteps {_more_steps(manifest)}",
                    "```\n"]
    return "\n".join(out)


def _more_steps(manifest: Mapping[str, Any]) -> int:
    """Twice the steps trained so far (at least 100k): a sensible budget to resume with."""
    return max(2 * int((manifest.get("training") or {}).get("timesteps") or 0), 100_000)


def _acting_lines(manifest: Mapping[str, Any]) -> list[str]:
    lines = []
    env = manifest["env"]
    if env and ":" not in env:
        lines.append(f'env = gym.make("{env}"'
                     + "".join(f", {k}={v!r}" for k, v in manifest["env_config"].items()) + ")")
    else:
        lines.append(f"env = ...  # {env} with env_config {manifest['env_config']}")
    lines += ["obs, _ = env.reset(seed=0)"]
    if manifest.get("stateful"):
        lines += ["state = {k: v[None] for k, v in module.get_initial_state().items()}",
                  'out = compute_actions(module, {"obs": obs[None], "state_in": state}, '
                  "for_env=True)",
                  'state = out["state_out"]  # feed into the next step']
    else:
        lines.append('out = compute_actions(module, {"obs": obs[None]}, for_env=True)')
    lines.append('obs, reward, terminated, truncated, _ = env.step(out["actions_for_env"][0])')
    if manifest.get("observation_filter") == "MeanStdFilter":
        lines.insert(0, "# Trained with observation_filter='MeanStdFilter': the module expects "
                        "normalised observations;\n# Algorithm.from_checkpoint (or the ONNX "
                        "export, where it has the statistics) applies them.")
    return lines


def _training(manifest: Mapping[str, Any]) -> str:
    training = manifest.get("training") or {}
    rows = [("Algorithm", manifest["algorithm"] or "-"),
            ("Module", f"`{manifest['module_name']}`"),
            ("Environment", f"`{manifest['env']}`"),
            ("Env kwargs", f"`{json.dumps(manifest['env_config'], sort_keys=True)}`")]
    if manifest.get("observation_filter"):
        rows.append(("Observation filter", manifest["observation_filter"]))
    rows += [(label, f"{training[key]:,}") for label, key in (
        ("Env steps", "timesteps"), ("Iterations", "iteration"), ("Episodes", "episodes"))
        if isinstance(training.get(key), int)]
    if isinstance(training.get("time_total_s"), (int, float)):
        rows.append(("Training time", f"{training['time_total_s']:.0f} s"))
    table = "\n".join(f"| {label} | {value} |" for label, value in rows)
    curve = manifest.get("learning_curve")
    shown = f"\n![Learning curve]({curve})\n" if curve else ""
    return f"## Training\n\n| | |\n| --- | --- |\n{table}\n{shown}"


#: The order hyper-parameter sections are shown in (others follow, sorted).
_SECTIONS = ("training", "rl_module_spec", "model_config", "env_runners", "evaluation",
             "learners", "seed")


def _hyperparameters(hyperparameters: Mapping[str, Any] | None) -> str:
    """Every setting, one line each (YAML whose values are JSON), as the config holds it."""
    if not hyperparameters:
        return ""
    order = sorted(hyperparameters, key=lambda k: (_SECTIONS + (k,)).index(k))
    lines = []
    for section in order:
        value = hyperparameters[section]
        if isinstance(value, Mapping):
            lines.append(f"{section}:")
            lines += [f"  {key}: {json.dumps(value[key])}" for key in sorted(value)]
        else:
            lines.append(f"{section}: {json.dumps(value)}")
    text = "\n".join(lines)
    return f"## Hyper-parameters\n\n```yaml\n{text}\n```\n"


def _files(manifest: Mapping[str, Any], name: str) -> str:
    what = {"module": "the module checkpoint (`RLModule.from_checkpoint`)",
            "algorithm": "the algorithm checkpoint (`Algorithm.from_checkpoint`, resume)",
            "export": "the ONNX export (`rlmodules_onnx.OnnxPolicy`, no torch needed)"}
    rows = [f"| `{folder}/` | {what[part]} |"
            for part, folder in manifest["contents"].items() if folder]
    return ("## Files\n\n| | |\n| --- | --- |\n" + "\n".join(rows)
            + f"\n\n`rlmodules_package.json` lists every file with its size and checksum; "
              f"loading verifies them all, and so does `rlmodules inspect --verify "
              f"hf://{name}` (or the folder). This folder was written by `rlmodules package` "
              f"and uploaded with the Hub's CLI, `hf upload {name} FOLDER`.\n")


# --- YAML -----------------------------------------------------------------------------------
def _yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML of plain data; strings are written as JSON strings (valid YAML,
    escaped), so no value can break the front matter."""
    pad = " " * indent
    lines = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, (Mapping, list)) and item:
                lines.append(f"{pad}{key}:\n{_yaml(item, indent + 2)}")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}\n")
    else:
        for item in value:
            text = _yaml(item, indent + 2) if isinstance(item, (Mapping, list)) \
                else f"{pad}  {_scalar(item)}\n"
            lines.append(f"{pad}- {text[indent + 2:]}")
    return "".join(lines)


def _scalar(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, str) and value.replace("-", "").replace("_", "").isalnum() \
            and not value[0].isdigit() and value.lower() not in ("true", "false", "null", "yes",
                                                                  "no", "on", "off"):
        return value
    return json.dumps(value)
