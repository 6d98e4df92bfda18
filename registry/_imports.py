"""The one place where a name becomes an import, and the scope that forbids it.

Every ``"pkg.mod:Attr"`` string rlmodules follows (a spec's ``module_class``, an env or a
``policy_mapping_fn`` named in a config, a gymnasium ``"module:Env-v0"`` id) goes through
:func:`import_object` or the registry's ``get``. Code that reads a file (checkpoints,
recorded episodes, run directories, config files) does so inside :func:`untrusted_input`.
There, an import path resolves only to what a plugin registered (the registry checks that),
to an object the caller handed over (``trusted_objects``), or, with ``allow_import=True``, to
whatever it names. Whether its module happens to be imported already is no reason:
``subprocess``, ``os`` and ``builtins`` always are. Names written in the program itself
import as usual.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import re
from collections import namedtuple

from rlmodules.errors import ConfigError, UnknownNameError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from collections.abc import Iterable, Iterator
    from typing import Any

__all__ = [
    "ImportRefusedError", "check_import_allowed", "import_object", "import_path_of",
    "imports_allowed", "trusted_object", "untrusted_input",
]


class ImportRefusedError(UnknownNameError):
    """A name read from a file is neither registered nor handed over, and importing it
    was not allowed; its message names the file, the name and the ways to allow it."""

#: Compiled (and cached by ``re``) on first use: listing names never needs it.
_PATH = r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$"

#: How the caller of :func:`untrusted_input` lets a refused name through.
HOW_TO_ALLOW = (
    "register it with a plugin, hand the object over (trusted_objects=[...]), or pass "
    "allow_import=True (--allow-import on the command line) if you trust this file"
)

_Scope = namedtuple("_Scope", "source allow_import trusted")

#: ``None`` outside any untrusted input: names come from the program, imports are allowed.
_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "rlmodules_untrusted_source", default=None
)


def import_path_of(obj: Any) -> str | None:
    """``"module:qualname"`` of a class or function (how files name it), else ``None``."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    return f"{module}:{qualname}"


@contextlib.contextmanager
def untrusted_input(source: Any, *, allow_import: bool = False,
                    trusted_objects: Iterable[Any] = ()) -> Iterator[None]:
    """Resolve names read from ``source`` (a path, for messages) without importing code.

    Inside the block, an import path resolves only to what a plugin registered, or to one
    of ``trusted_objects`` (classes or functions the caller handed over, matched by their
    ``"module:qualname"``); ``allow_import=True`` (the caller trusts this file) lets it
    import anything. Nested blocks keep the outermost ``source`` for messages and the
    outer trusted objects, and take their own ``allow_import``.

    Example::

        with untrusted_input(path, trusted_objects=[MyModule]):
            spec = RLModuleSpec.from_dict(data)
            module = spec.build()   # "my_pkg:MyModule" is MyModule; "evil:Cls" is refused
    """
    outer = _scope.get()
    trusted = dict(outer.trusted) if outer else {}
    for obj in trusted_objects:
        path = import_path_of(obj)
        if path is None:
            raise ConfigError(
                f"trusted_objects holds {obj!r:.80}, which has no __module__ and __qualname__ "
                f"a file could name it by; hand over classes and functions"
            )
        trusted[path] = obj
    token = _scope.set(_Scope(outer.source if outer else str(source), bool(allow_import),
                              trusted))
    try:
        yield
    finally:
        _scope.reset(token)


def imports_allowed() -> bool:
    """Whether names resolved now may import any module (not inside
    :func:`untrusted_input`, or inside one with ``allow_import=True``)."""
    current = _scope.get()
    return current is None or current.allow_import


def trusted_object(path: str) -> Any:
    """The object handed over for ``path`` in the current scope (``KeyError`` if none)."""
    current = _scope.get()
    if current is None:
        raise KeyError(path)
    return current.trusted[path]


def check_import_allowed(module_name: str, *, what: str) -> None:
    """Raise :class:`ImportRefusedError` unless names resolved now may import
    ``module_name`` for ``what`` (see :func:`imports_allowed`)."""
    if not imports_allowed():
        raise refused(what, detail=f"it would import module {module_name!r}")


def refused(what: str, *, detail: str = "it is not registered") -> ImportRefusedError:
    """The error for a name read from a file that may not be followed."""
    current = _scope.get()
    source = current.source if current else "a file"
    return ImportRefusedError(
        f"{source}: {what} is refused: {detail}, and rlmodules never imports a name read "
        f"from a file; {HOW_TO_ALLOW}"
    )


def import_object(path: str, *, what: str, registered: bool = False) -> Any:
    """The object ``"pkg.mod:Attr.sub"`` names, importing ``pkg.mod`` where allowed.

    ``registered=True`` is for the targets installed plugins registered (and the discovery
    cache, checked against what is installed, repeats): they import wherever they are named.
    Otherwise, inside :func:`untrusted_input` without ``allow_import``, only an object handed
    over for exactly ``path`` is returned. Raises :class:`~rlmodules.UnknownNameError` for a
    malformed path, a refused or failed import, or a missing attribute.
    """
    if not isinstance(path, str) or not re.match(_PATH, path.strip()):
        raise UnknownNameError(
            f"{what} {path!r} must look like 'package.module:Attribute' (Python identifiers)"
        )
    path = path.strip()
    if not registered and not imports_allowed():
        try:
            return trusted_object(path)
        except KeyError:
            raise refused(f"{what} {path!r}") from None
    module_name, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownNameError(
            f"{what} {path!r}: cannot import {module_name!r} ({exc}); is the package that "
            f"provides it installed?"
        ) from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UnknownNameError(
                f"{what} {path!r}: module {module_name!r} has no attribute {attr!r}"
            ) from None
    return obj
