"""Reading an untrusted JSON object field by field.

Every source parser reads through `Fields`, so a missing or mistyped field is
reported the same way everywhere, `<source>: <path>: <problem>`, and no parser
can leak a KeyError or TypeError to the HTTP layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from agent.alert.errors import AlertParseError
from tools.bounds import ellipsize

T = TypeVar("T")

_QUOTED_MAX = 60  # how much of a bad value an error message quotes back
_EPOCH = re.compile(r"-?\d+(\.\d+)?")
_EPOCH_MS_FROM = 1e11  # as seconds, that would be the year 5138
_EPOCH_MS_UNTIL = 1e14  # anything larger is µs or ns: refused rather than guessed


def parse_timestamp(value: object) -> datetime:
    """Aware UTC from RFC 3339 / ISO 8601 (`Z`, `+02:00`, CloudWatch's `+0000`)
    or epoch seconds or milliseconds, as a number or a string of digits.

    A time without an offset is taken as UTC: monitoring tools almost always
    mean UTC, and refusing it would drop the alert at the door.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            raise ValueError("a number out of range") from None
        return _from_epoch(number)
    if not isinstance(value, str):
        raise ValueError(f"a {kind(value)}")
    text = value.strip()
    if _EPOCH.fullmatch(text):
        return _from_epoch(float(text))
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class NotJson(ValueError):
    """A sender's text that is not JSON, said for them; `problem` is what the parser met
    and `deep` whether it nests past what the parser can follow."""

    def __init__(self, message: str, problem: str, *, deep: bool = False) -> None:
        super().__init__(message)
        self.problem, self.deep = problem, deep


def load_json(body: str | bytes) -> Any:
    """A sender's JSON (bytes as UTF-8, a BOM allowed); every refusal is one NotJson: not
    UTF-8 text, empty, nested too deeply, or the parser's first clause (its advice on
    `sys.set_int_max_str_digits` for a number of thousands of digits is not theirs)."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    except UnicodeDecodeError as error:
        where = f"not UTF-8 text: byte 0x{error.object[error.start]:02x} at offset {error.start}"
        raise NotJson(where, where) from None
    if not text.strip():
        raise NotJson("empty, not JSON", "empty")
    try:
        return json.loads(text)
    except RecursionError:
        raise NotJson("nested too deeply", "nested too deeply", deep=True) from None
    except ValueError as error:  # JSONDecodeError, or a number too long to convert
        problem = str(error).split(";", 1)[0]
        raise NotJson(f"not JSON: {problem}", problem) from None


def _from_epoch(number: float) -> datetime:
    if abs(number) >= _EPOCH_MS_UNTIL:
        raise ValueError("epoch beyond milliseconds")
    seconds = number / 1000 if abs(number) >= _EPOCH_MS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError) as error:
        raise ValueError(str(error)) from None


def kind(value: object) -> str:
    """The JSON name of `value`'s type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "list" if isinstance(value, list) else type(value).__name__


def quoted(value: object) -> str:
    """`value` as a short repr, so an error never echoes a huge untrusted string."""
    return ellipsize(repr(value), _QUOTED_MAX)


class Fields:
    """One JSON object of a payload, with its source and path for error messages."""

    def __init__(self, source: str, data: Mapping[str, Any], path: str = "") -> None:
        self.source = source
        self.data = data
        self.path = path

    @classmethod
    def of(cls, source: str, value: object, path: str = "") -> Fields:
        """`value` as Fields; an error if it is not a JSON object."""
        if not isinstance(value, Mapping):
            where = path or "payload"
            raise AlertParseError(f"{source}: {where}: expected an object, got {kind(value)}")
        return cls(source, value, path)

    def at(self, key: str | int) -> str:
        """The path of `key` inside this object, e.g. `alerts[0].startsAt`."""
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, problem: str) -> AlertParseError:
        return AlertParseError(f"{self.source}: {self.at(key)}: {problem}")

    def has(self, key: str) -> bool:
        return self.data.get(key) not in (None, "")

    def text(self, key: str) -> str | None:
        """A string field, stripped; numbers and booleans as their JSON text."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {kind(value)}")
        return value.strip() or None

    def need_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.error(key, "missing")
        return value

    def integer(self, key: str) -> int | None:
        text = self.text(key)
        if text is None:
            return None
        try:
            return int(float(text))
        except (ValueError, OverflowError):
            raise self.error(key, f"not a number: {quoted(text)}") from None

    def time(self, key: str) -> datetime | None:
        """A timestamp field in UTC; Go's zero time (`0001-01-01T00:00:00Z`) is unset."""
        value = self.data.get(key)
        if value in (None, ""):
            return None
        try:
            parsed = parse_timestamp(value)
        except ValueError:
            raise self.error(key, f"not a timestamp: {quoted(value)}") from None
        return None if parsed.year == 1 else parsed

    def need_time(self, key: str) -> datetime:
        value = self.time(key)
        if value is None:
            raise self.error(key, "missing")
        return value

    def obj(self, key: str) -> Fields:
        """A nested object; empty when absent, so optional sections read simply."""
        value = self.data.get(key)
        return Fields(self.source, {}, self.at(key)) if value is None else self._nested(key, value)

    def need_obj(self, key: str) -> Fields:
        if self.data.get(key) is None:
            raise self.error(key, "missing")
        return self.obj(key)

    def objects(self, key: str) -> list[Fields]:
        """A list of objects; empty when absent."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {kind(value)}")
        return [
            Fields.of(self.source, item, f"{self.at(key)}[{i}]") for i, item in enumerate(value)
        ]

    def need_objects(self, key: str) -> list[Fields]:
        if self.data.get(key) is None:
            raise self.error(key, "missing")
        return self.objects(key)

    def json_object(self, key: str) -> Fields:
        """An object sent as a JSON string, as SNS sends its `Message`."""
        value = self.data.get(key)
        if isinstance(value, str):
            try:
                value = load_json(value)
            except NotJson as error:
                problem = ellipsize(error.problem, _QUOTED_MAX)
                raise self.error(key, f"not JSON: {problem}") from None
        if value is None:
            raise self.error(key, "missing")
        return self._nested(key, value)

    def mapping(self, key: str) -> dict[str, str]:
        """A flat string map (labels, annotations, dimensions); null values are dropped."""
        section = self.obj(key)
        return {
            str(name): text
            for name in section.data
            if (text := section.text(str(name))) is not None
        }

    def choice(self, key: str, words: Mapping[str, T], default: T | None = None) -> T:
        """The meaning of an enumerated word, matched without case."""
        word = self.text(key)
        if word is None:
            if default is None:
                raise self.error(key, "missing")
            return default
        meaning = words.get(word.lower())
        if meaning is None:
            expected = ", ".join(sorted(words))
            raise self.error(key, f"expected one of {expected}, got {quoted(word)}")
        return meaning

    def _nested(self, key: str, value: object) -> Fields:
        if not isinstance(value, Mapping):
            raise self.error(key, f"expected an object, got {kind(value)}")
        return Fields(self.source, value, self.at(key))
