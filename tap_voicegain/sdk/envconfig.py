"""Settings from ``TAP_VOICEGAIN_*`` variables (``--config ENV``).

Numbers, integers, booleans, lists and objects are converted here, each bad
value naming its variable and setting (docs/design.md).
"""

from __future__ import annotations

import json
import math
import os
import typing as t

from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers import _typing

SHOWN_MAX = 40  # characters of a bad value quoted (never for JSON: it may hold tokens)


def _kind(schema: dict[str, t.Any]) -> str | None:
    if _typing.is_boolean_type(schema):
        return "boolean"
    if _typing.is_string_array_type(schema):
        return "strings"
    if _typing.is_integer_type(schema):
        return "integer"
    if _typing.is_number_type(schema):
        return "number"
    if _typing.is_array_type(schema) or _typing.is_object_type(schema):
        return "json"
    return None


_BOOLEANS = dict.fromkeys(("true", "1", "yes", "on"), True) | dict.fromkeys(
    ("false", "0", "no", "off"), False
)


def _strings(text: str) -> list[str]:
    """A JSON array of strings, or (the SDK's older form) ``a,b,c``."""
    if not text.strip().startswith("["):
        # Empty items stay, for the schema to refuse: "a,,b" or "," is a slip,
        # and dropping them could leave no filter at all. Empty text: no list.
        return [item.strip() for item in text.split(",")] if text.strip() else []
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise ValueError(text)
    return value


def _convert(text: str, kind: str) -> t.Any:  # noqa: ANN401
    if kind == "boolean":
        return _BOOLEANS[text.strip().lower()]  # KeyError: not a boolean
    if kind == "strings":
        return _strings(text)
    if kind == "integer":
        return int(text.strip())
    if kind == "number":
        value = float(text.strip())
        if not math.isfinite(value):
            raise ValueError(text)
        return int(value) if value.is_integer() and "." not in text else value
    return json.loads(text)


_WORDS = {
    "boolean": "true or false",
    "strings": "a JSON array of strings or a comma-separated list",
    "integer": "an integer",
    "number": "a number",
    "json": "JSON text",
}


def parse_env(schema: dict[str, t.Any], prefix: str) -> dict[str, t.Any]:
    """The settings given as environment variables (and in ``.env``)."""
    ours = {
        name: kind for name, p in schema["properties"].items() if (kind := _kind(p))
    }
    rest = {n: p for n, p in schema["properties"].items() if n not in ours}
    # Also loads .env into the environment, so it runs first.
    result = parse_environment_config({"properties": rest}, prefix)
    problems = []
    for name, kind in ours.items():
        variable = prefix + name.upper().replace("-", "_")
        if variable not in os.environ:
            continue
        text = os.environ[variable]
        try:
            result[name] = _convert(text, kind)
        except json.JSONDecodeError as exc:
            problems.append(
                f"{variable} (setting {name}): not {_WORDS[kind]} "
                f"({exc.msg} at character {exc.pos})",
            )
        except (ValueError, KeyError):
            shown = text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "..."
            problems.append(
                f"{variable} (setting {name}): {shown!r} is not {_WORDS[kind]}"
            )
    if problems:
        raise ConfigValidationError(
            "Config validation failed: " + "; ".join(problems), errors=problems
        )
    return result
