"""PostgreSQL (psycopg 3) for incidents, the inbox, the outbox, locks and checkpoints.

Every process opens one connection pool (`Database`) and applies the versioned
migrations in migrations/ at start, one process at a time; LangGraph's own
checkpoint tables come from langgraph-checkpoint-postgres's `setup()`.
"""
