"""The one error type users see: bad input, reported as one line per problem."""

from __future__ import annotations

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _ESCAPES:
        return _ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe_text(text: str) -> str:
    r"""Return text with every non-printable character escaped (``\n``, ``\x1b``, ``\u202e``).

    Untrusted text (a file or node name) then cannot start a new line, move the cursor or
    reverse the direction of what follows it in an error line.
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


class ScenarioError(ValueError):
    """A scenario (or other input file) is invalid; each problem is one line."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """Return each problem as ``file: field: what was expected``, on one line each."""
        source = safe_text(self.source)
        return [f"{source}: {safe_text(where)}: {safe_text(what)}" for where, what in self.problems]


def problem(source: str, where: str, what: str) -> ScenarioError:
    """Return a ScenarioError with a single problem."""
    return ScenarioError(source, [(where, what)])
