"""Reading a policy file: YAML in, a validated `Policy` out, or one `PolicyError`.

Whatever is wrong (no file, bad YAML, a duplicate key, a typo'd field, a
service naming an unknown team) comes back as a `PolicyError` that names the
file, the line, the path inside the policy and the problem, never a traceback:
the person fixing it is editing YAML, not reading Python.
"""

from __future__ import annotations

import os
import types
from datetime import date
from functools import cache
from importlib import resources
from inspect import isclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

from agent.policy.checks import staffing_problems, unknown
from agent.policy.errors import Loc, PolicyError, PolicyProblems, Problem, render_path
from agent.policy.models import Policy

DEFAULT_POLICY_FILE = "default_policy.yaml"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def load_policy(path: str | os.PathLike[str], *, today: date | None = None) -> Policy:
    """The policy in the YAML file at `path`.

    With `today`, a rotation nobody serves on that day (every term ended) is an
    error too; pass the service's clock at start-up so an expired rota is caught
    before an incident needs it.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError.one("", "no such file", file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError.one("", f"cannot read the file: {exc}", file) from None
    return parse_policy(text, file, today=today)


@cache
def default_policy() -> Policy:
    """The bundled example policy (a copy of config/policy.example.yaml)."""
    text = resources.files("agent.policy").joinpath(DEFAULT_POLICY_FILE).read_text("utf-8")
    return parse_policy(text, f"agent/policy/{DEFAULT_POLICY_FILE}")


def parse_policy(text: str, source: str = "<policy>", *, today: date | None = None) -> Policy:
    """The policy in YAML `text`; `source` names it in errors."""
    node, data = _read_yaml(text, source)
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        raise PolicyError.one("", f"the policy is {what}: expected sections like teams:", source)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_problems(exc, node), source) from None
    if today is not None:
        found = staffing_problems(policy, today)
        if found:
            raise PolicyError([_at(loc, msg, node) for loc, msg in found], source)
    return policy


# -- YAML -----------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: YAML would keep the last one silently."""


def _mapping(loader: _Loader, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # unhashable key: construct_mapping reports it
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {first})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _read_yaml(text: str, source: str) -> tuple[Node | None, Any]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise PolicyError([Problem("", f"not valid YAML: {problem}", line)], source) from None
    except yaml.YAMLError as exc:
        raise PolicyError.one("", f"not valid YAML: {exc}", source) from None
    finally:
        loader.dispose()


def _line(node: Node | None, loc: Loc) -> int | None:
    """The line `loc` is on, or the nearest enclosing one that exists in the file."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child: Node | None = None
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if getattr(key, "value", None) == str(part):
                    line, child = key.start_mark.line + 1, value
                    break
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _at(loc: Loc, message: str, node: Node | None) -> Problem:
    return Problem(render_path(loc), message, _line(node, loc))


# -- validation errors ----------------------------------------------------------


def _problems(exc: ValidationError, node: Node | None) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, PolicyProblems):
            problems.extend(_at(loc, msg, node) for loc, msg in cause.problems)
            continue
        loc: Loc = tuple(err["loc"])
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
        problems.append(_at(loc, _message(err, loc), node))
    return problems


def _message(err: Any, loc: Loc) -> str:
    kind, msg, given = err["type"], str(err["msg"]), err.get("input")
    if kind == "extra_forbidden":
        return unknown("field", str(loc[-1]), _fields_at(loc[:-1]))
    if kind == "missing":
        return "required, but missing"
    if kind in ("value_error", "assertion_error"):
        return msg.split(", ", 1)[1] if msg.startswith(("Value error, ", "Assertion")) else msg
    msg = msg[:1].lower() + msg[1:]
    if isinstance(given, str | int | float | bool) and len(repr(given)) <= 60:
        msg += f" (got {given!r})"
    return msg


def _fields_at(loc: Loc) -> list[str]:
    """Field names of the policy model at `loc`, for 'did you mean' on a typo."""
    tp: Any = Policy
    for part in loc:
        tp = _unwrap(tp)
        if isclass(tp) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            tp = field.annotation if field else None
        elif get_origin(tp) in (list, dict):
            tp = get_args(tp)[-1]
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isclass(tp) and issubclass(tp, BaseModel) else []


def _unwrap(tp: Any) -> Any:
    """`Annotated[X, ...]` and `X | None` -> X."""
    if get_origin(tp) is Annotated:
        return _unwrap(get_args(tp)[0])
    if get_origin(tp) in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        return _unwrap(options[0]) if len(options) == 1 else tp
    return tp
