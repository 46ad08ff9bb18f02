"""Retrospectives: the postmortem drafted when an incident is resolved, shaped by the
severity's retrospective policy, and what becomes of it once approved. See docs/postmortem.md."""
