"""What a bad policy raises instead of a traceback.

Every problem names the place in the file it is about, as a path
(`services[3].team`) and, when loaded from a file, a line number, so the
person editing the YAML can go straight to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Loc = tuple[str | int, ...]


def render_path(loc: Loc) -> str:
    """`("services", 3, "team")` -> `services[3].team`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the policy, and where."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.message}"


class PolicyProblems(ValueError):
    """Raised by the model's cross-checks; carries structured locations so the
    loader can add line numbers. Callers see it wrapped in `PolicyError`."""

    def __init__(self, problems: Sequence[tuple[Loc, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{render_path(loc)}: {msg}" for loc, msg in self.problems))


class PolicyError(ValueError):
    """The policy file is missing, not YAML, or not a valid policy, e.g.
    `config/policy.yaml: line 42: services[3].team: unknown team 'paymnts' (known: ...)`.

    `path`, `problem` and `line` describe the first problem; `problems` has all.
    """

    def __init__(self, problems: Sequence[Problem], file: str | None = None) -> None:
        self.file = file
        self.problems = list(problems) or [Problem("", "invalid policy")]
        super().__init__(self._render())

    @classmethod
    def one(cls, path: str, message: str, file: str | None = None) -> PolicyError:
        return cls([Problem(path, message)], file)

    @property
    def path(self) -> str:
        return self.problems[0].path

    @property
    def problem(self) -> str:
        return self.problems[0].message

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    def _render(self) -> str:
        prefix = f"{self.file}: " if self.file else ""
        if len(self.problems) == 1:
            return f"{prefix}{self.problems[0]}"
        lines = "\n".join(f"  {p}" for p in self.problems)
        return f"{prefix}{len(self.problems)} problems:\n{lines}"
