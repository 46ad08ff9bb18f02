"""Step, token and time budgets of one investigation, and the failures that end it.

Every way the LLM path can go wrong ends in an `LLMFailure` whose reason starts
with its category ("budget: ", "validation: ", "error: "), so the fallback note
says why in one line and reports can count failures by kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, BaseMessage

Clock = Callable[[], float]


class LLMFailure(Exception):
    """The LLM's answer cannot be used; `reason` says why, prefixed by its category."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BudgetExceeded(LLMFailure):
    def __init__(self, detail: str) -> None:
        super().__init__(f"budget: {detail}")


class InvalidAssessment(LLMFailure):
    def __init__(self, detail: str) -> None:
        super().__init__(f"validation: {detail}")


def prompt_chars(messages: Sequence[BaseMessage]) -> int:
    """The size of a turn's prompt in characters, for the token estimates."""
    return sum(len(str(m.content)) for m in messages)


@dataclass
class Budget:
    """What one investigation may still spend; `check_*` raise BudgetExceeded."""

    max_steps: int
    max_tokens: int
    max_seconds: float
    clock: Clock = time.monotonic
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def elapsed(self) -> float:
        return self.clock() - self.started

    def remaining_seconds(self) -> float:
        return self.max_seconds - self.elapsed()

    def check_time(self) -> None:
        elapsed = self.elapsed()
        if elapsed > self.max_seconds:
            raise BudgetExceeded(f"{self.max_seconds:g}s time limit exceeded ({elapsed:.1f}s)")

    def start_step(self) -> None:
        """Count one model turn; refuse it past the step budget or the clock."""
        if self.steps >= self.max_steps:
            raise BudgetExceeded(f"{self.max_steps} steps exceeded")
        self.check_time()
        self.steps += 1

    def check_prompt(self, prompt_chars: int) -> None:
        """Refuse a turn whose prompt alone (~4 characters a token) would pass the token
        limit: usage is only reported after a call, and a flood of tool results must not
        be sent (and paid for) before the limit notices it."""
        estimate = prompt_chars // 4
        if self.tokens + estimate > self.max_tokens:
            raise BudgetExceeded(
                f"token limit {self.max_tokens} exceeded by the next turn's prompt"
                f" (~{estimate} tokens to send, {self.tokens} used)"
            )

    def charge(self, message: AIMessage, prompt_chars: int) -> None:
        """Add a turn's tokens (from usage metadata, else estimated) and check the limits."""
        usage = message.usage_metadata
        if usage:
            self.input_tokens += usage.get("input_tokens", 0)
            self.output_tokens += usage.get("output_tokens", 0)
        else:  # a provider without usage: ~4 characters a token, so the cap still holds
            self.input_tokens += prompt_chars // 4
            self.output_tokens += len(str(message.content)) // 4 + len(str(message.tool_calls)) // 4
        if self.tokens > self.max_tokens:
            raise BudgetExceeded(f"token limit {self.max_tokens} exceeded ({self.tokens} used)")
        self.check_time()

    @property
    def last_step(self) -> bool:
        """The turn just started is the last one the budget allows."""
        return self.steps == self.max_steps
