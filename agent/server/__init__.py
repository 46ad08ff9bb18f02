"""`triage serve`: alerts over webhooks, the incidents API, Slack and the war room.

Kept import-light: agent.config imports agent.server.config, so nothing here
may pull in the web framework.
"""
