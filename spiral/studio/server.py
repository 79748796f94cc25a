"""Serving the studio: Panel's server on 127.0.0.1 unless a host is asked for explicitly."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import panel as pn  # noqa: F401 - imported here so a missing [studio] extra is found first

from spiral.studio.sources import Source, opening

LOCAL = "127.0.0.1"


WILDCARDS = ("0.0.0.0", "::")


def netloc(host: str, port: int) -> str:
    """Return 'host:port' as a URL writes it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def origins(host: str, port: int) -> list[str]:
    """Return the pages allowed to open a session: this host's own (any, on a wildcard)."""
    if host in WILDCARDS:
        return ["*"]  # the machine's own addresses are not known here; the warning says so
    own = [netloc(host, port)]
    if not exposed(host):
        own += [f"localhost:{port}", f"{LOCAL}:{port}"]
    return list(dict.fromkeys(own))


def exposed(host: str) -> bool:
    """Return whether serving on ``host`` lets other machines open the page."""
    return host not in (LOCAL, "localhost", "::1")


def page_factory(sources: dict[str, Source], first: str, seed: int | None) -> Callable:
    """Return the function Panel calls for each new browser session."""

    def page():  # noqa: ANN202 - a Panel template
        from spiral.studio.page import Studio

        # each session gets its own copy of the list: an upload stays in its own session
        return Studio(dict(sources), first, seed).servable()

    return page


def serve(
    files: list[Path],
    first: str,
    host: str = LOCAL,
    port: int = 5006,
    seed: int | None = None,
    show: bool = False,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the studio until Ctrl-C or SIGTERM; ``ready(url)`` is called once it listens."""
    sources = opening(files)
    url = f"http://{netloc(host, port)}/"
    server = pn.serve(
        page_factory(sources, first, seed),
        port=port,
        address=host,
        websocket_origin=origins(host, port),
        show=False,
        start=False,
        title="spiral studio",
        # a closed tab's session (and the simulation it started) ends within seconds
        check_unused_sessions_milliseconds=2000,
        unused_session_lifetime_milliseconds=2000,
    )
    if ready is not None:
        ready(url)
    if show:
        import webbrowser

        webbrowser.open(url)
    loop = server.io_loop

    def stop(signum: int, frame: object) -> None:
        # a raised exception would land in whichever page callback was running (and be
        # logged there); stopping the loop ends the server cleanly between callbacks
        loop.add_callback(loop.stop)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        loop.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        from spiral.studio.workers import stop_workers

        stop_workers()  # no simulation thread may outlive the server's loop
