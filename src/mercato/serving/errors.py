"""The one place where errors become HTTP responses.

Every error body has the same shape, naming the field and the reason where there is one::

    {"error": {"type": "invalid_input", "message": "...", "field": "k",
               "details": [{"field": "k", "reason": "..."}]}}

mercato's exceptions map by class (the caller's options decide the status); FastAPI's request
validation becomes 422 with one detail per problem. Anything else is a bug: it is logged and
answered 500 with no internals, and the API fuzz tests exist to keep that from happening.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mercato.errors import Conflict, InvalidInput, MercatoError, NotFound, NotReady, Unavailable

log = logging.getLogger(__name__)

# (class, status, type); the first match wins, so subclasses come first.
STATUS_BY_ERROR: tuple[tuple[type[MercatoError], int, str], ...] = (
    (InvalidInput, 422, "invalid_input"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (NotReady, 503, "not_ready"),
    (Unavailable, 503, "unavailable"),
    (MercatoError, 400, "error"),
)


def error_body(kind: str, message: str, field: str | None = None, details: list[dict[str, Any]] | None = None) -> dict:
    error: dict[str, Any] = {"type": kind, "message": message}
    if field is not None:
        error["field"] = field
    if details:
        error["details"] = details
    return {"error": error}


def _mercato_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MercatoError)
    status, kind = next((s, k) for cls, s, k in STATUS_BY_ERROR if isinstance(exc, cls))
    field = getattr(exc, "field", None)
    # A rejected batch carries one detail per bad event (index, field, reason).
    details = getattr(exc, "details", None) or ([{"field": field, "reason": str(exc)}] if field else None)
    headers = {"Retry-After": "1"} if status == 503 else None
    return JSONResponse(error_body(kind, str(exc), field, details), status_code=status, headers=headers)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = []
    for problem in exc.errors():
        # loc is ("body" | "query" | "path", name, ...): the first part says where, not what.
        loc = [str(part) for part in problem.get("loc", ())]
        field = ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc)
        details.append({"field": field, "reason": problem.get("msg", "invalid")})
    first = details[0] if details else {"field": None, "reason": "invalid request"}
    message = f"{first['field']}: {first['reason']}" if first["field"] else first["reason"]
    return JSONResponse(error_body("invalid_input", message, first["field"], details), status_code=422)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(error_body(kind, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("internal", "internal error; see the server log"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MercatoError, _mercato_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
