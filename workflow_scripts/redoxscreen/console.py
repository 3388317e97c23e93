"""The ``redoxscreen`` command: a shell script in ``.venv/bin`` that ``make venv`` writes.

It runs ``python -m redoxscreen`` with ``workflow_scripts/`` on the path of its own process
alone: an editable install would put it, with the per-rule scripts there (``ingest.py``,
``describe.py``, …), on the path of every Python run in ``.venv``. ``-P`` keeps the current
directory off the path, so a ``pandas.py`` where the user stands shadows nothing.

    PYTHONPATH=workflow_scripts .venv/bin/python -m redoxscreen.console .venv/bin/redoxscreen
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

COMMAND = "redoxscreen"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
# runs as `python -P -c START PACKAGE_ROOT ARGS...`: argv[1] is the package's root
START = (
    f"import sys; sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = {COMMAND!r}; "
    "from redoxscreen.cli import main; sys.exit(main())"
)


def console_script(python: str | Path, package_root: str | Path = PACKAGE_ROOT) -> str:
    """The text of the shell script that runs this package's command line with ``python``."""
    command = shlex.join([str(python), "-P", "-c", START, str(package_root)])
    return (
        "#!/bin/sh\n"
        f"# {COMMAND}'s command line, written by `make venv` (workflow_scripts/redoxscreen/console.py)\n"
        f'exec {command} "$@"\n'
    )


def write_console_script(path: str | Path, python: str | Path = sys.executable) -> Path:
    path = Path(path)
    path.write_text(console_script(python))
    path.chmod(0o755)
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m redoxscreen.console PATH_OF_THE_SCRIPT_TO_WRITE")
    print(f"wrote {write_console_script(sys.argv[1])}")
