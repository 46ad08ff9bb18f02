"""Errors the API answers with: always JSON naming what was wrong, never a traceback."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """The body of every 4xx/5xx answer."""

    error: str = Field(description="A stable code, e.g. 'invalid_alert' or 'unauthorized'.")
    detail: str = Field(description="What was wrong, for a person to act on.")
    field: str | None = Field(None, description="The request field at fault, when one is.")


class ApiError(Exception):
    """Raised anywhere under a route; the app turns it into a Problem with `status`."""

    def __init__(self, status: int, error: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.problem = Problem(error=error, detail=detail, field=field)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", what)
