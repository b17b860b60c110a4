"""One place where errors become HTTP: every refusal is JSON with a code, never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)

from appliance.core.errors import PhsError

log = logging.getLogger("phs.web")


def phs_error_response(_: Request[Any, Any, Any], exc: PhsError) -> Response[dict[str, Any]]:
    """A refusal: its status and JSON body."""
    if exc.code == "device_revoked":  # the browser itself drops the revoked tablet's caches and storage
        return Response(exc.to_dict(), status_code=exc.status, headers={"Clear-Site-Data": '"cache", "cookies", "storage"'})
    return Response(exc.to_dict(), status_code=exc.status)


def http_error_response(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    """Framework errors (bad JSON, unknown route, wrong method) in our shape."""
    if isinstance(exc, NotFoundException):
        err = PhsError("not_found")
    elif isinstance(exc, NotAuthorizedException):
        err = PhsError("not_paired")
    elif isinstance(exc, PermissionDeniedException):
        err = PhsError("forbidden")
    elif exc.status_code == 413:
        err = PhsError("payload_too_large")
    elif exc.status_code == 405:
        err = PhsError("invalid", "Phương thức không được hỗ trợ.", "Method not allowed.")
        return Response(err.to_dict(), status_code=405)
    elif exc.status_code < 500:
        err = PhsError("invalid", detail_text=str(exc.detail)[:300])
    else:
        err = PhsError("internal")
    return Response(err.to_dict(), status_code=err.status if exc.status_code != 400 else 400)


def recursion_error_response(_: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, Any]]:
    """Absurdly nested JSON: refused without a traceback in the log."""
    return Response(PhsError("invalid", message_en="The body is nested too deeply.").to_dict(), status_code=400)


def internal_error_response(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """An unexpected failure: logged with its type, answered with a code."""
    log.exception("unhandled error", extra={"error": type(exc).__name__})
    return Response(PhsError("internal").to_dict(), status_code=500)
