"""Lazy package faces (PEP 562): a public name is imported from its submodule on first use.

Importing a package then stays cheap (no torch) and runs nothing; the first access of a
name imports the submodule that defines it and caches the value in the package. Sub-packages
named in ``subpackages`` are reachable the same way (``rlmodules.registry`` without an
``import rlmodules.registry``). Public so that plugin packages give their own faces the
same behaviour (every contrib package does).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, table: Mapping[str, str], public: Iterable[str], *,
    subpackages: Iterable[str] = (),
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose names map to submodules in ``table``
    and whose ``subpackages`` are imported as attributes on first access.

    Example (in a package's ``__init__.py``)::

        _LAZY = {"DefaultPPOTorchRLModule": "ppo"}
        __all__ = list(_LAZY)
        __getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
    """
    namespace = sys.modules[package].__dict__
    names = tuple(public)
    packages = frozenset(subpackages)

    def __getattr__(name: str) -> object:
        if name in packages:  # the import binds it in the package's namespace
            return importlib.import_module(f".{name}", package)
        submodule = table.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{submodule}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names) | packages)

    return __getattr__, __dir__
