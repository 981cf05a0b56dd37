"""Logging set-up for MC processes: JSON lines for machines, one-line text for people.

Everything logs through the standard :mod:`logging` module with structured context passed as
``extra={"mc_id": ..., "meeting_id": ..., "participant_id": ..., "event": ...}``. This module
only decides how records are rendered:

* ``json``: one JSON object per line (``ts``, ``level``, ``logger``, ``msg``, every extra
  field, and ``exc`` for a traceback), so log pipelines (Loki, Elasticsearch, Cloud Logging)
  index the context without regexes. A record never spans two lines.
* ``text``: ``<ts> <LEVEL> <logger>: <msg> key=value ...`` on one line, for a terminal.

Logs go to stderr (the Kubernetes convention; stdout stays free for command output such as the
demo's status).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

#: Attributes every ``LogRecord`` has; anything else on a record came from ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

#: Marks the handler this module installed, so reconfiguring replaces it instead of stacking.
_HANDLER_MARK = "_meeting_controller_handler"


def _timestamp(record: logging.LogRecord) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-01-25T10:00:00.123Z``."""
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra={...}`` fields of ``record``, in the order they were given."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            # Extras never overwrite the four fixed keys: a stray extra={"msg": ...} must not
            # hide the real message.
            document.setdefault(key, value)
        if record.exc_info:
            document["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            document["exc"] = record.exc_text
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        # default=str: an extra that is not JSON-serialisable (a Path, an enum) is logged as
        # its string rather than turning the log call into an exception.
        return json.dumps(document, default=str, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """Render a record as one human-readable line (a traceback follows on its own lines)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().replace("\n", "\\n")
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: {message}"
        extras = extra_fields(record)
        if extras:
            line += " " + " ".join(f"{key}={_text_value(value)}" for key, value in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def _text_value(value: object) -> str:
    text = str(value)
    if text == "" or any(char.isspace() or char in '"=' for char in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class _ContextFilter(logging.Filter):
    """Adds process-wide fields (``mc_id``) to every record that does not carry them already.

    With a fleet's logs in one place, every line must say which MC wrote it, without each call
    site remembering to pass ``extra={"mc_id": ...}``.
    """

    def __init__(self, context: Mapping[str, object]) -> None:
        super().__init__()
        self._context = dict(context)

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in self._context.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def configure_logging(
    *,
    fmt: str,
    level: str,
    stream: TextIO | None = None,
    context: Mapping[str, object] | None = None,
) -> None:
    """Install the MC's log handler on the root logger (idempotent: replaces a previous one).

    ``fmt`` is ``"text"`` or ``"json"`` and ``level`` one of ``debug``/``info``/``warning``/
    ``error`` (the values ``MC_LOG_FORMAT``/``MC_LOG_LEVEL`` accept; they are validated there,
    so anything else here is a programming error). ``stream`` defaults to ``sys.stderr`` at
    call time, which lets tests capture it. ``context`` fields (e.g. ``{"mc_id": ...}``) are
    added to every record.
    """
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r}")
    if level not in _LEVELS:
        raise ValueError(f"unknown log level {level!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    if context:
        handler.addFilter(_ContextFilter(context))
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
            existing.close()
    root.addHandler(handler)
    root.setLevel(_LEVELS[level])
    # Route warnings.warn() through the same handler, so JSON mode stays JSON-only.
    logging.captureWarnings(True)
