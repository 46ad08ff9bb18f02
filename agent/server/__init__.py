"""`triage serve`: alerts over webhooks, the incidents API, Slack and the war room.

Routes over the application service (agent.service); nothing here triages.
"""
