"""The ``rlmodules_registry`` pytest fixture: a fresh registry per test.

Installed plugins are discovered as usual; whatever a test registers in-process is gone
after it. Example::

    def test_my_module(rlmodules_registry):
        rlmodules_registry.register_plugin(MyPlugin())
        assert rlmodules_registry.get("module", "mine") is MyModule
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import Registry, isolated_registry

__all__ = ["rlmodules_registry"]


@pytest.fixture
def rlmodules_registry() -> Iterator[Registry]:
    """A fresh process-wide registry for one test (``rlmodules.registry.isolated_registry``)."""
    with isolated_registry() as registry:
        yield registry
