"""Tools and toolsets: how the engine and an LLM read telemetry.

A tool is a pure function `fn(backend, params) -> output` whose input and
output are pydantic models written for an LLM: the same call serves the
deterministic engine (typed, direct) and tool calling (JSON arguments in,
JSON out). Tools come in toolsets, one per kind of telemetry; a toolset is
enabled only when the backend holds the telemetry it reads, so an LLM is never
offered a tool that can only fail. Toolsets are plug-ins: third-party packages
register theirs under the `triage.toolsets` entry-point group.

Every call can be recorded (tool, canonical arguments, clock), so evidence can
cite "the query that produced it" and anyone can re-run it.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import logging
import time
import typing
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from tools.bounds import ToolError, ToolInputError
from tools.telemetry.backend import TelemetryBackend, TelemetryError, TelemetryKind

__all__ = [
    "ENTRY_POINT_GROUP",
    "Tool",
    "ToolCall",
    "ToolError",
    "ToolInputError",
    "ToolRegistry",
    "ToolSession",
    "Toolset",
    "default_registry",
    "register_toolset",
    "run",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "triage.toolsets"
# Modules that define the built-in toolsets, each as a module-level TOOLSET.
BUILTIN_MODULES: tuple[str, ...] = (
    "tools.metrics",
    "tools.logs",
    "tools.changes",
    "tools.topology",
)

ToolFn = Callable[[TelemetryBackend, Any], BaseModel]


@dataclass(frozen=True)
class Tool:
    """One callable tool: its name, its LLM-facing description and its models."""

    name: str
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    fn: ToolFn = field(repr=False)

    @classmethod
    def from_function(cls, fn: ToolFn, *, name: str | None = None) -> Tool:
        """A tool from `fn(backend, params: Input) -> Output`, typed and documented.

        The models come from the annotations and the description from the
        docstring, so a tool is defined in exactly one place.
        """
        hints = typing.get_type_hints(fn)
        params = list(inspect.signature(fn).parameters)
        if len(params) != 2 or "return" not in hints:
            raise TypeError(f"{fn.__name__}: a tool is fn(backend, params: Input) -> Output")
        return cls(
            name=name or fn.__name__,
            description=inspect.getdoc(fn) or inspect.getdoc(hints[params[1]]) or "",
            input_model=hints[params[1]],
            output_model=hints["return"],
            fn=fn,
        )

    def parse(self, args: Mapping[str, Any] | BaseModel) -> BaseModel:
        """`args` validated into the input model; a bad argument is a ToolInputError."""
        if isinstance(args, self.input_model):
            return args
        if isinstance(args, BaseModel):
            args = args.model_dump(exclude_unset=True)
        try:
            return self.input_model.model_validate(dict(args))
        except ValidationError as error:
            raise _input_error(self, error) from None

    def __call__(self, backend: TelemetryBackend, args: Mapping[str, Any] | BaseModel) -> BaseModel:
        try:
            return self.fn(backend, self.parse(args))
        except ToolError as error:
            error.tool = error.tool or self.name
            raise
        except TelemetryError as error:
            raise ToolError(str(error), tool=self.name) from None

    def spec(self) -> dict[str, Any]:
        """The tool as an LLM function spec: name, description, JSON schema of the arguments."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": compact_schema(self.input_model.model_json_schema()),
        }


def compact_schema(schema: Any) -> Any:
    """A JSON schema without pydantic's titles and with `X | None` shown as plain X.

    Every tool spec goes into every prompt; the noise costs tokens and adds nothing
    an LLM needs (an omitted optional argument is already None).
    """
    if isinstance(schema, list):
        return [compact_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: {name: compact_schema(p) for name, p in v.items()}
        if k in ("properties", "$defs") and isinstance(v, dict)
        else compact_schema(v)
        for k, v in schema.items()
        if not (k == "title" and isinstance(v, str))
    }
    options = out.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options and len(options) == 2:
        (kept,) = [o for o in options if o != {"type": "null"}]
        del out["anyOf"]
        out = kept | {k: v for k, v in out.items() if not (k == "default" and v is None)}
    return out


def _input_error(tool: Tool, error: ValidationError) -> ToolInputError:
    """One readable clause per bad argument, naming it; never a traceback."""
    problems = [_problem(tool, item) for item in error.errors()]
    if len(problems) == 1:
        return ToolInputError(*problems[0], tool=tool.name)
    listed = "; ".join(f"'{where}': {text}" for where, text in problems)
    return ToolInputError(problems[0][0], listed, tool=tool.name, several=True)


def _problem(tool: Tool, item: Any) -> tuple[str, str]:
    where = ".".join(str(p) for p in item["loc"]) or "arguments"
    if item["type"] == "extra_forbidden":
        return where, f"unknown argument (allowed: {', '.join(tool.input_model.model_fields)})"
    if item["type"] == "missing":
        return where, "required"
    got = json.dumps(item.get("input"), default=str)[:80]
    return where, f"{item['msg'].removeprefix('Value error, ')} (got {got})"


@dataclass(frozen=True)
class Toolset:
    """A named group of tools over one kind of telemetry.

    `requires`: kinds that must all be present; `requires_any`: at least one
    of these (for tools that can fall back, such as topology from traces).
    """

    name: str
    description: str
    tools: tuple[Tool, ...]
    requires: frozenset[TelemetryKind] = frozenset()
    requires_any: frozenset[TelemetryKind] = frozenset()

    def missing(self, kinds: Collection[str]) -> str | None:
        """Why this toolset cannot run on a backend holding `kinds`, or None if it can."""
        lacking = sorted(set(self.requires) - set(kinds))
        if lacking:
            return f"needs {', '.join(lacking)} telemetry, which this backend lacks"
        if self.requires_any and not set(self.requires_any) & set(kinds):
            return f"needs one of {', '.join(sorted(self.requires_any))} telemetry"
        return None

    def available(self, kinds: Collection[str]) -> bool:
        return self.missing(kinds) is None


class ToolCall(BaseModel):
    """A record of one tool invocation: enough to cite it and to run it again."""

    tool: str
    args: dict[str, Any] = Field(description="Canonical arguments: validated, defaults left out.")
    now: datetime = Field(description="The backend's clock when the call ran.")
    ok: bool = True
    error: str | None = None
    elapsed_ms: float = 0.0

    def text(self) -> str:
        """The call as one line, like `query_metrics({"service": "payment"})`."""
        return f"{self.tool}({json.dumps(self.args, sort_keys=True, default=str)})"


class ToolRegistry:
    """The toolsets an application knows, by name; tool names are unique across them."""

    def __init__(self, toolsets: Iterable[Toolset] = ()) -> None:
        self._toolsets: dict[str, Toolset] = {}
        self._tools: dict[str, tuple[Tool, Toolset]] = {}
        for toolset in toolsets:
            self.register(toolset)

    def register(self, toolset: Toolset, *, replace: bool = False) -> None:
        """Add `toolset`; `replace` swaps out an earlier toolset of the same name."""
        if toolset.name in self._toolsets:
            if not replace:
                raise ValueError(f"toolset '{toolset.name}' is already registered")
            self._unregister(toolset.name)
        for tool in toolset.tools:
            if tool.name in self._tools:
                owner = self._tools[tool.name][1].name
                raise ValueError(f"tool '{tool.name}' is already provided by toolset '{owner}'")
        self._toolsets[toolset.name] = toolset
        self._tools.update({tool.name: (tool, toolset) for tool in toolset.tools})

    def _unregister(self, name: str) -> None:
        old = self._toolsets.pop(name)
        for tool in old.tools:
            self._tools.pop(tool.name, None)

    def toolsets(self) -> list[Toolset]:
        return list(self._toolsets.values())

    def enabled(
        self, backend: TelemetryBackend, names: Collection[str] | None = None
    ) -> list[Toolset]:
        """The toolsets that can run on `backend` (optionally only those in `names`)."""
        kinds = backend.kinds()
        return [
            t
            for t in self._toolsets.values()
            if t.available(kinds) and (names is None or t.name in names)
        ]

    def tools(self, backend: TelemetryBackend | None = None) -> list[Tool]:
        """Every tool, or only those enabled for `backend`."""
        sets = self.toolsets() if backend is None else self.enabled(backend)
        return [tool for toolset in sets for tool in toolset.tools]

    def tool(self, name: str) -> Tool:
        if name not in self._tools:
            known = ", ".join(sorted(self._tools))
            raise ToolError(f"unknown tool '{name}'; available: {known}")
        return self._tools[name][0]

    def specs(self, backend: TelemetryBackend | None = None) -> list[dict[str, Any]]:
        """LLM function specs of the tools (enabled for `backend` when given)."""
        return [tool.spec() for tool in self.tools(backend)]

    def run(
        self,
        name: str,
        backend: TelemetryBackend,
        args: Mapping[str, Any] | BaseModel | None = None,
        *,
        record: Callable[[ToolCall], None] | None = None,
    ) -> BaseModel:
        """Validate `args`, run tool `name` on `backend`, and hand the call to `record`.

        Raises ToolError (ToolInputError for a bad argument) with a message fit
        for an LLM to read and correct; the failed call is recorded too.
        """
        started = time.perf_counter()
        call = ToolCall(tool=name, args=_plain(args), now=backend.now)
        try:
            tool = self.tool(name)
            reason = self._tools[name][1].missing(backend.kinds())
            if reason:
                raise ToolError(reason, tool=name)
            params = tool.parse(args or {})
            call.args = params.model_dump(mode="json", exclude_defaults=True)
            return tool(backend, params)
        except ToolError as error:
            error.tool = error.tool or name
            call.ok, call.error = False, str(error)
            raise
        finally:
            call.elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
            if record is not None:
                record(call)


def _plain(args: Mapping[str, Any] | BaseModel | None) -> dict[str, Any]:
    if args is None:
        return {}
    if isinstance(args, BaseModel):
        return args.model_dump(mode="json", exclude_defaults=True)
    return json.loads(json.dumps(dict(args), default=str))


class ToolSession:
    """One triage's tool access: a backend, the toolsets enabled for it, every call made."""

    def __init__(
        self,
        backend: TelemetryBackend,
        registry: ToolRegistry | None = None,
        toolsets: Collection[str] | None = None,
    ) -> None:
        self.backend = backend
        self.registry = registry or default_registry()
        self.toolsets = self.registry.enabled(backend, toolsets)
        self.calls: list[ToolCall] = []

    def tools(self) -> list[Tool]:
        return [tool for toolset in self.toolsets for tool in toolset.tools]

    def specs(self) -> list[dict[str, Any]]:
        return [tool.spec() for tool in self.tools()]

    def run(self, name: str, args: Mapping[str, Any] | BaseModel | None = None) -> BaseModel:
        """Run an enabled tool and record the call; see ToolRegistry.run."""
        if name in {tool.name for tool in self.tools()}:
            return self.registry.run(name, self.backend, args, record=self.calls.append)
        self.registry.tool(name)  # an unknown name gets the registry's message
        toolset = next(t for t in self.registry.toolsets() if name in {x.name for x in t.tools})
        reason = toolset.missing(self.backend.kinds())
        raise ToolError(reason or f"toolset '{toolset.name}' is not enabled here", tool=name)

    @property
    def last_call(self) -> ToolCall | None:
        return self.calls[-1] if self.calls else None


@functools.cache
def default_registry() -> ToolRegistry:
    """The built-in toolsets plus every toolset installed under `triage.toolsets`."""
    registry = ToolRegistry(importlib.import_module(m).TOOLSET for m in BUILTIN_MODULES)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
            registry.register(loaded() if callable(loaded) else loaded)
        except Exception as error:  # a broken plug-in must not take the built-ins down
            log.warning("toolset plug-in %s not loaded: %s", entry.name, error)
    return registry


def register_toolset(toolset: Toolset, *, replace: bool = False) -> None:
    """Add a toolset to the default registry (for plug-ins loaded without entry points)."""
    default_registry().register(toolset, replace=replace)


def run(
    tool_name: str, backend: TelemetryBackend, args: Mapping[str, Any] | None = None
) -> BaseModel:
    """Run a tool from the default registry; see ToolRegistry.run."""
    return default_registry().run(tool_name, backend, args)
