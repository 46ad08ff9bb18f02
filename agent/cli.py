"""`triage`: the command line.

Commands that belong to other packages (the eval harness, the simulator) are
plug-ins registered under the `triage.commands` entry-point group, so the agent
never imports the packages that drive it.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

app = typer.Typer(
    name="triage",
    help="An AI first responder for production incidents: takes the alert, isolates the fault,"
    " drafts the page and waits for a human to approve it.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _load_plugins() -> None:
    for entry in entry_points(group="triage.commands"):
        entry.load()(app)


def main() -> None:
    _load_plugins()
    app()
