"""The error hierarchy: one base, leaves that also subclass the fitting builtin.

Catch ``RLModulesError`` for anything the library raises on purpose, or the builtin
(``LookupError``, ``ValueError``, ...) where that reads better at the call site.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "RLModulesError",
    "UnknownNameError",
    "AmbiguousNameError",
    "ConfigError",
    "SpecError",
    "SpaceError",
    "BatchError",
    "CheckpointError",
    "PluginError",
    "DecisionHookError",
    "ExportError",
    "EpisodeDataError",
    "EnvRunnerError",
    "LearnerGroupError",
    "did_you_mean",
]


class RLModulesError(Exception):
    """Base of every error rlmodules raises on purpose."""


class UnknownNameError(RLModulesError, LookupError):
    """A registered name (module, catalog, distribution, format) that nothing provides."""

    def __str__(self) -> str:  # LookupError would repr() a single argument.
        return str(self.args[0]) if self.args else ""


class AmbiguousNameError(RLModulesError, LookupError):
    """A plain name that two or more plugins provide; use a qualified name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(RLModulesError, ValueError):
    """A bad model config or algorithm config value or key."""


class SpecError(RLModulesError, ValueError):
    """An RLModuleSpec / MultiRLModuleSpec that cannot build a module."""


class SpaceError(RLModulesError, ValueError):
    """A gymnasium space that is unsupported, malformed, or does not fit the logits/data."""


class BatchError(RLModulesError, ValueError):
    """A forward input or output batch that misses a key or has the wrong shape."""


class CheckpointError(RLModulesError, ValueError):
    """A checkpoint that is missing, corrupted, too new, or needs an absent plugin."""


class PluginError(RLModulesError, RuntimeError):
    """A plugin that failed to import, whose hook raised, or that returned bad data."""


class DecisionHookError(PluginError):
    """A decision hook that cannot be asked, or whose answer cannot be used (reported, skipped)."""


class ExportError(RLModulesError, ValueError):
    """A module that cannot be exported, an exported artefact that does not act as the module
    did, or an export directory that cannot be read."""


class EpisodeDataError(CheckpointError):
    """A recorded-episodes directory that is missing, corrupted or does not match its index."""


class EnvRunnerError(RLModulesError, RuntimeError):
    """An env runner that failed more often than allowed, or could not start."""


class LearnerGroupError(RLModulesError, RuntimeError):
    """Learner actors that could not start."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest candidate, or ``""``."""
    import difflib  # only when a name was wrong: keeps `import rlmodules` lean

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
