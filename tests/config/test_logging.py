"""``configure_logging``: JSON lines with context fields for machines, text lines for people."""

from __future__ import annotations

import io
import json
import logging
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from meeting_controller.logs import configure_logging

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
log = logging.getLogger("meeting_controller.test")


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Each test configures the root logger; put pytest's handlers and level back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def lines_of(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_a_json_record_with_extras_is_one_parseable_line_with_every_field() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", level="info", stream=stream)

    log.info(
        "participant %s joined",
        "p-1",
        extra={"mc_id": "mc-1", "meeting_id": "m-1", "participant_id": "p-1", "event": "joined"},
    )

    (line,) = lines_of(stream)
    record = json.loads(line)
    assert RFC3339_UTC.match(record.pop("ts"))
    assert record == {
        "level": "info",
        "logger": "meeting_controller.test",
        "msg": "participant p-1 joined",
        "mc_id": "mc-1",
        "meeting_id": "m-1",
        "participant_id": "p-1",
        "event": "joined",
    }


def test_a_traceback_stays_inside_the_one_json_line() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", level="info", stream=stream)

    try:
        _ = 1 / 0
    except ZeroDivisionError:
        log.exception("it broke\nbadly", extra={"event": "crash"})

    (line,) = lines_of(stream)
    record = json.loads(line)
    assert record["msg"] == "it broke\nbadly"
    assert record["level"] == "error"
    assert "Traceback (most recent call last)" in record["exc"]
    assert "ZeroDivisionError" in record["exc"]


def test_extras_that_json_cannot_encode_are_logged_as_strings() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", level="info", stream=stream)

    log.info("file", extra={"path": Path("/tmp/x"), "settings": {"a": 1}})

    record = json.loads(stream.getvalue())
    assert record["path"] == "/tmp/x"
    assert record["settings"] == {"a": 1}


def test_an_extra_cannot_overwrite_the_fixed_fields() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", level="info", stream=stream)

    log.info("the real message", extra={"level": "fake", "ts": "fake"})

    record = json.loads(stream.getvalue())
    assert record["msg"] == "the real message"
    assert record["level"] == "info"
    assert record["ts"] != "fake"


def test_context_fields_are_added_to_every_record_unless_the_record_has_its_own() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", level="info", stream=stream, context={"mc_id": "mc-1"})

    log.info("one")
    log.info("two", extra={"mc_id": "mc-other"})

    first, second = (json.loads(line) for line in lines_of(stream))
    assert first["mc_id"] == "mc-1"
    assert second["mc_id"] == "mc-other"


def test_the_level_filters_records() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", level="warning", stream=stream)

    log.info("hidden")
    log.warning("shown")

    assert [json.loads(line)["msg"] for line in lines_of(stream)] == ["shown"]


def test_text_is_one_human_readable_line_with_the_extras_as_key_value_pairs() -> None:
    stream = io.StringIO()
    configure_logging(fmt="text", level="debug", stream=stream)

    log.debug("two\nlines", extra={"meeting_id": "m-1", "reason": "needs quoting"})

    (line,) = lines_of(stream)
    assert re.match(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z DEBUG   meeting_controller\.test: two\\nlines "
        r'meeting_id=m-1 reason="needs quoting"$',
        line,
    ), line


def test_configuring_twice_replaces_the_handler_instead_of_doubling_lines() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(fmt="text", level="info", stream=first)
    configure_logging(fmt="json", level="info", stream=second)

    log.info("once")

    assert first.getvalue() == ""
    assert len(lines_of(second)) == 1


def test_warnings_go_through_the_same_handler() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", level="info", stream=stream)

    warnings.warn("careful", UserWarning, stacklevel=1)

    (line,) = lines_of(stream)
    record = json.loads(line)
    assert record["level"] == "warning"
    assert "careful" in record["msg"]


@pytest.mark.parametrize(("fmt", "level"), [("xml", "info"), ("json", "trace")])
def test_unknown_format_or_level_is_a_programming_error(fmt: str, level: str) -> None:
    with pytest.raises(ValueError, match="unknown log"):
        configure_logging(fmt=fmt, level=level)
