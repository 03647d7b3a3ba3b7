"""Request plumbing: one transaction per request, sign-in, idle timeout, CSRF, headers, errors."""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from app import htmx
from app.config import Settings
from app.db import Database
from app.models import User
from app.services.accounts import auth, web_sessions
from app.services.core import audit, checkpoints
from app.services.core.clock import Clock
from app.services.core.errors import DomainError, PermissionDenied, Rejected, SignatureRefused
from app.services.esign.signers import SigningPolicy
from app.services.esign.webauthn import RelyingParty
from app.session_store import ServerSession, ServerSessionInterface

log = logging.getLogger("batchbook.request")
Result = TypeVar("Result")
csrf = CSRFProtect()
login_manager = LoginManager()


def settings() -> Settings:
    from flask import current_app

    return current_app.extensions["settings"]  # type: ignore[no-any-return]


def database() -> Database:
    from flask import current_app

    return current_app.extensions["db"]  # type: ignore[no-any-return]


def plant_clock() -> Clock:
    """The app's clock: every service call of a request takes its time and plant date here."""
    from flask import current_app

    return current_app.extensions["clock"]  # type: ignore[no-any-return]


def safe_local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (an open redirect is a phishing aid)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return None


def relying_party() -> RelyingParty:
    s = settings()
    return RelyingParty(id=s.webauthn_rp_id, name=s.webauthn_rp_name, origins=s.webauthn_origins)


def signing_policy() -> SigningPolicy:
    s = settings()
    return SigningPolicy(s.password_signing, s.signing_max_failures, s.signing_lock_seconds)


def db_session() -> Session:
    """The request's session. The request is the unit of work: `act` (or, for a view that does
    not use it, the view wrapper) commits it once, before the answer goes out."""
    if "db_session" not in g:
        g.db_session = database().new_session()
    return g.db_session  # type: ignore[no-any-return]


def rollback() -> None:
    if "db_session" in g:
        g.db_session.rollback()


def commit() -> None:
    """Commit the request's work now. If the commit fails, nothing this request said ("saved",
    "created") reaches the user: its flashed messages are withdrawn and the error is raised."""
    if "db_session" not in g:
        return
    try:
        g.db_session.commit()
    except Exception:
        g.db_session.rollback()
        _withdraw_flashes()
        raise
    _checkpoint_if_due()


def _checkpoint_if_due() -> None:
    """Regularly, after a commit, sign the audit chain's head into the checkpoint log (outside
    the database). A failure here is logged, never shown: the user's work is committed."""
    app = current_app
    s, clock = settings(), plant_clock()
    every = timedelta(minutes=s.audit_checkpoint_minutes)
    if not checkpoints.is_due(app.extensions.get("audit_checkpoint_at"), every=every, clock=clock):
        return
    app.extensions["audit_checkpoint_at"] = clock.now()
    try:
        checkpoints.CheckpointStore(s.audit_checkpoint_dir).write(g.db_session, clock=clock)
        g.db_session.commit()  # ends the read transaction
    except Exception:
        g.db_session.rollback()
        logging.getLogger("batchbook").exception("audit checkpoint not written")


def _withdraw_flashes() -> None:
    flashes = session.get("_flashes")
    if flashes is not None:
        session["_flashes"] = flashes[: g.get("flashes_before", 0)]


def act(
    call: Callable[[], Result],
    *,
    done: Callable[[Result], ResponseReturnValue],
    refused: Callable[[Rejected], ResponseReturnValue] | None = None,
) -> ResponseReturnValue:
    """One service call as the request's unit of work: run it, commit, then answer with
    `done(result)` (a redirect, a page, a partial). A refusal rolls everything back and answers
    with `refused(exc)`, the form again with each message beside its field (HTTP 422); without
    `refused`, the error handler shows it. Success is only ever shown after the commit."""
    try:
        result = call()
    except Rejected as exc:
        rollback()
        if refused is None:
            raise
        return _with_status(refused(exc), exc.status_code)
    commit()
    return done(result)


def go_to(url: str, message: str, category: str = "success") -> Callable[[object], Response]:
    """A `done` for `act`: say what was saved and open `url` (the whole page, also for htmx)."""

    def done(_result: object) -> Response:
        flash(message, category)
        return htmx.full_redirect(url)

    return done


def _with_status(answer: ResponseReturnValue, status: int) -> ResponseReturnValue:
    if isinstance(answer, tuple):
        return answer
    if isinstance(answer, Response):
        answer.status_code = status
        return answer
    return answer, status  # type: ignore[return-value]


def commit_before_answering(app: Flask) -> None:
    """Wrap every view so the request's work is committed before its answer is sent."""
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = _committing(view)


def _committing(view: Callable[..., Any]) -> Callable[..., Any]:
    """Views that write without `act` still commit before their answer leaves the server."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        answer = view(*args, **kwargs)
        commit()
        return answer

    return wrapper


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class RecordId(IntegerConverter):
    """A record id in a URL: a positive whole number that fits the database's integer, so
    /users/99999999999999999999 is "not found", never a database overflow."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


def _refuse_nul_characters() -> Response | None:
    # PostgreSQL cannot store or compare NUL; a value with one is nonsense from any form.
    values = [*request.args.values(), *request.form.values(), request.path]
    if any("\x00" in value for value in values):
        return render_error(
            "The request contained a NUL character, which no field accepts. "
            "Check what was typed or scanned.",
            400,
        )
    return None


def init_app(app: Flask) -> None:
    app.session_interface = ServerSessionInterface(
        secure_always=app.extensions["settings"].production
    )
    app.before_request(_start_request)  # before CSRF's check, so refusals are logged with an id
    app.before_request(_refuse_nul_characters)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        user = db_session().get(User, int(user_id))
        return user if user is not None and user.active else None

    @login_manager.unauthorized_handler
    def _unauthorized() -> Response:
        wanted = request.full_path.rstrip("?") if request.method == "GET" else None
        target = url_for("auth.login", next=wanted)
        if htmx.is_htmx():
            return htmx.full_redirect(target)
        flash("Please sign in to continue.", "info")
        return htmx.full_redirect(target)

    app.before_request(_enforce_idle_timeout)
    app.after_request(_finish_request)
    app.teardown_request(_close_session)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(IntegrityError, _collision)
    app.register_error_handler(Exception, _unexpected_error)

    app.add_template_filter(_plant_time, "plant_time")
    app.add_template_filter(_is_future, "is_future")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        s = settings()
        return {
            "idle_timeout_seconds": s.idle_timeout_seconds,
            "plant_tz": s.plant_tz,
            "is_htmx": htmx.is_htmx(),
        }


def _plant_time(value: datetime | None) -> str:
    """A server time in the plant's zone with its abbreviation: 2026-11-22 14:05 CET."""
    return "" if value is None else plant_clock().shown(value)


def _is_future(value: datetime | None) -> bool:
    return value is not None and value > plant_clock().now()


def _start_request() -> None:
    g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex[:16]
    g.flashes_before = len(session.get("_flashes", []))
    g.started = time.perf_counter()


# Requests a browser makes by itself (assets, service-worker update checks, the offline page it
# precaches, load balancers) neither count as activity nor end a session.
NOT_ACTIVITY = frozenset(
    {
        None,
        "static",
        "assets.file",
        "health.healthz",
        "pwa.manifest",
        "pwa.service_worker",
        "pwa.offline",
    }
)


ACTIVITY_RESOLUTION_SECONDS = 10


def _enforce_idle_timeout() -> Response | None:
    """End a session left idle too long (Part 11 §11.200: controlled, continuous access). The
    last activity is kept on the server, so every app server and every tab agrees."""
    if request.endpoint in NOT_ACTIVITY:
        return None
    if not current_user.is_authenticated:
        return None
    server_session = _server_session()
    clock = plant_clock()
    if server_session.last_seen_at is not None and clock.now() - server_session.last_seen_at > (
        timedelta(seconds=settings().idle_timeout_seconds)
    ):
        auth.sign_out(
            db_session(), user=current_user._get_current_object(), expired=True, clock=clock
        )
        end_signed_in_session(web_sessions.IDLE)
        commit()
        minutes = max(1, round(settings().idle_timeout_seconds / 60))
        flash(f"You were signed out after {minutes} min without activity. Sign in again.", "info")
        return htmx.full_redirect(url_for("auth.login", expired=1))
    # Activity moves the server's clock of the session; at most every few seconds, so a page
    # and its partials do not each write it.
    server_session.touched = server_session.last_seen_at is None or (
        clock.now() - server_session.last_seen_at >= timedelta(seconds=ACTIVITY_RESOLUTION_SECONDS)
    )
    return None


def _server_session() -> ServerSession:
    target = session._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(target, ServerSession)
    return target


def current_web_session_id() -> int | None:
    """The server-side session this request belongs to (None before it is first saved)."""
    return _server_session().row_id


def begin_signed_in_session(user: User) -> None:
    """Sign `user` in on a new session id (the anonymous one before ends: no fixation)."""
    _end_this_session(web_sessions.REPLACED)
    login_user(user)


def end_signed_in_session(reason: str) -> None:
    """Sign out here: the server-side session ends in this request's unit of work, so its
    cookie is worthless from the moment the answer leaves."""
    logout_user()
    _end_this_session(reason)


def _end_this_session(reason: str) -> None:
    server_session = _server_session()
    if server_session.row_id is not None:
        web_sessions.end_by_id(
            db_session(), server_session.row_id, reason=reason, clock=plant_clock()
        )
    server_session.forget()


def _finish_request(response: Response) -> Response:
    # No commit here: the answer was rendered already, so a commit failing now could not take
    # back a "saved" it shows. `act` and the view wrapper commit before answering.
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    if settings().production:
        # Production is served over HTTPS only (BATCHBOOK_ENV=production), proxy or not.
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
    if "Cache-Control" not in headers and response.mimetype == "text/html":
        # Batch data must never come back from a cache after sign-out or on the back button.
        headers["Cache-Control"] = "no-store"
    headers["X-Request-ID"] = g.get("request_id", "")
    duration_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    log.info(
        json.dumps(
            {
                "event": "request",
                "request_id": g.get("request_id"),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(duration_ms, 1),
                "user": current_user.username if current_user.is_authenticated else None,
            }
        )
    )
    return response


def _close_session(_exc: BaseException | None) -> None:
    db = g.pop("db_session", None)
    if db is not None:
        db.close()  # rolls back anything not committed


def render_error(message: str, status: int, *, violations: Any = None) -> Response:
    """htmx gets the message partial in the messages region; a page request gets a whole page;
    the browser's own fetch() calls (passkey ceremonies) get JSON."""
    if request.is_json:
        return Response(
            json.dumps({"error": message, "violations": [v.message for v in violations or []]}),
            status=status,
            mimetype="application/json",
        )
    if htmx.wants_partial():
        body = render_template(
            "_shared/_errors.html", message=message, violations=violations, status=status
        )
        response = Response(body, status=status)
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    body = render_template(
        "_shared/error_page.html", message=message, violations=violations, status=status
    )
    return Response(body, status=status)


def _domain_error(exc: DomainError) -> Response:
    if exc.keeps_changes and "db_session" in g:
        g.db_session.commit()
    else:
        rollback()
    if isinstance(exc, PermissionDenied | SignatureRefused):
        try:
            record_refusal(exc)
            db_session().commit()  # its own transaction: the refused work was rolled back
        except Exception:
            rollback()
            logging.getLogger("batchbook").exception("refusal not audited")
    violations = exc.violations if isinstance(exc, Rejected) else None
    return render_error(exc.message, exc.status_code, violations=violations)


def record_refusal(exc: DomainError) -> None:
    """A refused action leaves a trace (§11.300(d)): who tried what, where, and the answer.
    Recorded in the request's transaction; the caller commits it."""
    actor = current_user._get_current_object() if current_user.is_authenticated else None
    audit.record(
        db_session(),
        actor=actor,
        action="access.refused" if isinstance(exc, PermissionDenied) else "signing.refused",
        entity_type="request",
        entity_id=request.endpoint or request.path[:120],
        after={
            "method": request.method,
            "path": request.path[:200],
            "http_status": 422 if isinstance(exc, SignatureRefused) else exc.status_code,
            "answer": exc.message[:500],
        },
        clock=plant_clock(),
    )


def _csrf_error(exc: CSRFError) -> Response:
    rollback()
    return render_error(
        "This form was refused because its security token is missing or expired "
        "(CSRF protection). Reload the page and try again.",
        400,
    )


def _http_error(exc: HTTPException) -> Any:
    rollback()
    if exc.code is None or exc.code < 400:
        return exc
    return render_error(exc.description or exc.name, exc.code)


def _collision(exc: IntegrityError) -> Response:
    """A unique key taken by a request that committed a moment earlier (the same thing sent
    twice at once, where no one-time key caught it): nothing of this request was saved, and the
    user is told so in a sentence, not a server error."""
    if not _is_unique_violation(exc):
        return _unexpected_error(exc)
    rollback()
    _withdraw_flashes()
    logging.getLogger("batchbook").warning(
        "unique collision (request_id=%s): %s", g.get("request_id"), exc.orig
    )
    return render_error(
        "This was already recorded by another request at the same moment; nothing was recorded "
        "twice. Reload the page to see what was saved.",
        409,
    )


def _is_unique_violation(exc: IntegrityError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)  # psycopg
    if code is not None:
        return bool(code == "23505")  # unique_violation
    return "UNIQUE constraint failed" in str(exc.orig)  # sqlite3


def _unexpected_error(exc: Exception) -> Response:
    rollback()
    _withdraw_flashes()
    logging.getLogger("batchbook").exception("unhandled error (request_id=%s)", g.get("request_id"))
    return render_error(
        "Something went wrong on the server and nothing was saved. "
        f"Tell your supervisor or IT, quoting reference {g.get('request_id', '-')}.",
        500,
    )
