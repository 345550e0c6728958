"""Role checks. Every route outside sign-in and health names the roles that may use it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, redirect, request, url_for

from classroom_server.errors import Forbidden, NotSignedIn

F = TypeVar("F", bound=Callable[..., Any])


def requires(*roles: str) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            person = g.get("person")
            if person is None:
                if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
                    raise NotSignedIn("Please sign in.")  # a JSON client (the answer queue) gets a 401
                return redirect(url_for("auth.choose", next=request.path))
            if person.role not in roles:
                raise Forbidden("This page is not for your account.")
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
