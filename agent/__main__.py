"""`python -m agent` is the `triage` command."""

from agent.cli import main

main()
