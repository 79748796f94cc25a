"""`spiral studio`: the interactive page, served on this machine (Panel)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from spiral.cli.common import app, check_seed, err_console, fail, out_console
from spiral.scenarios import DEFAULT_SCENARIO

STUDIO_EXTRA = "pip install 'spiral[studio]'"


@app.command("studio")
def studio_command(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(help="Scenario files (or built-in names) to open; the first is shown."),
    ] = None,
    host: Annotated[
        str,
        typer.Option(help="Address to serve on; anything but 127.0.0.1 opens it to the network."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on (0: any free port).")] = 5006,
    seed: Annotated[int | None, typer.Option(help="The seed the page starts with.")] = None,
    show: Annotated[bool, typer.Option(help="Open the page in a browser.")] = False,
) -> None:
    """Serve the studio: sliders, the numbers, side by side, go, one customer, save."""
    from spiral.model.errors import ScenarioError
    from spiral.model.loading import builtin_scenarios

    check_seed(seed, "--seed")
    if not 0 <= port <= 65535:
        raise fail([f"--port: expected 0 to 65535, got {port}"])
    try:
        from spiral.studio.server import exposed, serve
    except ImportError as error:
        raise fail(
            [f"spiral studio: needs Panel ({error.name} is missing); expected `{STUDIO_EXTRA}`"]
        ) from None
    builtins = builtin_scenarios()
    names = list(scenarios or [DEFAULT_SCENARIO])
    files = [Path(n) for n in names if n not in builtins or Path(n).exists()]
    first = (
        names[0] if names[0] in builtins and not Path(names[0]).exists() else str(Path(names[0]))
    )
    for path in files:
        if not path.is_file():
            known = ", ".join(builtins)
            raise fail([f"{path}: file: no such file or built-in scenario (built-ins: {known})"])
    if port == 0:
        try:
            family = socket.getaddrinfo(host, 0)[0][0]
            with socket.socket(family) as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        except OSError as error:
            raise fail([f"--host: cannot serve on {host} ({error.strerror or error})"]) from None
    if exposed(host):
        err_console.print(
            f"warning: serving on {host}: anyone who can reach this machine on port {port} can "
            "open the page and run simulations on it (the page reads no file from disk)"
            + (", from any web page they have open" if host in ("0.0.0.0", "::") else ""),
            highlight=False,
            soft_wrap=True,
        )

    def ready(url: str) -> None:
        out_console.print(
            f"spiral studio: {url} (Ctrl-C stops it)", highlight=False, soft_wrap=True
        )

    from spiral.analysis.parallel import Interrupted

    try:
        serve(files, first, host=host, port=port, seed=seed, show=show, ready=ready)
    except Interrupted:  # a signal before the server took over its own handling
        pass
    except ScenarioError as error:
        raise fail(error.lines()) from None
    except OSError as error:
        raise fail([f"--port: cannot serve on {host}:{port} ({error.strerror or error})"]) from None
    out_console.print("spiral studio: stopped", highlight=False)
