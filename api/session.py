"""`POST /login` turns a token into a session cookie, `POST /logout` ends it (see api/cookies.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from api.auth import authenticate
from api.cookies import COOKIE, CSRF_COOKIE, check_csrf, issue, refuse_cross_site, verify
from api.errors import AuthenticationError, BadRequestError
from gridmap.texts import Message

router = APIRouter(tags=["session"])

MAX_TOKEN_FORM = 512


class Login(BaseModel):
    """A sign-in: the token as JSON (`{"token": …}`) or as the form field `token`."""

    token: Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_FORM)]


async def _login_token(request: Request) -> str:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            body: Any = await request.json()
        except ValueError:
            raise BadRequestError(Message("api.session.not_json"), field="token") from None
        raw = body.get("token") if isinstance(body, dict) else None
    elif kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raw = (await request.form()).get("token")
    else:
        raise BadRequestError(Message("api.session.how", example='{"token": …}'), field="token")
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_TOKEN_FORM:
        raise BadRequestError(Message("api.session.no_token"), field="token")
    return raw.strip()


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and request.headers.get(
        "content-type", ""
    ).startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


@router.post(
    "/login",
    summary="Sign in: a configured token becomes a session cookie",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": Login.model_json_schema()},
                "application/x-www-form-urlencoded": {"schema": Login.model_json_schema()},
            },
            "required": True,
        }
    },
)
async def login(request: Request) -> Response:
    """Sets an HttpOnly, SameSite=Strict, expiring cookie; answers the role and the CSRF nonce for writes."""
    refuse_cross_site(request, Message("api.action.sign_in"))
    token = await _login_token(request)
    grants = request.app.state.grants
    caller = authenticate(request, token)
    lifetime = int(request.app.state.settings.session_hours * 3600)
    value, session = issue(token, grants, lifetime)
    body = {
        "role": caller.role.value,
        "name": caller.name,
        "communities": sorted(caller.communities),
        "csrf_token": session.csrf,
        "expires": session.expires,
    }
    response: Response = (
        RedirectResponse("/", status_code=303) if _wants_html(request) else JSONResponse(body)
    )
    secure = request.url.scheme == "https"
    response.set_cookie(
        COOKIE, value, max_age=lifetime, httponly=True, samesite="strict", secure=secure, path="/"
    )
    # Readable by the console's script (and only by same-origin pages), to send back as X-CSRF-Token.
    response.set_cookie(
        CSRF_COOKIE,
        session.csrf,
        max_age=lifetime,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return response


@router.post("/logout", summary="Sign out: the session ends and its cookie is removed")
async def logout(request: Request) -> Response:
    """Ends the session on the server (a copy of its cookie stops working) and clears the cookies.

    With a session cookie the request must echo its CSRF nonce, as every write
    does; a cross-site request is refused. Harmless without a session.
    """
    refuse_cross_site(request, Message("api.action.sign_out"))
    value = request.cookies.get(COOKIE)
    if value:
        try:
            session = verify(value, request.app.state.grants, request.app.state.ended_sessions)
        except AuthenticationError:
            session = None  # expired, ended or forged: nothing left to end
        if session is not None:
            check_csrf(request, session)
            request.app.state.ended_sessions.end(session)
    response: Response = (
        RedirectResponse("/", status_code=303)
        if "text/html" in request.headers.get("accept", "")
        else JSONResponse({"signed_out": True})
    )
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")
    return response
