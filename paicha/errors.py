"""The exceptions paicha raises on purpose, so callers can catch one base and adapters can tell bad
input (answer 4xx, write a dead-letter record) from a bug (let it crash).

    PaichaError                 every error raised on purpose by paicha
    └── InvalidInput            bad input: carries .field, .reason and every .problems entry
        ├── FeedError           a feed record that breaks its contract (schemas/, CONTRACTS.md)
        └── SettingsError       an environment variable or .env entry that is not a valid setting

Add a branch here, not a second base, when a new kind of failure needs catching on its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where (a dotted path; empty: the whole input) and why."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class PaichaError(Exception):
    """The base of every error paicha raises on purpose."""


class InvalidInput(PaichaError, ValueError):
    """Input that breaks its contract. ``field`` and ``reason`` describe the first problem."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        if not problems:
            raise ValueError("InvalidInput needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))

    @property
    def field(self) -> str:
        """Dotted path of the first problem (``polygon.coordinates.0``); empty: the whole input."""
        return self.problems[0].field

    @property
    def reason(self) -> str:
        """What is wrong with the first problem, in words a feed operator can act on."""
        return self.problems[0].reason


class FeedError(InvalidInput):
    """A feed record that breaks its contract; ``topic`` says which contract."""

    def __init__(self, topic: str, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.topic = topic
        super().__init__(problems)

    def __str__(self) -> str:
        return f"{self.topic}: {super().__str__()}"


class SettingsError(InvalidInput):
    """A setting that cannot be used; ``field`` is the environment variable to fix."""
