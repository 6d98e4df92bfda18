"""``rlmodules list`` / ``info`` / ``doctor``: what is installed, what a name is, what is broken.

``list`` reads the registry without importing any contribution (never torch); ``doctor``
imports every registered target and asks every decision hook, to find what is broken.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from rlmodules import registry
from rlmodules.errors import RLModulesError, UnknownNameError, did_you_mean

__all__ = ["register"]

_COLUMNS = ("kind", "name", "plugin", "distribution", "version", "status")


def register(subparsers: Any) -> None:
    """Add the ``list``, ``info`` and ``doctor`` commands."""
    p = subparsers.add_parser("list", help="list registered modules, catalogs, distributions, "
                              "checkpoint formats and export formats")
    p.add_argument("kind", nargs="?", help=f"one of {', '.join(registry.KINDS)} (or a pattern)")
    p.add_argument("pattern", nargs="?", help="shell-style pattern, e.g. 'lstm*' or '*/ppo'")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_list)

    p = subparsers.add_parser("info", help="show what a registered name is and where it "
                              "comes from (imports it)")
    p.add_argument("name", help="a plain, qualified ('plugin/name') or import-path name")
    p.add_argument("--kind", choices=registry.KINDS, help="only look in this kind")
    p.set_defaults(func=_info)

    p = subparsers.add_parser("doctor", help="report broken plugins and name conflicts "
                              "(non-zero exit when something is broken)")
    p.set_defaults(func=_doctor)


def _reporting_warnings(run: Callable[[], Any]) -> Any:
    """Run ``run`` and print plugin warnings as one plain line each on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", registry.PluginWarning)
        result = run()
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    return result


def _kind_and_pattern(args: argparse.Namespace) -> tuple[str | None, str | None]:
    kind, pattern = args.kind, args.pattern
    if kind is None:
        return None, None
    singular = kind[:-1] if kind.endswith("s") and kind[:-1] in registry.KINDS else kind
    if singular in registry.KINDS:
        return singular, pattern
    if pattern is None:
        return None, kind  # `rlmodules list 'lstm*'`: a pattern over all kinds
    raise UnknownNameError(
        f"unknown kind {kind!r};{did_you_mean(kind, registry.KINDS)} expected one of "
        f"{', '.join(registry.KINDS)}"
    )


def _list(args: argparse.Namespace) -> int:
    kind, pattern = _kind_and_pattern(args)
    records = _reporting_warnings(lambda: registry.list(kind, pattern))
    if args.json:
        rows = [
            {**{c: getattr(r, c) for c in _COLUMNS}, "qualified_name": r.qualified_name,
             "target": r.target_path}
            for r in records
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not records:
        what = f"{kind} names" if kind else "names"
        print(f"no {what}" + (f" match {pattern!r}" if pattern else " are registered"))
        return 0
    _print_table([[getattr(r, c) or "-" for c in _COLUMNS] for r in records])
    return 0


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    header = [c.upper() for c in _COLUMNS]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())


def _info(args: argparse.Namespace) -> int:
    kinds = [args.kind] if args.kind else list(registry.KINDS)
    if "." in args.name and "/" not in args.name and ":" not in args.name:
        from rlmodules.config_keys import declared_keys

        rec = declared_keys().get(args.name)  # a config key's full name "plugin.key"
        if rec is not None:
            kinds, args.name = ["config_key"], rec.qualified_name
    found = []
    for kind in kinds:
        try:
            found.append((kind, registry.get(kind, args.name)))
        except UnknownNameError:
            continue
    if not found:
        registry.get(kinds[0], args.name)  # raises with did-you-mean and install hints
    for index, (kind, obj) in enumerate(found):
        if index:
            print()
        _print_info(kind, args.name, obj)
    return 0


def _print_info(kind: str, name: str, obj: Any) -> None:
    print(f"{kind}: {name}")
    if ":" not in name:
        rec = registry.record(kind, name)
        print(f"  qualified name: {rec.qualified_name}")
        origin = f"{rec.distribution} {rec.version}" if rec.distribution else "in-process"
        print(f"  provided by:    plugin {rec.plugin!r} ({origin})")
        print(f"  status:         {rec.status}")
    if isinstance(obj, registry.ConfigKey):
        _print_config_key(obj, registry.record(kind, name) if ":" not in name else None)
        return
    path = f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', '?')}"
    print(f"  target:         {path}")
    doc = inspect.getdoc(obj)
    if doc:
        print("\n" + "\n".join(f"  {line}" for line in doc.splitlines()))
    config_class = getattr(obj, "default_model_config_class", None)
    if config_class is not None:
        print(f"\n  model config: {config_class.__name__}")
        for field, default in _config_fields(config_class):
            print(f"    {field} = {default!r}")
        _print_plugin_keys()


def _print_config_key(key: Any, rec: Any) -> None:
    if rec is not None:
        print(f"  model_config key: {rec.plugin}.{rec.name} (or {rec.name!r} where unambiguous)")
    print(f"  type:           {key.type_name}")
    print(f"  default:        {key.default!r}")
    print(f"  doc:            {key.doc}")


def _print_plugin_keys() -> None:
    """The model_config keys installed plugins declare, which default modules accept."""
    from rlmodules.config_keys import declared_keys

    declared = declared_keys()
    if not declared:
        return
    print("\n  model config keys declared by plugins:")
    for full, rec in declared.items():
        key = registry.get("config_key", rec.qualified_name)
        origin = f"{rec.distribution} {rec.version}" if rec.distribution else "in-process"
        print(f"    {full}: {key.type_name} = {key.default!r}  ({origin}) {key.doc}")


def _config_fields(config_class: type) -> list[tuple[str, Any]]:
    """(name, default) of an attrs or dataclass config class."""
    import attrs

    if attrs.has(config_class):
        return [
            (f.name, f.default.factory() if isinstance(f.default, attrs.Factory)  # type: ignore[arg-type]  # attrs.Factory is a class at run time
             else f.default)
            for f in attrs.fields(config_class) if f.name != "plugin_keys"
        ]
    import dataclasses

    return [
        (f.name, f.default_factory() if f.default is dataclasses.MISSING
         and f.default_factory is not dataclasses.MISSING else f.default)
        for f in dataclasses.fields(config_class) if f.name != "plugin_keys"
    ]


def _doctor(args: argparse.Namespace) -> int:
    current = registry.current()
    with registry.isolated_registry(
        autoload=current.autoload, blocked=tuple(current.blocked), strict=False,
        use_cache=current.use_cache, cache_dir=current.cache_dir,
    ) as reg, warnings.catch_warnings():
        warnings.simplefilter("ignore", registry.PluginWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # aliases are checked below
        plugins = reg.plugins()
        problems = _unusable_names(reg)
        _ask_decision_hooks()  # failures land in reg.failures
    print(f"plugins loaded ({len(plugins)}):")
    for name, dist, version in plugins:
        print(f"  {name}  ({dist or 'in-process'} {version or ''})".rstrip())
    for info, why in reg.skipped:
        print(f"  {info.name}  ({info.distribution} {info.version}) skipped: {why}")
    for failure in reg.failures:
        origin = f"{failure.distribution} {failure.version}" if failure.distribution else "?"
        print(f"\nBROKEN plugin {failure.plugin!r} ({origin}), {failure.stage}: {failure.message}")
        print("\n".join(f"    {line}" for line in failure.traceback_tail.splitlines()))
        if failure.entry_point:
            print(f"  entry point: group 'rlmodules', name {failure.plugin!r}, value "
                  f"{failure.entry_point!r} (declared by {origin})")
        print(f"  fix: {_failure_fix(failure)}, or block it with "
              f"RLMODULES_BLOCK={failure.distribution or failure.plugin}")
    for rec, problem in problems:
        print(f"\nBROKEN {rec.kind} {rec.qualified_name!r} ({rec.distribution or 'in-process'}): "
              f"{problem}")
        print(f"  fix: reinstall or upgrade {rec.distribution or rec.plugin}, or block it with "
              f"RLMODULES_BLOCK={rec.distribution or rec.plugin}")
    conflicts = reg.conflicts()
    for (kind, name), recs in conflicts.items():
        choices = ", ".join(r.qualified_name for r in recs)
        print(f"\nCONFLICT: {kind} name {name!r} is provided by {choices}")
        print(f"  fix: use a qualified name (e.g. {recs[0].qualified_name!r}), or uninstall or "
              f"block one plugin (RLMODULES_BLOCK=<plugin>)")
    for rec in reg.records():
        if rec.status == "override":
            print(f"\nnote: {rec.kind} {rec.name!r} is overridden by plugin {rec.plugin!r}; the "
                  f"built-in stays available as 'rlmodules/{rec.name}'")
    cache = "disabled (RLMODULES_NO_CACHE)" if not reg.use_cache else reg.cache_dir
    print(f"\ndiscovery cache: {cache}")
    if reg.cache_problem:
        print(f"  note: a cache file was refused and rebuilt: {reg.cache_problem}")
    broken = len(reg.failures) + len(problems) + len(conflicts)
    print(f"{len(reg.failures) + len(problems)} broken plugin(s) or name(s), "
          f"{len(conflicts)} conflict(s)" if broken else "everything OK")
    return 1 if broken else 0


def _failure_fix(failure: Any) -> str:
    """What the author (or user) of a failed plugin should do, by what failed."""
    dist = failure.distribution or failure.plugin
    if failure.stage != "import" or not failure.entry_point:
        return f"reinstall or upgrade {dist}"
    module, _, attr = failure.entry_point.partition(":")
    table = f"the [project.entry-points.rlmodules] table of {dist}'s pyproject.toml"
    missing = failure.message.partition("No module named ")[2].strip("'")
    if failure.message.startswith("ModuleNotFoundError") and (
            module == missing or module.startswith(missing + ".")):
        return (f"module {missing!r} named by the entry point does not exist (misspelled?); "
                f"correct the value in {table} and reinstall {dist}")
    if failure.message.startswith("AttributeError") and attr:
        return (f"module {module!r} has no {attr!r} (misspelled?); correct the value in "
                f"{table} and reinstall {dist}")
    return (f"importing {module!r} raised (see the traceback above); install what it needs "
            f"or upgrade {dist}")


def _unusable_names(reg: Any) -> list[tuple[Any, str]]:
    """Registered names that cannot be used: an alias that loops or ends nowhere, a target
    that does not import, or one that is not what its kind needs (imports every target)."""
    problems = []
    for rec in reg.records():
        if rec.status == "conflict":
            continue  # reported as a conflict
        try:
            if rec.status == "alias":
                reg.record(rec.kind, rec.qualified_name)
                continue
            problem = _kind_problem(rec.kind, rec.qualified_name,
                                    reg.get(rec.kind, rec.qualified_name))
        except RLModulesError as exc:
            problem = str(exc)
        if problem:
            problems.append((rec, problem))
    return problems


def _kind_problem(kind: str, name: str, obj: Any) -> str | None:
    """Why ``obj``, registered as ``name``, is not what its kind needs (``None``: fine).
    Formats are checked by the resolvers that use them, which raise saying what is wrong."""
    from rlmodules.catalog import Catalog
    from rlmodules.checkpoint import resolve_format
    from rlmodules.distribution import Distribution
    from rlmodules.rl_module import RLModule

    if kind in ("checkpoint_format", "export_format"):
        resolve_format(name, kind)
        return None
    if kind == "config_key":
        ok = isinstance(obj, registry.ConfigKey)
        return None if ok else f"it points to {obj!r}, which is not a registry.ConfigKey"
    base = {"module": RLModule, "catalog": Catalog, "distribution": Distribution}.get(kind)
    if base is None or isinstance(obj, type) and issubclass(obj, base):
        return None  # a kind with no base class to check
    return f"it points to {obj!r}, which is not a {base.__name__} subclass"


def _ask_decision_hooks() -> None:
    """Ask every decision hook about common spaces, as building default modules would."""
    import gymnasium as gym
    import numpy as np
    from rlmodules.catalog import Catalog

    observations = [gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(3),
                    gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)]
    actions = [gym.spaces.Discrete(2), gym.spaces.Box(-1, 1, (2,)),
               gym.spaces.MultiDiscrete([2, 3])]
    for obs in observations:
        for act in actions:
            catalog = Catalog(observation_space=obs, action_space=act)
            for decide in (catalog.build_encoder, catalog.get_action_dist_cls):
                try:
                    decide()
                except RLModulesError:
                    pass  # no plugin supports the space: not a broken plugin
