"""Who an api3 call acts for: script key, a person's login and password, or a session token.

`shotgun_api3` (`Shotgun._auth_params`) sends one of `{script_name, script_key}`,
`{user_login, user_password}` or `{session_token, reject_if_expired}`, plus optionally
`sudo_as_login` and `session_uuid`. Refusals carry error code 102, which the client raises as
`AuthenticationFault`; the messages are the site's words for the REST grants (probe 027).
A session token is what `get_session_token` hands out for the caller; it lives as long as
`session_lifetime_seconds` on the injected clock.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .api3_protocol import ERR_AUTH, Api3Fault
from .store import Link


@dataclass(frozen=True, slots=True)
class Api3Credentials:
    """The site's script and the shared sandbox password of every person."""

    script_name: str
    script_key: str
    api_user: Link
    person_password: str
    find_person: Callable[[str], Link | None]  # an active HumanUser by login, or None


class Api3Auth:
    """Checks auth params and keeps issued session tokens."""

    def __init__(
        self,
        credentials: Api3Credentials,
        clock: Callable[[], datetime],
        *,
        session_lifetime_seconds: int = 86_400,
    ) -> None:
        self.credentials, self.clock = credentials, clock
        self.lifetime = timedelta(seconds=session_lifetime_seconds)
        self._sessions: dict[str, tuple[Link, datetime]] = {}
        self._lock = threading.Lock()

    def authenticate(self, auth: dict[str, Any]) -> Link:
        """The actor behind an auth hash; `Api3Fault` code 102 when refused."""
        actor = self._principal(auth)
        sudo = auth.get("sudo_as_login")
        if sudo is None:
            return actor
        person = self.credentials.find_person(str(sudo))
        if person is None:
            raise Api3Fault(f"Can't authenticate user '{sudo}' for sudo_as_login.", ERR_AUTH)
        return person

    def issue_session(self, actor: Link) -> str:
        """A new session token for the caller (`get_session_token`)."""
        token = secrets.token_hex(16)
        with self._lock:
            self._sessions[token] = (actor, self.clock() + self.lifetime)
        return token

    def _principal(self, auth: dict[str, Any]) -> Link:
        creds = self.credentials
        if "user_login" in auth or "user_password" in auth:
            login, password = str(auth.get("user_login", "")), str(auth.get("user_password", ""))
            person = creds.find_person(login)
            if person is not None and hmac.compare_digest(password, creds.person_password):
                return person
            raise Api3Fault(f"Can't authenticate user '{login}'.", ERR_AUTH)
        if "script_name" in auth or "script_key" in auth:
            name, key = str(auth.get("script_name", "")), str(auth.get("script_key", ""))
            if name == creds.script_name and hmac.compare_digest(key, creds.script_key):
                return creds.api_user
            raise Api3Fault(f"Can't authenticate script '{name}'.", ERR_AUTH)
        if "session_token" in auth:
            token = str(auth["session_token"])
            with self._lock:
                session = self._sessions.get(token)
                if session is not None and session[1] <= self.clock():
                    del self._sessions[token]
                    session = None
            if session is None:
                raise Api3Fault(
                    f"Can't authenticate session token ending with '{token[-4:]}'", ERR_AUTH
                )
            return session[0]
        raise Api3Fault("No authentication parameters were sent.", ERR_AUTH)
