"""An attacker's tools for the trust tests: a canary module and command, the names a file
may use to reach code, and re-signing a JSON file after editing it.

The canary module leaves a marker file when imported; the canary command (``touch``) one
when run. Every name form below is one a checkpoint, run, config file or recording might
hold in a field that names code: plain dangerous callables, the canary, attribute paths
behind harmless or registered modules, and gymnasium's ``module:Env-v0`` form.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from rlmodules.checkpoint import write_json_file

CANARY = "rlmodules_canary_xyz"

#: What an attacker names first: callables that run commands or code, and the canary.
DANGEROUS = ("subprocess:Popen", "os:system", "builtins:eval", "importlib:import_module",
             f"{CANARY}:Evil", f"{CANARY}:run")
#: The same reached through attributes: of a harmless or of a registered module, of a
#: registered class, and gymnasium's own helpers.
ATTRIBUTE_PATHS = (
    "rlmodules.envs:subprocess.Popen", "rlmodules.cli.train:os.system", "gymnasium:make",
    "rlmodules.envs.multi_agent_cartpole:gym.make", "os:path.join",
    "rlmodules.plugins.ppo:DefaultPPOTorchRLModule.__init__",
    "rlmodules.multi_rl_module:MultiRLModule.from_checkpoint",
    "rlmodules.envs:MultiAgentCartPole.reset", f"{CANARY}:Evil.run",
)
#: Gymnasium's form, which makes ``gym.make`` import ``module``.
GYM_FORMS = (f"{CANARY}:CartPole-v1", f"{CANARY}:Foo-v0", "subprocess:Popen-v0")
FORMS = (*DANGEROUS, *ATTRIBUTE_PATHS, *GYM_FORMS)

_MODULES = ("subprocess", "os", "builtins", "importlib", CANARY, "rlmodules", "rlmodules.envs",
            "rlmodules.plugins.ppo", "rlmodules.multi_rl_module", "gymnasium", "torch")
_ATTRS = ("Popen", "system", "eval", "exec", "import_module", "Evil", "run", "subprocess",
          "os", "MultiAgentCartPole", "DefaultPPOTorchRLModule", "MultiRLModule", "make",
          "load", "__init__", "__class__", "__globals__")


def name_forms() -> st.SearchStrategy[str]:
    """Every listed form, and generated ``module:attr.attr`` paths of the same parts."""
    generated = st.builds(
        lambda module, attrs: f"{module}:{'.'.join(attrs)}",
        st.sampled_from(_MODULES), st.lists(st.sampled_from(_ATTRS), min_size=1, max_size=3))
    return st.one_of(st.sampled_from(FORMS), generated)


class Canary:
    """The canary module (``CANARY``) on ``sys.path`` and the canary command."""

    def __init__(self, root: Path) -> None:
        self.site = root / "canary-site"
        self.site.mkdir()
        self.imported = root / "canary-imported"
        self.ran = root / "canary-ran"
        self.command = ["touch", str(self.ran)]
        (self.site / f"{CANARY}.py").write_text(textwrap.dedent(f"""
            open({str(self.imported)!r}, "w").close()

            class Evil:
                def run(self, *args, **kwargs):
                    open({str(self.ran)!r}, "w").close()

            def run(*args, **kwargs):
                open({str(self.ran)!r}, "w").close()
        """))

    def check(self, *why: Any) -> None:
        """Fail if the canary module was imported or its command ran."""
        assert not self.imported.exists() and CANARY not in sys.modules, ("imported", why)
        assert not self.ran.exists(), ("ran", why)

    def check_finally(self) -> None:
        """:meth:`check` after a command started by ``Popen`` would have had time to run."""
        time.sleep(0.5)
        self.check("at the end")


def install_canary(tmp_path: Path, monkeypatch: Any) -> Canary:
    canary = Canary(tmp_path)
    monkeypatch.syspath_prepend(str(canary.site))
    monkeypatch.delitem(sys.modules, CANARY, raising=False)
    return canary


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def edited(data: Any, keys: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``data`` with the value at ``keys`` replaced."""
    copy = json.loads(json.dumps(data))
    node = copy
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return copy


def write_signed(path: Path, data: Any) -> None:
    """Write ``data`` with a valid checksum, as an attacker who read the format would."""
    write_json_file(path, data)


def class_ref_fields(node: Any, prefix: tuple[Any, ...] = ("module",)
                     ) -> list[tuple[Any, ...]]:
    """The key path of every class reference in a module checkpoint's metadata node."""
    fields = [(*prefix, "module_class"), (*prefix, "catalog_class")]
    for phase in (node.get("action_distributions") or {}):
        fields.append((*prefix, "action_distributions", phase))
    for module_id, child in (node.get("components") or {}).items():
        fields.extend(class_ref_fields(child, (*prefix, "components", module_id)))
    return fields


def spec_fields(spec: Any, prefix: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The key path of every class name in an algorithm config's module spec."""
    fields = [(*prefix, f) for f in ("module_class", "catalog_class", "multi_rl_module_class")]
    subs = spec.get("rl_module_specs")
    if isinstance(subs, dict):
        if "module_class" in subs:
            fields.extend(spec_fields(subs, (*prefix, "rl_module_specs")))
        else:
            for module_id, sub in subs.items():
                fields.extend(spec_fields(sub, (*prefix, "rl_module_specs", module_id)))
    return fields


def algorithm_fields(state: Any) -> list[tuple[Any, ...]]:
    """The key path of every field of ``algorithm_state.json`` that names code."""
    fields = [("algorithm_class",), ("config", "config_class"), ("config", "env"),
              ("config", "policy_mapping_fn"), ("config", "rl_module_spec", "kind")]
    spec = (state["config"].get("rl_module_spec") or {}).get("spec")
    if isinstance(spec, dict):
        fields.extend(spec_fields(spec, ("config", "rl_module_spec", "spec")))
    return fields
