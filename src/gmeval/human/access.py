"""Who may do what in a HYPE study: admin tokens and sessions, rate limits, the Host allowlist.

- The admin token (>= 16 characters) comes from a file, an environment variable, or (visible in
  the process list, so discouraged) the command line; it is never put into a URL, a page or a log.
  A browser logs in once with a form and gets an opaque session id in an HttpOnly,
  SameSite=Strict cookie; scripts send ``Authorization: Bearer TOKEN`` (scheme case-insensitive).
- `RateLimiter`: a token bucket per client address (new raters, admin log-ins).
- `allowed_hosts`: the Host names the app answers (DNS rebinding defence).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import threading
import time
from pathlib import Path

from ..errors import InvalidArgumentError

MIN_TOKEN_LENGTH = 16
MAX_TOKEN_LENGTH = 256
TOKEN_ENV = "GMEVAL_HUMAN_ADMIN_TOKEN"
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def check_admin_token(token, origin: str) -> str:
    r"""The token itself, after checking it is 16-256 printable ASCII characters without spaces.

    Args:
        token: the candidate token (surrounding whitespace is stripped).
        origin: where it came from (an option, a file, a variable); the token's value is never part
            of an error message.

    Returns:
        The stripped token.

    Raises:
        InvalidArgumentError: not a string, or of the wrong length or characters.

    Example:
        >>> check_admin_token("  0123456789abcdef\n", "--admin-token")
        '0123456789abcdef'
        >>> check_admin_token("short secret", "--admin-token")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `--admin-token` must be an admin token of 16-256 printable ASCII characters without spaces, but got 'a value of 12 characters'.
    """
    if not isinstance(token, str):
        raise InvalidArgumentError(origin, "a string", type(token).__name__)
    token = token.strip()
    if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH or not all("!" <= c <= "~" for c in token):
        raise InvalidArgumentError(origin, f"an admin token of {MIN_TOKEN_LENGTH}-{MAX_TOKEN_LENGTH} printable ASCII "
                                   "characters without spaces", f"a value of {len(token)} characters")
    return token


def read_token_file(path: str | os.PathLike) -> str:
    """The admin token stored in a file (checked by `check_admin_token`).

    Args:
        path: the token file.

    Returns:
        The token.

    Raises:
        InvalidArgumentError: the file does not exist, or holds no valid token.

    Example:
        >>> read_token_file("/nonexistent/token")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `--admin-token-file` must be an existing file holding the admin token, but got '/nonexistent/token'.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidArgumentError("--admin-token-file", "an existing file holding the admin token", str(path))
    return check_admin_token(path.read_text(encoding="utf-8", errors="replace"), f"--admin-token-file {path}")


def load_or_create_token_file(path: str | os.PathLike) -> str:
    """The token in `path`; a new random one written there (mode 0600) when the file does not exist.

    Args:
        path: the token file.

    Returns:
        The token.

    Raises:
        InvalidArgumentError: an existing file without a valid token.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     first = load_or_create_token_file(Path(d) / "admin.token")
        ...     print(load_or_create_token_file(Path(d) / "admin.token") == first, oct((Path(d) / "admin.token").stat().st_mode & 0o777))
        True 0o600
    """
    path = Path(path)
    if path.exists():
        return read_token_file(path)
    token = new_admin_token()
    write_token_file(path, token)
    return token


def new_admin_token() -> str:
    """A random admin token (24 bytes, URL-safe base64: 32 characters).

    Returns:
        The token.

    Example:
        >>> t = new_admin_token()
        >>> len(t), check_admin_token(t, "token") == t
        (32, True)
    """
    return secrets.token_urlsafe(24)


def write_token_file(path: str | os.PathLike, token: str) -> None:
    """Write `token` to a new file `path` with mode 0600 (an existing file is an error, never overwritten).

    Args:
        path: the new file (parent folders are created).
        token: the token.

    Raises:
        FileExistsError: `path` exists.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     write_token_file(Path(d) / "sub" / "t", "0123456789abcdef")
        ...     print(read_token_file(Path(d) / "sub" / "t"))
        0123456789abcdef
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")


def tokens_equal(given: str, expected: str) -> bool:
    """Constant-time comparison of two tokens.

    Args:
        given: the token a request carries.
        expected: the admin token.

    Returns:
        Whether they are equal.

    Example:
        >>> tokens_equal("abc", "abc"), tokens_equal("abd", "abc")
        (True, False)
    """
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def bearer_token(header: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer ...`` header (scheme case-insensitive, RFC 9110 11.1).

    Args:
        header: the header's value, or None.

    Returns:
        The credential, or None for another scheme or a missing header.

    Example:
        >>> bearer_token("bearer  s3cret "), bearer_token("Basic abc"), bearer_token(None)
        ('s3cret', None, None)
    """
    scheme, _, credential = (header or "").strip().partition(" ")
    credential = credential.strip()
    return credential if scheme.lower() == "bearer" and credential else None


class AdminSessions:
    """Opaque admin session ids (kept in memory: a restart logs everyone out), valid for `lifetime` s.

    Args:
        lifetime: seconds a session stays valid.

    Example:
        >>> sessions = AdminSessions(lifetime=60)
        >>> sid = sessions.new()
        >>> sessions.valid(sid), sessions.valid("guess"), sessions.valid(None)
        (True, False, False)
        >>> sessions.end(sid); sessions.valid(sid)
        False
    """

    def __init__(self, lifetime: float = 12 * 3600.0):
        self.lifetime = lifetime
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def new(self) -> str:
        """A new session id (expired sessions are dropped)."""
        sid = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._expiry = {k: v for k, v in self._expiry.items() if v > now}
            self._expiry[sid] = now + self.lifetime
        return sid

    def valid(self, sid: str | None) -> bool:
        """Whether `sid` is a current session."""
        if not sid:
            return False
        with self._lock:
            expiry = self._expiry.get(sid)
        return expiry is not None and expiry > time.monotonic()

    def end(self, sid: str | None) -> None:
        """End the session `sid` (log out); unknown ids are ignored."""
        with self._lock:
            self._expiry.pop(sid or "", None)


class RateLimiter:
    """A token bucket per key (client address): `burst` requests at once, then `per_minute` a minute.

    `allow(key)` takes one token and says whether there was one. Full buckets are forgotten, so
    memory stays bounded by the number of clients active within about a minute.

    Args:
        per_minute: the sustained rate.
        burst: requests allowed at once (None: per_minute, at least 1).
        clock: a monotonic clock in seconds (for tests).

    Raises:
        InvalidArgumentError: `per_minute` is not positive.

    Example:
        >>> now = [0.0]
        >>> limit = RateLimiter(per_minute=6, burst=2, clock=lambda: now[0])
        >>> [limit.allow("10.0.0.1") for _ in range(3)], limit.allow("10.0.0.2"), limit.retry_after()
        ([True, True, False], True, 10)
        >>> now[0] = 10.0; limit.allow("10.0.0.1")   # one token back after 10 s
        True
    """

    def __init__(self, per_minute: float, burst: int | None = None, *, clock=time.monotonic):
        if not per_minute > 0:
            raise InvalidArgumentError("per_minute", "a positive number", per_minute)
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, round(per_minute)))
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, time of last update)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take one token of `key`'s bucket; False when it is empty."""
        now = self.clock()
        with self._lock:
            if len(self._buckets) > 10_000:
                self._buckets = {k: (t, at) for k, (t, at) in self._buckets.items()
                                 if t + (now - at) * self.rate < self.burst}
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True

    def retry_after(self) -> int:
        """Seconds until one more request is allowed for a client that has just been refused."""
        return max(1, int(round(1.0 / self.rate)))


def is_local_address(host: str) -> bool:
    """True for loopback addresses and the name localhost (a server reachable from this machine only).

    Args:
        host: a host name or address.

    Returns:
        Whether it is local.

    Example:
        >>> is_local_address("localhost"), is_local_address("127.0.0.2"), is_local_address("[::1]"), is_local_address("0.0.0.0")
        (True, True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind_host: str, public_hosts=()) -> list[str]:
    """Host header names the app accepts: the localhost names, plus `public_hosts`.

    A server bound to a non-loopback address must be given the public name(s) raters use,
    otherwise it would answer any Host (DNS rebinding) or none.

    Args:
        bind_host: the address the server binds.
        public_hosts: the names raters use.

    Returns:
        The accepted names.

    Raises:
        InvalidArgumentError: a malformed public name, or a non-loopback bind address without one.

    Example:
        >>> allowed_hosts("127.0.0.1"), allowed_hosts("0.0.0.0", ["Study.Example.org"])
        (['localhost', '127.0.0.1'], ['localhost', '127.0.0.1', 'study.example.org'])
        >>> allowed_hosts("0.0.0.0")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `--public-host` must be the host name raters use to reach the server (required with --host 0.0.0.0, which is not a loopback address), but got None.
    """
    public = [h.strip().lower() for h in public_hosts if h.strip()]
    for h in public:
        if not h.replace(".", "").replace("-", "").isalnum() or not h.isascii():
            raise InvalidArgumentError("--public-host", "a host name or IPv4 address (letters, digits, '.', '-')", h)
    if not is_local_address(bind_host) and not public:
        raise InvalidArgumentError("--public-host", f"the host name raters use to reach the server (required with "
                                   f"--host {bind_host}, which is not a loopback address)", None)
    return list(dict.fromkeys([*LOCAL_HOSTS, *public]))
