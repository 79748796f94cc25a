"""The public API: ``__all__`` is exactly the documented table, and import does nothing else."""

from __future__ import annotations

import re
import subprocess
import sys

import spiral


def test_the_documented_api_table_equals_all():
    documented = re.findall(r"^``(\w+)``", spiral.__doc__, flags=re.MULTILINE)
    assert sorted(documented) == sorted(spiral.__all__)
    assert spiral.__all__ == sorted(spiral.__all__)
    for name in spiral.__all__:
        assert getattr(spiral, name).__doc__, name


def test_importing_spiral_does_not_import_the_cli_or_plotting():
    code = (
        "import sys, spiral; print(sorted(m for m in sys.modules if m.startswith('spiral.cli') "
        "or m.split('.')[0] in ('typer', 'rich', 'matplotlib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
