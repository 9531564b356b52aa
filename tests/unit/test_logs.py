"""JSON log lines keep their structured fields, and no secret reaches them by any field.

Before: the JSON formatter wrote time, level, logger and message only, so every `extra=`
field (the connector, the delivery, the outage state) was dropped.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.logs import REDACTED, JsonFormatter, RedactingFilter, configure_logging
from syncd.outage import OutageLog

SECRET = "tok-3f9c2e7a1b8d4c6e0f5a"


def _logger(secrets: list[str]) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("syncd.test.logs.handler")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_keep_their_names_and_every_extra_field(
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", as_json=True, secrets=[SECRET])
    try:
        log = logging.getLogger("syncd.test.logs")
        log.warning(
            "refused %d deliveries",
            3,
            extra={"connector": "jira", "delivery": "d-17", "count": 3, "ids": ["a", "b"]},
        )
        try:
            raise RuntimeError("the store went away")
        except RuntimeError:
            log.exception("round failed", extra={"outage": "worker jira"})
        log.debug("not shown at INFO")
        # As uvicorn's loggers call it (their own may be set up by other tests: not used).
        log.info("Started server process [%d]", 7, extra={"color_message": "\x1b[36m%d\x1b[0m"})
    finally:
        logging.getLogger().handlers.clear()
    first, second, third = (json.loads(line) for line in capfd.readouterr().err.splitlines())
    assert first["level"] == "warning" and first["logger"] == "syncd.test.logs"
    assert first["message"] == "refused 3 deliveries"
    assert first["time"].endswith("+00:00") and first["time"][:4].isdigit()
    assert {k: first[k] for k in ("connector", "delivery", "count", "ids")} == {
        "connector": "jira",
        "delivery": "d-17",
        "count": 3,
        "ids": ["a", "b"],
    }
    assert second["level"] == "error" and second["outage"] == "worker jira"
    assert second["error"].startswith("Traceback") and "the store went away" in second["error"]
    assert "color_message" not in third and third["message"] == "Started server process [7]"


printable = st.text(st.characters(codec="ascii", categories=["L", "N", "P", "Zs"]), max_size=20)


@settings(max_examples=80, deadline=None)
@given(
    secret=st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=8, max_size=40),
    before=printable,
    after=printable,
    where=st.sampled_from(["message", "extra", "nested", "list", "exception", "cause"]),
)
def test_a_secret_reaches_no_field_of_a_json_line(
    secret: str, before: str, after: str, where: str
) -> None:
    logger, out = _logger([secret])
    text = f"{before}{secret}{after}"
    if where in ("exception", "cause"):
        try:
            try:
                raise ValueError(text)
            except ValueError as inner:
                if where == "cause":
                    raise RuntimeError("while storing") from inner
                raise
        except (ValueError, RuntimeError):
            logger.exception("failed")
    else:
        extras: dict[str, dict[str, Any]] = {
            "message": {},
            "extra": {"detail": text},
            "nested": {"request": {"headers": {"x": text}}},
            "list": {"ids": ["ok", text]},
        }
        logger.error("saw %s", text if where == "message" else "nothing", extra=extras[where])
    [line] = _lines(out)
    assert secret not in json.dumps(line) and secret not in out.getvalue()
    assert REDACTED in json.dumps(line)


def test_credential_shaped_extra_fields_are_redacted_too() -> None:
    logger, out = _logger([])
    logger.warning("forwarded", extra={"headers": "Authorization: Bearer abcdefghijkl"})
    [line] = _lines(out)
    assert "abcdefghijkl" not in line["headers"] and REDACTED in line["headers"]


def test_an_outage_is_logged_when_it_starts_and_when_it_ends() -> None:
    logger, out = _logger([SECRET])
    outage = OutageLog(logger, "the scheduler")
    outage.ok()
    for n in range(50):
        outage.failed(ConnectionError(f"store at {SECRET} refused ({n})"))
    assert outage.failing
    outage.ok()
    outage.ok()
    outage.failed(TimeoutError("again"))
    lines = [line for line in _lines(out) if line["level"] != "debug"]
    assert [(line["level"], line["outage_state"]) for line in lines] == [
        ("error", "failing"),
        ("warning", "recovered"),
        ("error", "failing"),
    ]
    assert "ConnectionError" in lines[0]["message"] and "(0)" in lines[0]["message"]
    assert SECRET not in out.getvalue()
    assert "50 failed attempts" in lines[1]["message"]
