"""Logging for per-rule scripts: everything, including a crash's traceback, goes to the rule's log."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def rule_log(path: str, name: str = "redoxscreen") -> Iterator[logging.Logger]:
    """Send logging to ``path`` (and stderr) for the body; log an uncaught error and re-raise."""
    handlers = [logging.FileHandler(path, mode="w"), logging.StreamHandler(sys.stderr)]
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logger = logging.getLogger(name)
    try:
        yield logger
    except Exception:
        logger.exception("failed")
        raise
    finally:
        for handler in handlers:
            handler.flush()
