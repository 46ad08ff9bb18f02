"""The alert inbox: every accepted alert durable before the sender hears 202, and the
queue that hands it to a worker.

Two concerns, each one interface with an embedded and a distributed implementation
(chosen in agent/engines):

- `Inbox` (agent/inbox/models.py) stores accepted requests and what became of
  their triage: SQLite under the data directory (agent/inbox/sqlite.py) or PostgreSQL;
- `AlertQueue` (agent/inbox/queue.py) delivers rows to workers and is told when
  each is finished: the inbox table itself, polled by the serving process, or a
  Redis stream read by `triage worker` processes.
"""
