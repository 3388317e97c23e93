"""``python -m redoxscreen ...``: see ``redoxscreen.cli``."""

from redoxscreen.cli import main

if __name__ == "__main__":  # spawned worker processes import this module too
    raise SystemExit(main())
