"""Approvals: the recorded human decision that lets a draft leave (see docs/dispatch.md).

Import from the modules (`agent.approval.service`): agent.incident.models imports
this package, so re-exporting the service here would be an import cycle.
"""
