"""Dispatch: sending approved drafts through one adapter per channel (see docs/dispatch.md).

Import from the modules (`agent.dispatch.service`): agent.incident.models imports
this package, so re-exporting the service here would be an import cycle.
"""
