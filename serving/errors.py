"""Turning refused input into 422s that name the field, without echoing (possibly non-JSON) input back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from serving.schemas import FieldError


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """Location, message and type of each error; the input is dropped, as NaN in it cannot be JSON."""
    return [FieldError(loc=list(e["loc"]), msg=_message(e), type=str(e["type"])) for e in errors]


def _message(error: Mapping[str, Any]) -> str:
    """The error's message; for unreadable JSON with the reason, which FastAPI keeps in `ctx`."""
    reason = (error.get("ctx") or {}).get("error") if error["type"] == "json_invalid" else None
    return f"{error['msg']}: {reason}" if reason else str(error["msg"])


def too_many(field: str, limit: int, got: int, when: str = "") -> RequestValidationError:
    """The 422 for a list longer than a limit that is only known at runtime (`when` says which limit)."""
    message = f"{when}at most {limit} items allowed, got {got}"
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "too_long"}])


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 shape, minus `input` and `ctx` (a body with NaN would otherwise give a 500)."""
    assert isinstance(exc, RequestValidationError)
    detail = [e.model_dump() for e in field_errors(exc.errors())]
    return JSONResponse(status_code=422, content={"detail": detail})
