"""An engine that cannot be reached at start is one clear line, never a traceback."""


class EngineUnavailable(RuntimeError):
    """PostgreSQL or Redis could not be reached or set up; the message says where and why."""
