"""API keys of the HTTP server: creation, listing, revocation and checks.

A key reads ``jalon_<scope>_<id>_<secret>``: ``scope`` is ``w`` (write: the
Segment-compatible ingest endpoints) or ``r`` (read: the ``/api`` endpoints),
``id`` names the row and ``secret`` carries 256 random bits. Only a salted
scrypt hash of the whole key is stored, in ``keys.sqlite``; the key itself is
shown once, when it is created.

scrypt makes a stolen key file slow to attack, and also makes each check take
tens of milliseconds. :class:`KeyChecker` therefore remembers keys it has
verified (by a SHA-256 digest, never the key text) and re-reads only the
revocation state of the row, so a key revoked from the CLI stops working at
the server's next request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from jalon.errors import N_, ApiError, ConfigError

logger = logging.getLogger(__name__)

SCOPES = ("write", "read")
SCOPE_LETTERS = {"write": "w", "read": "r"}
KEY_PREFIX = "jalon"
SECRET_BYTES = 32
ID_BYTES = 6
SALT_BYTES = 16
# scrypt cost: n=2**14 with r=8 needs 128 * r * n bytes = 16 MiB per hash.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_LENGTH = 32
BUSY_TIMEOUT_S = 10.0
MAX_REMEMBERED_REJECTIONS = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('write', 'read')),
    salt BLOB NOT NULL,
    key_hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)
"""


@dataclass(frozen=True)
class ApiKey:
    """One stored key, without its secret."""

    key_id: str
    name: str
    scope: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(SCHEMA)
    return connection


def _hash_key(key: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        key.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        dklen=SCRYPT_LENGTH,
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_key(path: Path, name: str, scope: str) -> tuple[ApiKey, str]:
    """Create a key of ``scope`` in the key file ``path``.

    Parameters
    ----------
    path
        The project's ``keys.sqlite`` (created when missing).
    name
        A label for people, such as the sending application.
    scope
        ``"write"`` for the ingest endpoints or ``"read"`` for ``/api``.

    Returns
    -------
    The stored key and its full text, which is not stored anywhere.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> key, text = create_key(folder / "keys.sqlite", "backend", "write")
    >>> text.startswith("jalon_w_" + key.key_id + "_")
    True
    """
    if scope not in SCOPES:
        raise ConfigError(
            "keys.bad_scope",
            N_("Invalid key scope {value!r}: use one of {allowed}."),
            path="scope",
            value=scope,
            allowed=", ".join(SCOPES),
        )
    if not name.strip():
        raise ConfigError(
            "keys.empty_name",
            N_("The key name is empty: give a label such as the sending application."),
            path="name",
            value=name,
        )
    key_id = secrets.token_hex(ID_BYTES)
    text = f"{KEY_PREFIX}_{SCOPE_LETTERS[scope]}_{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    salt = secrets.token_bytes(SALT_BYTES)
    key = ApiKey(key_id=key_id, name=name.strip(), scope=scope, created_at=_now())
    connection = _connect(path)
    try:
        connection.execute(
            "INSERT INTO api_keys (key_id, name, scope, salt, key_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, key.name, scope, salt, _hash_key(text, salt), key.created_at),
        )
    finally:
        connection.close()
    logger.info("created %s key %s (%s)", scope, key_id, key.name)
    return key, text


def list_keys(path: Path) -> list[ApiKey]:
    """Return every key of the key file, revoked ones included, oldest first."""
    if not path.exists():
        return []
    connection = _connect(path)
    try:
        rows = connection.execute(
            "SELECT key_id, name, scope, created_at, revoked_at FROM api_keys"
            " ORDER BY created_at, key_id"
        ).fetchall()
    finally:
        connection.close()
    return [ApiKey(*row) for row in rows]


def revoke_key(path: Path, key_id: str) -> ApiKey:
    """Revoke the key ``key_id``; revoking a revoked key keeps its first date.

    Raises
    ------
    ConfigError
        When no key has this id.
    """
    connection = _connect(path)
    try:
        connection.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (_now(), key_id),
        )
        row = connection.execute(
            "SELECT key_id, name, scope, created_at, revoked_at FROM api_keys"
            " WHERE key_id = ?",
            (key_id,),
        ).fetchone()
    finally:
        connection.close()
    if row is None:
        raise ConfigError(
            "keys.unknown_id",
            N_("No API key has the id {value!r}: run 'jalon keys list' to see them."),
            path="key_id",
            value=key_id,
        )
    logger.info("revoked key %s", key_id)
    return ApiKey(*row)


def _parse_key_id(text: str) -> str | None:
    parts = text.split("_", 3)
    if len(parts) != 4 or parts[0] != KEY_PREFIX or parts[1] not in ("w", "r"):
        return None
    return parts[2]


def _unauthorized(reason: str) -> ApiError:
    """Return the 401 error; ``reason`` goes to the log only, not to the client."""
    logger.debug("rejected a request: %s", reason)
    if reason == "revoked key":
        return ApiError(
            "api.revoked_key",
            N_("This API key was revoked: create a new one with 'jalon keys create'."),
            status=401,
        )
    return ApiError(
        "api.unauthorized",
        N_(
            "Missing or invalid API key: send a key created with 'jalon keys create'"
            " as the HTTP basic auth user name or as a bearer token."
        ),
        status=401,
    )


class KeyChecker:
    """Check keys presented to the server against the key file.

    One instance serves one server process; it is safe to call from several
    threads.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._connection = _connect(path)
        self._verified: dict[bytes, str] = {}
        self._rejected: set[bytes] = set()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def is_verified(self, text: str) -> bool:
        """Return whether ``text`` was verified before, so a check needs no scrypt."""
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        return digest in self._verified

    def check(self, text: str | None, scope: str) -> str:
        """Return the key id of ``text`` when it is active and has ``scope``.

        Raises
        ------
        ApiError
            401 for a missing, unknown or revoked key; 403 for a key of the
            other scope.
        """
        if not text:
            raise _unauthorized("no key")
        key_id = _parse_key_id(text)
        if key_id is None:
            raise _unauthorized("malformed key")
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            row = self._connection.execute(
                "SELECT scope, salt, key_hash, revoked_at FROM api_keys WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        if row is None:
            raise _unauthorized("unknown key")
        key_scope, salt, key_hash, revoked_at = row
        if self._verified.get(digest) != key_id:
            if digest in self._rejected:
                raise _unauthorized("unknown key")
            computed = _hash_key(text, salt)
            if not hmac.compare_digest(computed, key_hash):
                # NOTE: only repeats of one wrong key are rejected from memory,
                # so a client trying many secrets for a known id costs one scrypt each.
                if len(self._rejected) < MAX_REMEMBERED_REJECTIONS:
                    self._rejected.add(digest)
                raise _unauthorized("unknown key")
            self._verified[digest] = key_id
        if revoked_at is not None:
            raise _unauthorized("revoked key")
        if key_scope != scope:
            raise ApiError(
                "api.forbidden_scope",
                N_(
                    "This API key has the {scope} scope but this endpoint needs a"
                    " {required} key: create one with 'jalon keys create --scope"
                    " {required}'."
                ),
                status=403,
                scope=key_scope,
                required=scope,
            )
        return key_id
