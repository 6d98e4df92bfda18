"""The rlmodules pytest plugin (entry point ``pytest11``), loaded in every pytest run.

It stays import-light (no torch): it adds the ``rlmodules_conformance`` marker, the
``rlmodules_conformance_case`` fixture, parametrised over every registered module name
(filtered by the marker) across the spaces each module declares, and the
``rlmodules_registry`` fixture: a fresh registry per test, for tests that register plugins
in-process.

Example (a plugin package's own tests)::

    import pytest

    @pytest.mark.rlmodules_conformance(distribution="rlmodules-lstm")
    def test_conformance(rlmodules_conformance_case):
        rlmodules_conformance_case.check()
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rlmodules import registry

from .errors import CheckSkipped

_FIXTURE = "rlmodules_conformance_case"
_MARKER = "rlmodules_conformance"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(names=None, distribution=None, plugin=None): which registered module "
        f"names the {_FIXTURE} fixture runs the conformance kit over (default: all)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if _FIXTURE not in metafunc.fixturenames:
        return
    from .cases import conformance_cases  # gymnasium: only where the fixture is used

    marker = metafunc.definition.get_closest_marker(_MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    if marker and marker.args:
        options["names"] = list(marker.args)
    try:
        cases = conformance_cases(**options)
    except LookupError as exc:  # a filter that matches nothing fails, never passes empty
        metafunc.parametrize(_FIXTURE, [_NoCases(str(exc))], ids=["no-matching-modules"],
                             indirect=True)
        return
    metafunc.parametrize(_FIXTURE, cases, ids=[case.id for case in cases], indirect=True)


class _NoCases:
    """The one parameter of a conformance test whose marker selects no module."""

    def __init__(self, message: str) -> None:
        self.message = message


class _PytestCase:
    """A :class:`ConformanceCase` whose ``check()`` turns a rejected space case into a skip."""

    def __init__(self, case: Any) -> None:
        self.case = case
        self.name = case.name
        self.space_case = case.space_case

    def check(self, **kwargs: Any) -> Any:
        try:
            return self.case.check(**kwargs)
        except CheckSkipped as exc:
            pytest.skip(str(exc))


@pytest.fixture
def rlmodules_conformance_case(request: pytest.FixtureRequest) -> _PytestCase:
    """One registered module name on one space case; call ``.check()`` to run the kit."""
    if not hasattr(request, "param"):
        pytest.fail(
            f"{_FIXTURE} is parametrised by the rlmodules pytest plugin; do not override its "
            f"parametrisation (use @pytest.mark.{_MARKER}(...) to choose names)"
        )
    if isinstance(request.param, _NoCases):
        pytest.fail(f"@pytest.mark.{_MARKER}: {request.param.message}", pytrace=False)
    return _PytestCase(request.param)


@pytest.fixture
def rlmodules_registry() -> Iterator[registry.Registry]:
    """A fresh process-wide registry for one test (``rlmodules.registry.isolated_registry``):
    installed plugins are discovered as usual; whatever the test registers is gone after it.

    Example::

        def test_my_module(rlmodules_registry):
            rlmodules_registry.register_plugin(MyPlugin())
            assert rlmodules_registry.get("module", "mine") is MyModule
    """
    with registry.isolated_registry() as fresh:
        yield fresh
