"""The registry: plug-in toolsets, enabling by telemetry kind, validation, recording."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from pydantic import BaseModel, Field

from tests.support.synthetic import SyntheticDataset
from tools import toolset as toolset_module
from tools.bounds import ToolInput
from tools.metrics import SummarizeMetricOutput
from tools.telemetry.backend import TelemetryBackend, TelemetryKind
from tools.telemetry.replay.backend import ReplayBackend
from tools.toolset import (
    Tool,
    ToolCall,
    ToolError,
    ToolInputError,
    ToolRegistry,
    ToolSession,
    Toolset,
    compact_schema,
    default_registry,
    run,
)

BUILTIN_TOOLS = {
    "list_metrics",
    "query_metrics",
    "summarize_metric",
    "search_logs",
    "recent_changes",
    "get_topology",
    "find_call_path",
}


class EchoInput(ToolInput):
    """Say something back."""

    text: str = Field(description="What to echo.")
    times: int = Field(1, ge=1, le=3)


class EchoOutput(BaseModel):
    text: str
    now: datetime


def echo(backend: TelemetryBackend, params: EchoInput) -> EchoOutput:
    """Echo `text` `times` times, stamped with the backend clock."""
    return EchoOutput(text=params.text * params.times, now=backend.now)


ECHO = Toolset(
    name="echo",
    description="A third-party toolset.",
    tools=(Tool.from_function(echo),),
    requires=frozenset({"metrics"}),
)


class OnlyKinds(ReplayBackend):
    """The synthetic backend pretending to hold only some kinds of telemetry."""

    def __init__(self, inner: ReplayBackend, kinds: set[TelemetryKind]) -> None:
        super().__init__(inner.dataset, inner.now)
        self._kinds = kinds

    def kinds(self) -> set[TelemetryKind]:
        return self._kinds


def test_default_registry_has_the_builtin_toolsets() -> None:
    registry = default_registry()
    assert {t.name for t in registry.toolsets()} >= {"metrics", "logs", "changes", "topology"}
    assert {t.name for t in registry.tools()} >= BUILTIN_TOOLS


def test_tool_from_function_reads_models_and_docstring() -> None:
    tool = ECHO.tools[0]
    assert tool.name == "echo"
    assert tool.input_model is EchoInput
    assert tool.output_model is EchoOutput
    assert tool.description.startswith("Echo `text`")


def test_tool_from_function_rejects_other_shapes() -> None:
    def not_a_tool(backend: TelemetryBackend) -> EchoOutput:
        raise AssertionError

    with pytest.raises(TypeError, match="fn\\(backend, params"):
        Tool.from_function(not_a_tool)  # type: ignore[arg-type]


def test_plugin_toolset_registers_and_runs(backend: ReplayBackend) -> None:
    registry = ToolRegistry([ECHO])
    out = registry.run("echo", backend, {"text": "hi", "times": 2})
    assert isinstance(out, EchoOutput)
    assert out.text == "hihi"
    assert out.now == backend.now


def test_duplicate_toolset_or_tool_names_are_refused() -> None:
    registry = ToolRegistry([ECHO])
    with pytest.raises(ValueError, match="already registered"):
        registry.register(ECHO)
    clash = Toolset(name="other", description="", tools=ECHO.tools)
    with pytest.raises(ValueError, match="already provided by toolset 'echo'"):
        registry.register(clash)
    registry.register(ECHO, replace=True)
    assert [t.name for t in registry.toolsets()] == ["echo"]


def test_toolsets_are_enabled_by_the_kinds_the_backend_holds(backend: ReplayBackend) -> None:
    registry = default_registry()
    logs_only = OnlyKinds(backend, {"logs"})
    assert [t.name for t in registry.enabled(logs_only)] == ["logs"]
    traces_only = OnlyKinds(backend, {"traces"})
    assert [t.name for t in registry.enabled(traces_only)] == ["topology"]
    everything = {t.name for t in registry.enabled(backend)}
    assert everything >= {"metrics", "logs", "changes", "topology"}


def test_a_disabled_tool_says_what_it_needs(backend: ReplayBackend) -> None:
    with pytest.raises(ToolError, match="needs metrics telemetry"):
        default_registry().run("summarize_metric", OnlyKinds(backend, {"logs"}), {})


def test_unknown_tool_lists_the_available_ones(backend: ReplayBackend) -> None:
    with pytest.raises(ToolError, match=r"unknown tool 'query_metric'; available: .*query_metrics"):
        run("query_metric", backend, {})


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        ({"servce": "payment"}, "servce", "unknown argument (allowed: start, end, last"),
        ({"max_series": 0}, "max_series", "greater than or equal to 1"),
        ({"max_points": "many"}, "max_points", "valid integer"),
        ({"last": "forever"}, "last", "not a duration"),
        ({"start": "soonish"}, "start", "RFC 3339"),
        ({"service": "paymnt"}, "service", "did you mean payment"),
    ],
)
def test_bad_arguments_get_a_clear_message_naming_the_field(
    backend: ReplayBackend, args: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(ToolInputError) as caught:
        run("query_metrics", backend, args)
    message = str(caught.value)
    assert caught.value.field == field
    assert message.startswith("query_metrics: invalid argument")
    assert f"'{field}'" in message
    assert words in message
    assert "Traceback" not in message and "pydantic" not in message
    assert caught.value.__cause__ is None


def test_several_bad_arguments_are_all_named(backend: ReplayBackend) -> None:
    with pytest.raises(ToolInputError) as caught:
        run("search_logs", backend, {"limit": 1000, "regex": "a(b"})
    message = str(caught.value)
    assert "'limit'" in message and "'regex'" in message


def test_session_records_calls_with_canonical_args(synthetic: SyntheticDataset) -> None:
    session = ToolSession(synthetic.backend())
    args = {"service": "payment", "last": "5m", "max_series": 20, "sort": "deviation"}
    out = session.run("summarize_metric", args)
    assert isinstance(out, SummarizeMetricOutput)
    call = session.last_call
    assert call is not None and call.ok
    # Defaults (max_series=20, sort) drop out, so equal queries cite equal text.
    assert call.args == {"service": "payment", "last": "5m"}
    assert call.now == synthetic.spec.now
    assert call.text() == 'summarize_metric({"last": "5m", "service": "payment"})'
    session.run("search_logs", {"levels": ["warning", "error"], "limit": 1})
    assert session.calls[-1].args == {"levels": ["WARN", "ERROR"], "limit": 1}


def test_failed_calls_are_recorded_too(backend: ReplayBackend) -> None:
    calls: list[ToolCall] = []
    with pytest.raises(ToolInputError):
        default_registry().run("get_topology", backend, {"depth": 9}, record=calls.append)
    assert len(calls) == 1
    assert not calls[0].ok
    assert calls[0].args == {"depth": 9}
    assert calls[0].error is not None and "'depth'" in calls[0].error


def test_session_offers_only_the_enabled_toolsets(backend: ReplayBackend) -> None:
    session = ToolSession(OnlyKinds(backend, {"logs", "changes"}))
    assert {t.name for t in session.tools()} == {"search_logs", "recent_changes"}
    with pytest.raises(ToolError, match="query_metrics: needs metrics telemetry"):
        session.run("query_metrics", {})
    narrowed = ToolSession(backend, toolsets={"topology"})
    assert {t.name for t in narrowed.tools()} == {"get_topology", "find_call_path"}
    with pytest.raises(ToolError, match="toolset 'logs' is not enabled here"):
        narrowed.run("search_logs", {})


def test_specs_are_json_schema_for_llm_tool_calling(backend: ReplayBackend) -> None:
    specs = {s["name"]: s for s in default_registry().specs(backend)}
    assert set(specs) >= BUILTIN_TOOLS
    for spec in specs.values():
        json.dumps(spec)
        assert spec["description"]
        params = spec["parameters"]
        assert params["type"] == "object"
        assert params["additionalProperties"] is False
        assert all("description" in p for p in params["properties"].values()), spec["name"]
        assert "title" not in json.dumps(params)
    logs = specs["search_logs"]["parameters"]["properties"]
    assert logs["regex"]["type"] == "string"
    assert logs["limit"]["maximum"] == 200
    assert logs["last"]["default"] == "60m"


def test_compact_schema_unwraps_optional() -> None:
    schema = {
        "title": "X",
        "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}},
    }
    assert compact_schema(schema) == {"properties": {"a": {"type": "string"}}}
    named_title = {"properties": {"title": {"type": "string", "title": "Title"}}}
    assert compact_schema(named_title) == {"properties": {"title": {"type": "string"}}}


def test_tools_accept_a_model_or_a_dict(backend: ReplayBackend) -> None:
    tool = default_registry().tool("get_topology")
    from_dict = tool(backend, {"service": "payment"})
    from_model = tool(backend, tool.input_model(service="payment"))
    assert from_dict == from_model


class FakeEntryPoint:
    def __init__(self, name: str, target: object) -> None:
        self.name = name
        self.target = target

    def load(self) -> object:
        if isinstance(self.target, Exception):
            raise self.target
        return self.target


def test_entry_point_plugins_join_the_default_registry(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    plugins = [
        FakeEntryPoint("echo", lambda: ECHO),
        FakeEntryPoint("broken", ImportError("no module named 'vendor_sdk'")),
    ]
    monkeypatch.setattr(toolset_module, "entry_points", lambda group: plugins)
    default_registry.cache_clear()
    try:
        registry = default_registry()
        assert registry.tool("echo") is ECHO.tools[0]
        assert "metrics" in {t.name for t in registry.toolsets()}
        assert "toolset plug-in broken not loaded: no module named 'vendor_sdk'" in caplog.text
    finally:
        default_registry.cache_clear()
