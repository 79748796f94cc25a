"""The one error type users see: bad input, reported as one line per problem."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario (or other input file) is invalid; each problem is one line."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """Return each problem as ``file: field: what was expected``."""
        return [f"{self.source}: {where}: {what}" for where, what in self.problems]


def problem(source: str, where: str, what: str) -> ScenarioError:
    """Return a ScenarioError with a single problem."""
    return ScenarioError(source, [(where, what)])
