"""Serving the studio: Panel's server on 127.0.0.1 unless a host is asked for explicitly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from spiral.studio.sources import Source, opening

LOCAL = "127.0.0.1"


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
    """Serve the studio until interrupted; ``ready(url)`` is called once it listens."""
    import panel as pn

    sources = opening(files)
    origins = [f"{host}:{port}", f"localhost:{port}", f"{LOCAL}:{port}"]
    url = f"http://{host}:{port}/"
    server = pn.serve(
        page_factory(sources, first, seed),
        port=port,
        address=host,
        websocket_origin=["*"] if exposed(host) else origins,
        show=False,
        start=False,
        title="spiral studio",
    )
    if ready is not None:
        ready(url)
    if show:
        import webbrowser

        webbrowser.open(url)
    server.start()
    server.io_loop.start()
