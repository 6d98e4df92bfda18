"""Making envs from what a config names: a gymnasium id, an import path, a class, a factory.

A string with a ``:`` goes through the registry, so an env named in a file resolves only to
an env a plugin registered (``rlmodules list env``) or one the caller handed over; a
gymnasium ``"module:EnvId-v0"`` id from a file only to an id gymnasium already registered
(see ``registry.untrusted_input``).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from rlmodules.errors import ConfigError, UnknownNameError

__all__ = ["RegisteredEnvCreator", "env_name", "make_env_creator"]


def make_env_creator(env: Any, env_config: Mapping[str, Any] | None = None
                     ) -> Callable[[], Any]:
    """A no-argument function making one env instance.

    ``env`` is a gymnasium id (``gym.make(env, **env_config)``), an import path
    ``"pkg.mod:Name"`` of an env class or factory (the caller names the code to run), an
    env class (called as
    ``cls(config=env_config)`` when its constructor takes ``config``, else
    ``cls(**env_config)``), or a factory function (called as ``factory(env_config)``,
    RLlib's ``register_env`` convention; a factory taking keywords only, such as
    PettingZoo's ``parallel_env(**kwargs)``, gets ``factory(**env_config)``). A PettingZoo
    AEC env it makes comes converted to the parallel API (``rlmodules.envs.as_parallel_env``).
    """
    from rlmodules.envs import as_parallel_env

    env_config = dict(env_config or {})
    if isinstance(env, str) and ":" in env:
        env = _env_named(env)
    if isinstance(env, str):
        return RegisteredEnvCreator(env, env_config)
    if inspect.isclass(env):
        takes_config = "config" in _parameters(env)
        return (lambda: as_parallel_env(env(config=env_config))) if takes_config \
            else (lambda: as_parallel_env(env(**env_config)))
    if callable(env):
        if _keywords_only(env):
            return lambda: as_parallel_env(env(**env_config))
        return lambda: as_parallel_env(env(env_config))
    raise ConfigError(f"env must be a gymnasium id, an env class or a factory, got {env!r}")


def env_name(env: Any) -> str:
    """A short name of ``env`` (an id or import path as is, a class or function by name)
    for messages and run directories."""
    return env if isinstance(env, str) else getattr(env, "__name__", type(env).__name__)


class RegisteredEnvCreator:
    """Makes a gymnasium-registered env by id: one instance when called, or the id's own
    vectorised implementation with :meth:`make_vector` (``gym_env_vectorize_mode=
    "vector_entry_point"``)."""

    def __init__(self, env_id: str, env_config: Mapping[str, Any]) -> None:
        self.env_id = env_id
        self.env_config = dict(env_config)

    def __call__(self) -> Any:
        import gymnasium as gym

        with self._errors_named():
            return gym.make(self.env_id, **self.env_config)

    def make_vector(self, num_envs: int) -> Any:
        """``gym.make_vec(id, num_envs, vectorization_mode="vector_entry_point")``."""
        import gymnasium as gym

        with self._errors_named():
            spec = gym.spec(self.env_id)
            if spec.vector_entry_point is None:
                raise ConfigError(
                    f"gym_env_vectorize_mode='vector_entry_point' needs an env id that "
                    f"registers a vectorised implementation; {self.env_id!r} does not. Use "
                    f"'sync' or 'async'"
                )
            return gym.make_vec(self.env_id, num_envs=num_envs,
                                vectorization_mode="vector_entry_point", **self.env_config)

    @contextlib.contextmanager
    def _errors_named(self) -> Iterator[None]:
        import gymnasium as gym

        try:
            yield
        except ImportError as exc:  # the module of a "module:EnvId-v0" id
            module = self.env_id.partition(":")[0]
            raise ConfigError(
                f"cannot make gymnasium env {self.env_id!r}: module {module!r} cannot be "
                f"imported ({str(exc).partition('. Environment')[0]}); install the package "
                f"that provides it, or check the id"
            ) from None
        except gym.error.Error as exc:
            raise ConfigError(
                f"cannot make gymnasium env {self.env_id!r}: {str(exc).rstrip('.')}. Check the "
                f"id (gymnasium lists them with gymnasium.pprint_registry()) and that its "
                f"package is installed"
            ) from None
        except TypeError as exc:  # gym.make passes env_config on as constructor kwargs
            if not self.env_config:
                raise
            raise ConfigError(
                f"cannot make gymnasium env {self.env_id!r} with env_config "
                f"{self.env_config!r}: {str(exc).partition(' was raised from')[0]}; pass only "
                f"keyword arguments its constructor takes"
            ) from None


def _env_named(env: str) -> Any:
    """An env given as a string with a ``:``: ``"pkg.mod:Name"`` is the env class or factory
    it names (a registered env, from a file); gymnasium's own ``"module:EnvId-v0"`` stays an
    id (``gym.make`` imports ``module``). From a file, such an id must be registered with
    gymnasium already and ``module`` imported, so that ``gym.make`` imports nothing."""
    import sys

    from rlmodules import registry

    module, _, name = env.partition(":")
    if not all(part.isidentifier() for part in name.split(".")):
        if not registry.imports_allowed():
            import gymnasium as gym

            if name not in gym.registry or module not in sys.modules:
                registry.check_import_allowed(module, what=f"env id {env!r}")
        return env
    try:
        return registry.get("env", env)
    except registry.ImportRefusedError:
        raise
    except UnknownNameError as exc:
        raise ConfigError(str(exc)) from None


def _import_named(path: str, field: str) -> Any:
    """What ``path`` names, through the registry's one import function (which, for a name
    read from a file, only returns an object the caller handed over)."""
    from rlmodules import registry

    try:
        return registry.import_object(path, what=field)
    except registry.ImportRefusedError:
        raise
    except UnknownNameError as exc:
        raise ConfigError(str(exc)) from None


def _keywords_only(fn: Any) -> bool:
    """True if ``fn`` takes no positional parameter (only keywords or ``**kwargs``)."""
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                  inspect.Parameter.VAR_POSITIONAL)
    params = _parameters(fn)
    return bool(params) and all(p.kind not in positional for p in params.values())


def _parameters(cls: type) -> Mapping[str, Any]:
    try:
        return inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return {}
