"""The `spiral` command line: one module per command group, shared options in ``common``."""

from __future__ import annotations

import importlib
import os
import sys

import typer

from spiral.cli.common import app, err_console, fail

COMMAND_MODULES = ("run", "compare", "explain", "scenarios", "show", "from_log", "sweep", "studio")
"""Importing a command module registers its commands on the app (in this order in --help)."""

for _module in COMMAND_MODULES:
    importlib.import_module(f"spiral.cli.{_module}")


def main() -> None:
    """Entry point of the `spiral` command: usage errors become one line and exit code 2.

    Ctrl-C and SIGTERM stop the command the same way: workers are ended, outputs being
    written are dropped (earlier results stay as they were), and one line says so.
    """
    from spiral.analysis.parallel import Interrupted, signals_interrupt

    # the command draws into files only: no window, on a server or a desktop alike (the
    # library itself leaves the backend to the user, e.g. inline in a notebook)
    os.environ.setdefault("MPLBACKEND", "Agg")

    try:
        with signals_interrupt():
            code = app(standalone_mode=False, prog_name="spiral")
    except Interrupted as error:
        err_console.print(
            f"interrupted ({error}): nothing written; results already there are left as they were",
            highlight=False,
            soft_wrap=True,
        )
        code = error.exit_code
    except typer.Abort:
        err_console.print("interrupted")
        code = 130
    except Exception as error:
        # click's UsageError family (typer vendors click, so match by shape, not class)
        if getattr(error, "exit_code", None) != 2 or not hasattr(error, "format_message"):
            raise
        ctx = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help())
            code = 0
        else:
            where = ctx.command_path if ctx is not None else "spiral"
            code = fail([f"{where}: {error.format_message()}"]).exit_code
    sys.exit(code or 0)
