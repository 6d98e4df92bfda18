"""The one place where a name becomes an import, and the switch that forbids it.

Every ``"pkg.mod:Attr"`` string rlmodules follows (a spec's ``module_class``, an env or a
``policy_mapping_fn`` named in a config, a gymnasium ``"module:Env-v0"`` id) goes through
:func:`import_object` or :func:`check_import_allowed`. Code that reads a file (checkpoints,
recorded episodes, run directories) does so inside :func:`untrusted_input`; there, only
modules the program has already imported (and rlmodules' own) can be named, unless the caller
opted in with ``allow_import=True``. Names written in the program itself import as usual.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import re
import sys

from rlmodules.errors import UnknownNameError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from collections.abc import Iterator
    from typing import Any

__all__ = [
    "ImportRefusedError", "check_import_allowed", "import_object", "imports_allowed",
    "untrusted_input",
]


class ImportRefusedError(UnknownNameError):
    """A name read from a file would import a module; its message names the file."""

#: Compiled (and cached by ``re``) on first use: listing names never needs it.
_PATH = r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$"

#: ``None`` outside any untrusted input: names come from the program, imports are allowed.
_source: contextvars.ContextVar[tuple[str, bool] | None] = contextvars.ContextVar(
    "rlmodules_untrusted_source", default=None
)


@contextlib.contextmanager
def untrusted_input(source: Any, *, allow_import: bool = False) -> Iterator[None]:
    """Resolve names read from ``source`` (a path, for messages) without importing code.

    Inside the block, :func:`import_object` refuses modules that are not imported yet,
    unless ``allow_import`` is true (the caller trusts this file). Nested blocks keep the
    outermost ``source`` for messages and take their own ``allow_import``.

    Example::

        with untrusted_input(path, allow_import=False):
            spec = RLModuleSpec.from_dict(data)
            module = spec.build()         # "evil:Cls" in data is refused, never imported
    """
    outer = _source.get()
    token = _source.set((outer[0] if outer else str(source), bool(allow_import)))
    try:
        yield
    finally:
        _source.reset(token)


def imports_allowed() -> bool:
    """Whether names resolved now may import new modules."""
    current = _source.get()
    return current is None or current[1]


def check_import_allowed(module_name: str, *, what: str) -> None:
    """Raise :class:`~rlmodules.UnknownNameError` if importing ``module_name`` for
    ``what`` is not allowed here (a name read from a file, no opt-in, not imported yet)."""
    current = _source.get()
    if current is None or current[1] or module_name in sys.modules:
        return
    if module_name == "rlmodules" or module_name.startswith("rlmodules."):
        return  # the library's own modules: importing them runs nothing a file chose
    raise ImportRefusedError(
        f"{current[0]}: {what} names module {module_name!r}, which this program has not "
        f"imported; names read from a file are never imported. Import {module_name!r} "
        f"yourself first, register what it provides with a plugin, or pass "
        f"allow_import=True if you trust this file"
    )


def import_object(path: str, *, what: str, registered: bool = False) -> Any:
    """The object ``"pkg.mod:Attr.sub"`` names, importing ``pkg.mod`` where allowed.

    ``registered=True`` is for the targets installed plugins registered (and the discovery
    cache, checked against what is installed, repeats): they import wherever they are named.
    Raises :class:`~rlmodules.UnknownNameError` for a malformed path, a refused or failed
    import, or a missing attribute.
    """
    if not isinstance(path, str) or not re.match(_PATH, path.strip()):
        raise UnknownNameError(
            f"{what} {path!r} must look like 'package.module:Attribute' (Python identifiers)"
        )
    module_name, _, attr = path.strip().partition(":")
    if not registered:
        check_import_allowed(module_name, what=f"{what} {path!r}")
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
