"""The application service: what the CLI, chat, the HTTP server and the workers all use.

The desk (every write to an incident, one at a time, in step with its run), the
runs it drives, the alert inbox and the worker that drains it, and the
background jobs (escalation of unacknowledged pages, re-investigation). Nothing
here speaks HTTP: `triage serve` puts routes over it and `triage worker` runs it
without them.
"""
