"""JSON from outside, parsed without surprises: bounded nesting (measured before parsing, so
the parser never recurses too deep), no NaN or Infinity, no numbers of absurd length."""

from __future__ import annotations

import json
import math

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 40


def nested_too_deep(text: str, *, max_depth: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests objects and arrays deeper than `max_depth`: one pass, strings
    skipped."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _refuse_number(literal: str):
    raise ValueError(f"not a number to accept: {literal[:20]}")


def _bounded_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        _refuse_number(literal)
    return int(literal)


def _finite_float(literal: str) -> float:
    value = float(literal) if len(literal) <= MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):
        _refuse_number(literal)
    return value


def json_loads_bounded(text: str, *, max_depth: int = MAX_DEPTH):
    """The parsed JSON; ValueError when it nests too deep, holds NaN/Infinity or a number too
    long, or is not JSON."""
    if nested_too_deep(text, max_depth=max_depth):
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    return json.loads(
        text,
        parse_int=_bounded_int,
        parse_float=_finite_float,
        parse_constant=_refuse_number,
    )
