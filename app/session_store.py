"""Flask's session kept on the server (`web_session` rows); the cookie carries only a token.

The request's database session does the reads and writes, and the store commits its own
bookkeeping after the answer is rendered (it is not part of the request's unit of work).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Request, Response, g
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from app.models import WebSession
from app.services.accounts import web_sessions

_serializer = TaggedJSONSerializer()  # Flask's own: keeps tuples, bytes, markup in flashes
log = logging.getLogger("batchbook")


# Requests the browser makes by itself for files: they never read or change the session.
SESSIONLESS_PATHS = ("/assets/", "/healthz", "/sw.js", "/manifest.webmanifest")


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The session's values, plus which row they belong to and what should happen to it."""

    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        *,
        row_id: int | None = None,
        detached: bool = False,
    ):
        def on_update(_self: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.row_id = row_id
        self.modified = False
        self.ended = False  # the row was ended in this request: the cookie goes too
        self.last_seen_at: Any = None
        self.touched = False  # counts as activity: moves last_seen_at
        self.detached = detached  # a request that neither reads nor writes the session

    def forget(self) -> None:
        """This session's row has been ended: its values go, and anything said afterwards (a
        flash) starts a new, anonymous one."""
        self.ended = self.row_id is not None
        self.row_id = None
        self.clear()


class ServerSessionInterface(SessionInterface):
    def __init__(self, secure_always: bool) -> None:
        self.secure_always = secure_always

    def get_cookie_secure(self, app: Flask) -> bool:
        # Always in production; otherwise whenever the request came over HTTPS.
        from flask import request

        return self.secure_always or request.is_secure

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        from app import web

        token = request.cookies.get(self.get_cookie_name(app))
        if not token:
            return ServerSession()  # a first visit: nothing to look up
        if request.path.startswith(SESSIONLESS_PATHS):
            return ServerSession(detached=True)  # assets and health checks need no session
        row = web_sessions.find_open(web.db_session(), token)
        if row is None:
            return ServerSession()
        shown = ServerSession(_serializer.loads(row.data), row_id=row.id)
        shown.last_seen_at = row.last_seen_at
        return shown

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        from flask import request

        from app import web

        assert isinstance(session, ServerSession)
        if session.detached or (session.row_id is None and not session and not session.ended):
            return  # nothing kept, nothing to end: no database work for this request
        db, clock = web.db_session(), web.plant_clock()
        name, domain, path = (
            self.get_cookie_name(app),
            self.get_cookie_domain(app),
            self.get_cookie_path(app),
        )
        try:
            if session.row_id is None:
                if session:  # something to keep: a new session (a sign-in, a flash, a token)
                    token, _row = web_sessions.start(
                        db,
                        data=_serializer.dumps(dict(session)),
                        user_id=_user_id(session),
                        device=request.user_agent.string,
                        clock=clock,
                    )
                    self._set_cookie(app, response, token)
                elif session.ended:
                    response.delete_cookie(name, domain=domain, path=path)
            else:
                row = db.get(WebSession, session.row_id)
                if row is not None and (session.modified or session.touched):
                    if session.modified:
                        row.data = _serializer.dumps(dict(session))
                    if session.touched:
                        row.last_seen_at = clock.now()
                    db.add(row)
            db.commit()
        except Exception:
            # The session stays as it was before this request (an ending is retried by the
            # next request's checks); the answer already rendered still goes out.
            db.rollback()
            log.exception("session not saved (request_id=%s)", g.get("request_id"))

    def _set_cookie(self, app: Flask, response: Response, token: str) -> None:
        response.set_cookie(
            self.get_cookie_name(app),
            token,
            httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
        )


def _user_id(session: ServerSession) -> int | None:
    raw = session.get("_user_id")
    return int(raw) if raw is not None else None
