"""Logging for per-rule scripts (everything, including a crash's traceback, goes to the rule's
log), and the command line's console."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


@contextmanager
def rule_log(path: str, name: str = "redoxscreen") -> Iterator[logging.Logger]:
    """Send logging and Python's warnings to ``path`` and the console for the body; log an
    uncaught error and re-raise. What compiled libraries write to the standard error stream
    themselves (TensorFlow's start-up lines), and what worker processes started in the body
    write there, goes to ``path`` alone."""
    open(path, "w").close()  # every writer below appends, so none overwrites another
    with native_stderr_to(path) as console:
        handlers = [logging.FileHandler(path, mode="a"), logging.StreamHandler(console)]
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            handlers=handlers,
            force=True,
        )
        logging.captureWarnings(True)
        logger = logging.getLogger(name)
        try:
            yield logger
        except Exception:
            logger.exception("failed")
            raise
        finally:
            logging.captureWarnings(False)
            for handler in handlers:  # the console handler's stream closes with the body
                logging.root.removeHandler(handler)
                handler.close()


@contextmanager
def kept_on_failure(paths: Sequence[str], directory: str) -> Iterator[None]:
    """When the body raises, copy those of ``paths`` that exist into ``directory`` and log
    where: Snakemake deletes a failed job's outputs but keeps its log folder, so a report the
    job wrote before it failed (ingestion's rejected rows and counts) stays readable. Copies
    left by an earlier failure are deleted first, so the folder never holds a stale one."""
    copies = [Path(directory) / Path(path).name for path in paths]
    for copy in copies:
        copy.unlink(missing_ok=True)
    try:
        yield
    except Exception:
        kept = [
            shutil.copyfile(path, copy)
            for path, copy in zip(paths, copies, strict=True)
            if os.path.exists(path)
        ]
        if kept:
            logging.getLogger("redoxscreen").error(
                "kept for reading, as Snakemake deletes a failed job's outputs: %s",
                ", ".join(str(path) for path in kept),
            )
        raise


@contextmanager
def native_stderr_to(path: str) -> Iterator[TextIO]:
    """Point file descriptor 2, which C and C++ code writes to, at the end of ``path`` for the
    body; ``sys.stderr`` (Python's writes, progress bars) stays on the console, and is
    yielded."""
    log_descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    python_stderr = sys.stderr
    try:
        with descriptor_2_to(log_descriptor) as console_descriptor:
            console = os.fdopen(
                console_descriptor, "w", buffering=1, errors="backslashreplace", closefd=False
            )
            sys.stderr = console
            try:
                yield console
            finally:
                console.flush()
                sys.stderr = python_stderr
    finally:
        os.close(log_descriptor)


@contextmanager
def descriptor_2_to(target: int) -> Iterator[int]:
    """Point file descriptor 2 at the file open as ``target`` for the body (Python's
    ``sys.stderr`` flushed on the way in and out); yields a descriptor of the file it pointed
    at before, which it points at again afterwards."""
    sys.stderr.flush()
    console_descriptor = os.dup(2)
    try:
        os.dup2(target, 2)
        yield console_descriptor
    finally:
        sys.stderr.flush()
        os.dup2(console_descriptor, 2)
        os.close(console_descriptor)


# TensorFlow's C++ start-up notes, which ignore TF_CPP_MIN_LOG_LEVEL (TensorFlow 2.21)
TENSORFLOW_START_NOTES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "oneDNN custom operations are on",
)


@contextmanager
def tensorflow_start_notes_dropped() -> Iterator[None]:
    """For a command without a rule log: what is written to the standard error stream in the
    body (TensorFlow's import) reaches it afterwards, in order, but TensorFlow's start-up
    notes (``TENSORFLOW_START_NOTES``)."""
    with tempfile.TemporaryFile() as caught:
        try:
            with descriptor_2_to(caught.fileno()):
                yield
        finally:
            caught.seek(0)
            for line in caught.read().decode("utf-8", "replace").splitlines(keepends=True):
                if not any(note in line for note in TENSORFLOW_START_NOTES):
                    sys.stderr.write(line)
