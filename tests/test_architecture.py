"""The architecture: data flows one way through the package's folders, and tools agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_imports_point_one_way_cli_studio_views_sweeps_io_analysis_engines_model():
    """import-linter's contracts in pyproject.toml hold: no import points back up.

    Between the layers of the package, and inside ``engines``: the three engines do not
    import one another, and only ``dispatch`` (which picks one) imports them.
    """
    linter = Path(sys.executable).parent / "lint-imports"  # installed by the [test] extra
    done = subprocess.run(
        [str(linter), "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def test_every_module_lives_in_a_folder_named_for_its_role():
    """Only the front door (``__init__``, ``__main__``) sits at the top of the package."""
    top = sorted(p.name for p in (ROOT / "spiral").glob("*.py"))
    assert top == ["__init__.py", "__main__.py"]
    roles = sorted(p.name for p in (ROOT / "spiral").iterdir() if p.is_dir() and p.name[0] != "_")
    assert roles == [
        "analysis",
        "cli",
        "engines",
        "io",
        "model",
        "scenarios",
        "studio",
        "sweeps",
        "views",
    ]
