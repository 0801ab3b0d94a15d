"""The production WSGI server of a study: waitress (pure Python), with limits for the open internet.

waitress reads every request completely in its asynchronous main loop before a worker thread
sees it, so slow or half-sent requests never hold a thread. On top of its settings
(`ServerSettings`) this module adds a *request* timeout: a connection whose current request has
not arrived completely within `request_timeout` seconds is closed (waitress itself only closes
connections that are idle between requests, `idle_timeout`).

The waitress internals used here (`HTTPChannel.received`, `.request`, `BaseWSGIServer.maintenance`,
`.active_channels`, the socket map) are those of the exact version pinned in pyproject.toml.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass

from ..errors import InvalidArgumentError, require


MAX_BODY_BYTES = 16 * 1024  # request bodies: the API's are a few hundred bytes


@dataclass(frozen=True)
class ServerSettings:
    """Limits of the production server.

    Attributes:
        threads: worker threads running the app (SQLite writes are serialised anyway).
        connection_limit: open connections; beyond it new ones wait in the listen backlog.
        request_timeout: seconds for a whole request (line, headers, body) to arrive.
        idle_timeout: seconds a keep-alive connection may stay open without a request.
        max_body_bytes: request bodies (also chunked ones): 413 beyond.
        max_header_bytes: request headers.

    Raises:
        InvalidArgumentError: a value that is not a positive integer.

    Example:
        >>> ServerSettings(threads=2).threads, ServerSettings().max_body_bytes
        (2, 16384)
        >>> ServerSettings(request_timeout=0)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `request_timeout` must be a positive integer, but got 0.
    """
    threads: int = 8                 # worker threads running the app (SQLite writes are serialised anyway)
    connection_limit: int = 200      # open connections; beyond it new ones wait in the listen backlog
    request_timeout: int = 20        # s for a whole request (line, headers, body) to arrive
    idle_timeout: int = 60           # s a keep-alive connection may stay open without a request
    max_body_bytes: int = MAX_BODY_BYTES  # request bodies (also chunked ones): 413 beyond
    max_header_bytes: int = 16 * 1024

    def __post_init__(self):
        for name in ("threads", "connection_limit", "request_timeout", "idle_timeout", "max_body_bytes",
                     "max_header_bytes"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise InvalidArgumentError(name, "a positive integer", v)


def _waitress_server(app, host: str, port: int, settings: ServerSettings):
    require("waitress", "the human-evaluation web server", extra="human")
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer

    class Channel(HTTPChannel):
        request_started = 0.0

        def received(self, data):
            if self.request is None and data:
                self.request_started = time.monotonic()
            return super().received(data)

    class Server(TcpWSGIServer):
        channel_class = Channel

        def maintenance(self, now):
            super().maintenance(now)  # idle connections (channel_timeout)
            cutoff = time.monotonic() - settings.request_timeout
            for channel in list(self.active_channels.values()):
                if channel.request is not None and channel.request_started < cutoff:
                    channel.will_close = True

    return Server(app, host=host, port=port, threads=settings.threads, connection_limit=settings.connection_limit,
                  channel_timeout=settings.idle_timeout,
                  cleanup_interval=max(1, min(settings.request_timeout, settings.idle_timeout) // 4),
                  max_request_body_size=settings.max_body_bytes, max_request_header_size=settings.max_header_bytes,
                  ident="", expose_tracebacks=False, clear_untrusted_proxy_headers=True)


class StudyServer:
    r"""One study served by waitress; holds the study's lock file (one server per database) until closed.

    `serve_forever()` runs the server in the calling thread until `shutdown()` (from another
    thread) or Ctrl-C; `close()` releases the socket and the lock.

    Args:
        app: the study's Flask app (`gmeval.human.app.create_app`).
        host: the address to bind.
        port: the port (0: any free port; the bound one is ``server_port``).
        settings: the `ServerSettings` (None: defaults).

    Raises:
        DatabaseInUseError: another server holds the study's lock file.
        MissingDependencyError: waitress (the ``human`` extra) is not installed.

    Example:
        >>> import tempfile, threading, urllib.request
        >>> from pathlib import Path
        >>> from gmeval.human import StudyDesign
        >>> from gmeval.human.app import create_app, open_study
        >>> tmp = tempfile.TemporaryDirectory()
        >>> design = StudyDesign("hype-inf", ("gan",), per_model=2, pool_size=2, n_tutorial=0, n_checks=0)
        >>> store, provider = open_study(Path(tmp.name) / "study.db", real="digits:test", fakes={"gan": "digits:train"},
        ...                              design=design)
        >>> app = create_app(store, provider)
        >>> server = StudyServer(app, port=0)
        >>> StudyServer(app, port=0)
        Traceback (most recent call last):
        ...
        gmeval.human.store.DatabaseInUseError: .../study.db: another `gmeval human serve` already serves this study (...
        >>> thread = threading.Thread(target=server.serve_forever); thread.start()
        >>> urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/healthz", timeout=10).read()
        b'{"ok":true,"protocol":"hype-inf"}\n'
        >>> server.shutdown(); thread.join(); server.close(); store.close(); tmp.cleanup()
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 8000, settings: ServerSettings | None = None):
        self.settings = settings or ServerSettings()
        store = app.extensions["gmeval_human"]["store"]
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(store.serving_lock())
        try:
            self._server = _waitress_server(app, host, port, self.settings)
        except BaseException:
            self._stack.close()
            raise
        self._stack.callback(self._server.close)
        self.server_port = int(self._server.effective_port)
        self._stop = threading.Event()
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        """Serve requests in the calling thread until `shutdown()` is called."""
        from waitress import wasyncore

        srv = self._server
        self._stopped.clear()
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=srv.adj.asyncore_loop_timeout, map=srv._map, use_poll=srv.adj.asyncore_use_poll,
                               count=1)
        finally:
            for channel in list(srv.active_channels.values()):
                with contextlib.suppress(Exception):
                    channel.close()
            srv.task_dispatcher.shutdown()
            self._stopped.set()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop `serve_forever` (from another thread) and wait up to `timeout` s for it to return."""
        self._stop.set()
        self._server.pull_trigger()
        self._stopped.wait(timeout)

    def close(self) -> None:
        """Close the socket and release the study's lock file (also ``server_close``)."""
        self._stack.close()

    server_close = close
