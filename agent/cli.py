"""`triage`: the command line.

Commands that belong to other packages (the eval harness, the simulator) are
plug-ins registered under the `triage.commands` entry-point group, so the agent
never imports the packages that drive it.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from typer.main import get_command_name

from agent.alert.errors import AlertParseError, SnsSubscriptionConfirmation
from agent.alert.models import Alert
from agent.alert.parse import parse_alert
from agent.approval.models import Decision
from agent.approval.service import ApprovalError
from agent.cli_options import ConfigOption, HomeOption, JsonOption
from agent.config import ConfigError, TriageConfig, data_dir, load_config
from agent.context import TriageContext, build_context
from agent.doctor_cli import doctor
from agent.draft.models import Language
from agent.engines.errors import EngineUnavailable
from agent.incident.lifecycle import LifecycleError
from agent.incident.models import UnknownCause
from agent.incident.store import IncidentNotFound
from agent.isolation.degraded import gap_lines
from agent.policy.errors import PolicyError
from agent.retrospective.write import NotResolved
from agent.routing.command import UnknownPerson
from agent.views import draft_state, drafts_view, incident_json, incident_view
from tools.telemetry.backend import TelemetryError
from tools.telemetry.composite import open_telemetry
from tools.telemetry.config import TelemetryConfigError
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import DatasetFormatError, FaultType

if TYPE_CHECKING:
    from agent.incident.models import Incident
    from agent.runner import NoIncident, RunOutcome, TriageRunner
    from agent.service.desk import Desk

app = typer.Typer(
    name="triage",
    help="An AI first responder for production incidents: takes the alert, isolates the fault,"
    " drafts the page and waits for a human to approve it.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True, soft_wrap=True)
DEMO_DATASET = Path(__file__).with_name("demo") / "dataset"
DEMO_CASE = "demo-0001"
USER_ERRORS = (
    AlertParseError,
    ApprovalError,
    ConfigError,
    DatasetFormatError,
    EngineUnavailable,
    IncidentNotFound,
    LifecycleError,
    NotResolved,
    PolicyError,
    FileNotFoundError,
    TelemetryConfigError,
    TelemetryError,
    UnknownCause,
    UnknownPerson,
)

ByOption = Annotated[str, typer.Option("--by", help="Who decides (recorded in the timeline).")]


def fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(2)


def _context(
    config: Path | None, home: Path | None, telemetry: Path | None = None
) -> TriageContext:
    settings = load_config(config)
    opener = open_telemetry(settings.telemetry, telemetry)
    return build_context(settings, home=home, telemetry=opener)


def _read_alerts(path: Path, source: str | None) -> list[Alert]:
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as error:
        fail(f"{path}: cannot read: {error.strerror}")
    try:
        return parse_alert(raw, source)
    except AlertParseError as error:
        fail(f"{path}: {error}")
    except SnsSubscriptionConfirmation:
        fail(f"{path}: an SNS subscription confirmation, not an alarm; `triage serve` confirms it")


def _runner(ctx: TriageContext) -> TriageRunner:
    """The graph, imported on first use: `triage --help` should not pay for LangGraph."""
    from agent.runner import TriageRunner

    return TriageRunner(ctx)


def _progress(
    runner: TriageRunner, alerts: list[Alert], now: datetime | None
) -> RunOutcome | NoIncident:
    with console.status("triaging…", spinner="dots") as status:
        return runner.run(alerts, now, on_step=lambda step: status.update(f"{step}…"))


def _show(outcome: RunOutcome | NoIncident, as_json: bool, elapsed: float) -> None:
    from agent.runner import NoIncident

    if isinstance(outcome, NoIncident):  # a recovery that no open incident holds
        said = {"incident_id": None, "outcome": outcome.reason}
        print(json.dumps(said) if as_json else outcome.reason)
        return
    for line in gap_lines(outcome.incident.telemetry_gaps):
        errors.print(f"warning: {line}; the triage went on without it", markup=False)
    if as_json:
        print(json.dumps(incident_json(outcome.incident, round(elapsed, 3)), ensure_ascii=False))
        return
    console.print(incident_view(outcome.incident))
    if outcome.correlated != "new":
        console.print(f"[yellow]Attached to {outcome.incident.id} ({outcome.correlated}).[/]")


def _replay_now(alerts: list[Alert], dataset: Path | None) -> datetime | None:
    """For a replay without --now: a few minutes after the alert, within the data."""
    if dataset is None:
        return None
    return ReplayDataset.open(dataset.resolve()).clock_after(max(a.starts_at for a in alerts))


@app.command()
def run(
    alert: Annotated[Path, typer.Argument(help="Alert payload file (JSON), or - for stdin.")],
    *,
    source: Annotated[
        str | None,
        typer.Option(help="alertmanager | cloudwatch | datadog | generic (default: detect)."),
    ] = None,
    telemetry: Annotated[
        Path | None, typer.Option(help="A replay/1 dataset folder to read telemetry from.")
    ] = None,
    now: Annotated[
        datetime | None,
        typer.Option(
            help="The triage clock (UTC); default: now, or for a replay 5 min after the alert."
        ),
    ] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Triage one alert up to the approval step and show the incident and drafts."""
    alerts = _read_alerts(alert, source)
    ctx = _context(config, home, telemetry)
    clock = now or _replay_now(alerts, telemetry or ctx.config.telemetry.replay_path())
    started = time.perf_counter()
    outcome = _progress(_runner(ctx), alerts, _utc(clock))
    _show(outcome, as_json, time.perf_counter() - started)


@app.command()
def replay(
    dataset: Annotated[Path, typer.Argument(help="A replay/1 dataset folder.")],
    case: Annotated[list[str] | None, typer.Option(help="Only this case id (repeatable).")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Triage replayed cases as if live at each case's clock (each its own incident)."""
    replayed = ReplayDataset.open(dataset.resolve())
    cases = [c for c in replayed.cases() if not case or c.id in case]
    if not cases:
        fail(f"{dataset}: no case {', '.join(case or [])} (first: {replayed.cases()[0].id})")
    root = data_dir(home) / "replays" / replayed.info.name
    for item in cases:
        case_home = root / item.id
        shutil.rmtree(case_home, ignore_errors=True)
        ctx = build_context(load_config(config), home=case_home, telemetry=replayed.at)
        alerts = parse_alert(item.alert.payload, item.alert.source)
        started = time.perf_counter()
        outcome = _progress(_runner(ctx), alerts, item.now)
        _show(outcome, as_json, time.perf_counter() - started)
        if not as_json:
            console.print(f"[dim]state: --data-dir {case_home}[/]")


@app.command()
def drafts(
    incident: Annotated[str, typer.Argument(help="Incident id, e.g. INC-20261126-0001.")],
    as_json: JsonOption = False,
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Show an incident's drafts and their states."""
    found = _context(config, home).store.get(incident)
    if as_json:
        print(json.dumps(incident_json(found)["drafts"], ensure_ascii=False))
        return
    for panel in drafts_view(found):
        console.print(panel)


@app.command()
def approve(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    draft: Annotated[str, typer.Argument(help="Draft id (see `triage drafts`).")],
    *,
    edit: Annotated[
        Path | None, typer.Option("--edit", help="File with the edited body to send instead.")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--as", help="Sign off as this role (legal, pr) where a draft needs several sign-offs."
        ),
    ] = None,
    by: ByOption = "",
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Approve a draft (optionally edited); it is sent once every required sign-off is in."""
    body = _edited_body(edit) if edit else None
    decision = Decision(
        draft_id=draft, action="approve", by=by or _user(), edited_body=body, role=role
    )
    _decide(incident, decision, config, home)


@app.command()
def reject(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    draft: Annotated[str, typer.Argument(help="Draft id.")],
    *,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded; required).")],
    by: ByOption = "",
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Reject a draft with a reason; nothing is sent."""
    decision = Decision(draft_id=draft, action="reject", by=by or _user(), reason=reason)
    _decide(incident, decision, config, home)


def _edited_body(path: Path) -> str:
    """The message a person wrote for --edit, as text; anything else is refused in one
    line before a decision is recorded."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"{path}: cannot read: {error.strerror}")
    except UnicodeDecodeError as error:
        fail(f"{path}: not UTF-8 text (byte {error.start}); --edit takes the message as text")


def _decide(incident: str, decision: Decision, config: Path | None, home: Path | None) -> None:
    outcome = _desk(config, home).decide(incident, decision)
    found = outcome.incident.draft(decision.draft_id)
    state = draft_state(outcome.incident, found) if found else "?"
    console.print(f"{decision.draft_id}: [bold]{escape(state)}[/]")
    for entry in outcome.incident.timeline[-2:]:
        console.print(f"  {entry.at:%Y-%m-%d %H:%M:%S} {entry.kind}: {entry.text}", markup=False)
    if outcome.pending:
        console.print(f"still pending: {', '.join(p['id'] for p in outcome.pending)}")


def _desk(config: Path | None, home: Path | None) -> Desk:
    from agent.service.desk import Desk  # through the desk: workers may hold the incident

    return Desk(_context(config, home))


def _stage(incident: Incident) -> None:
    from agent.incident.lifecycle import lifecycle

    life = lifecycle(incident)
    console.print(f"{incident.id}: [bold]{life.stage}[/]")
    for stage in life.stages:
        console.print(f"  {stage.at:%Y-%m-%d %H:%M:%S} {stage.name:12} {stage.by}", markup=False)


@app.command()
def ack(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    by: ByOption = "",
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Acknowledge: someone has it in hand; escalation of unanswered pages stops."""
    _stage(_desk(config, home).acknowledge(incident, by or _user()))


@app.command()
def mitigate(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    note: Annotated[str, typer.Option("--note", help="What stopped the harm.")] = "",
    by: ByOption = "",
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Mitigated: the harm has stopped, the cause may still be open."""
    _stage(_desk(config, home).mitigate(incident, by or _user(), note))


@app.command()
def command(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    to: Annotated[str, typer.Option("--to", help="Who takes command (a person in the policy).")],
    by: ByOption = "",
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Hand over incident command; pending drafts are rewritten to name the new IC."""
    handed = _desk(config, home).hand_over(incident, by or _user(), to)
    ic = handed.routing.incident_commander.name if handed.routing else "?"
    console.print(f"{handed.id}: incident commander {ic}.")


@app.command()
def resolve(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    *,
    cause: Annotated[str, typer.Option("--cause", help="The service confirmed as the cause.")],
    fault_type: Annotated[
        FaultType, typer.Option("--fault-type", help="The confirmed kind of fault.")
    ] = "unknown",
    change: Annotated[
        str | None, typer.Option("--change", help="The change that set it off (deploy id).")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="What went wrong, in words.")] = "",
    resolution: Annotated[str, typer.Option("--resolution", help="What fixed it.")] = "",
    by: ByOption = "",
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Resolve with the confirmed cause (kept beside the engine's ranking); a postmortem
    draft follows, shaped by the severity's retrospective policy."""
    from agent.incident.models import RootCause

    confirmed = RootCause(
        service=cause, fault_type=fault_type, change_id=change, note=note, resolution=resolution
    )
    resolved = _desk(config, home).resolve(incident, by or _user(), confirmed)
    _stage(resolved)
    record = resolved.root_cause.engine if resolved.root_cause else None
    if record is not None:
        where = f"ranked it #{record.rank}" if record.rank else "did not rank it"
        console.print(f"The engine {where} (its top: {', '.join(record.ranking[:3])}).")


@app.command()
def postmortem(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    *,
    lang: Annotated[
        Language | None, typer.Option("--lang", help="en | ja (default: the policy's language).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the Markdown here.")] = None,
    as_json: JsonOption = False,
    by: ByOption = "",
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """The resolved incident's postmortem draft (approve it like any draft); in another
    language it is redrafted as a new pending revision."""
    from agent.retrospective.document import PostmortemView

    desk = _desk(config, home)
    draft = desk.postmortem(incident, lang or desk.ctx.language, by or _user())
    if out is not None:
        out.write_text(draft.body, encoding="utf-8")
    if as_json:
        print(PostmortemView.of(draft).model_dump_json())
        return
    console.print(Panel(draft.body, title=f"{draft.id} ({draft.state})"), markup=False)


@app.command()
def stats(
    since: Annotated[
        datetime | None, typer.Option("--since", help="Only incidents opened since (UTC).")
    ] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Incidents by severity and team, time to acknowledge and resolve, and the engine's
    record on confirmed causes (top-1/top-3 accuracy, calibration of its confidence)."""
    from agent.incident.scorecard import stored_scorecard
    from agent.views import scorecard_lines

    card = stored_scorecard(_context(config, home).store, _utc(since))
    if as_json:
        print(card.model_dump_json())
        return
    for line in scorecard_lines(card):
        console.print(line, markup=False)


@app.command()
def incidents(
    as_json: JsonOption = False,
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """List recent incidents."""
    found = _context(config, home).store.recent()
    if as_json:
        print(json.dumps([incident_json(i) for i in found], ensure_ascii=False))
        return
    for item in found:
        top = item.isolation.top() if item.isolation else None
        level = item.severity.level if item.severity else "-"
        suspect = f"{top.service} ({top.fault_type})" if top else "-"
        console.print(
            f"{item.id}  {item.status:12} {level:5} {suspect}  {item.title}", markup=False
        )


@app.command()
def show(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    as_json: JsonOption = False,
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Show one incident: suspects, severity, routing, drafts, timeline."""
    found = _context(config, home).store.get(incident)
    if as_json:
        print(json.dumps(incident_json(found), ensure_ascii=False))
        return
    console.print(incident_view(found, with_bodies=False))
    for entry in found.timeline:
        console.print(
            f"  {entry.at:%Y-%m-%d %H:%M:%S} {entry.actor:10} {entry.kind}: {entry.text}",
            markup=False,
        )


@app.command()
def demo(home: HomeOption = None) -> None:
    """Replay the bundled incident end to end: triage, drafts, approve the page."""
    from agent.runner import NoIncident

    dataset = ReplayDataset.open(DEMO_DATASET.resolve())
    item = next(c for c in dataset.cases() if c.id == DEMO_CASE)
    demo_home = data_dir(home) / "demo"
    shutil.rmtree(demo_home, ignore_errors=True)
    ctx = build_context(TriageConfig(), home=demo_home, telemetry=dataset.at)
    runner = _runner(ctx)
    console.rule(f"[bold]incident-triage demo[/]: {item.title}")
    started = time.perf_counter()
    outcome = _progress(runner, parse_alert(item.alert.payload, item.alert.source), item.now)
    assert not isinstance(outcome, NoIncident), "the bundled alert is firing: it opens one"
    console.print(incident_view(outcome.incident))
    console.print(f"[green]Triaged in {time.perf_counter() - started:.1f} s.[/]")
    page = next(d for d in outcome.incident.drafts if d.kind == "page")
    decided = runner.decide(
        outcome.incident.id, Decision(draft_id=page.id, action="approve", by="demo")
    )
    console.rule("Approved the page as 'demo': it went to the outbox")
    _show_sent(Path(ctx.dispatch.outbox_path))
    _next_steps(decided, demo_home)


def _show_sent(outbox: Path) -> None:
    """What the outbox received: who approved what, and the page as the on-call reads it."""
    for line in outbox.read_text(encoding="utf-8").splitlines():
        sent = json.loads(line)
        console.print(
            f"{sent['kind']} {sent['draft_id']} → {sent['audience']} via {sent['channel']},"
            f" approved by {sent['approved_by']}, cites {', '.join(sent['evidence_ids'])}",
            markup=False,
        )
        console.print(Panel(sent["body"], title=sent["title"]), markup=False)
    console.print(f"Full records, PagerDuty Events v2 payload included: {outbox}", markup=False)


def _next_steps(outcome: RunOutcome, home: Path) -> None:
    incident = outcome.incident.id
    pending = [p["id"] for p in outcome.pending]
    top = outcome.incident.isolation.top() if outcome.incident.isolation else None
    console.rule("Try next")
    lines = [
        f"triage drafts {incident} --data-dir {home}",
        f"triage approve {incident} {pending[0]} --data-dir {home}" if pending else "",
        f"triage reject {incident} {pending[-1]} --reason 'wording' --data-dir {home}"
        if pending
        else "",
        f"triage show {incident} --data-dir {home}",
        f"triage chat {incident} --data-dir {home} -q 'what changed in the last hour?'",
        f"triage resolve {incident} --cause {top.service} --fault-type {top.fault_type}"
        f" --data-dir {home}"
        if top
        else "",
        f"triage postmortem {incident} --lang en --data-dir {home}",
        f"triage stats --data-dir {home}",
        f"triage replay {DEMO_DATASET} --json",
        f"triage eval {DEMO_DATASET} --out eval-report",
    ]
    for line in filter(None, lines):
        console.print(f"  {line}", markup=False)


def _user() -> str:
    import getpass

    return getpass.getuser()


def _utc(value: datetime | None) -> datetime | None:
    """Command-line times without an offset are UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


app.command(name="doctor")(doctor)


def _load_plugins() -> None:
    """Commands from other packages. A built-in command wins over a plug-in of the same
    name, so an install whose metadata still names a command's old home (`doctor` was a
    plug-in in tools/) neither breaks nor shadows it."""
    builtin = {
        info.name or get_command_name(info.callback.__name__)
        for info in app.registered_commands
        if info.callback is not None
    }
    for entry in entry_points(group="triage.commands"):
        if entry.name not in builtin:
            entry.load()(app)


@app.callback()
def _main() -> None:
    """incident-triage."""


def main() -> None:
    _load_plugins()
    try:
        app()
    except USER_ERRORS as error:
        errors.print(f"error: {error}{_hint(error)}", markup=False)
        raise SystemExit(2) from None


def _hint(error: Exception) -> str:
    """Where `triage demo` keeps its incidents, when one was not found elsewhere."""
    demo = data_dir(None) / "demo"
    if not isinstance(error, IncidentNotFound) or "--data-dir" in sys.argv or not demo.is_dir():
        return ""
    return f"; `triage demo` keeps its incidents in --data-dir {demo}"
