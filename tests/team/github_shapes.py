"""Complete GitHub objects for the test server: every field GitHub's OpenAPI description requires.

githubkit's models are generated from that description. `complete("Issue", values)` builds an
object with each required field of the schema (nested objects too) set to a neutral value of
its type, then lays the scenario's values over it, so the server answers in GitHub's full shape
and the scenario only states what the tests look at.
"""

from __future__ import annotations

import datetime
import inspect
import types
import typing
from typing import Any

from githubkit_schemas.latest import models
from pydantic import BaseModel

NEUTRAL: dict[Any, Any] = {
    bool: False,
    int: 0,
    float: 0.0,
    str: "",
    datetime.datetime: "2026-01-01T00:00:00Z",
    datetime.date: "2026-01-01",
}


def complete(model: str, values: dict[str, Any]) -> dict[str, Any]:
    return _merged(_skeleton(getattr(models, model)), values)


def _skeleton(model: type[BaseModel]) -> dict[str, Any]:
    return {
        field.alias or name: _neutral(field.annotation, name)
        for name, field in model.model_fields.items()
        if field.is_required()
    }


def _neutral(annotation: Any, name: str) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _neutral(args[0], name)
    if origin in (typing.Union, types.UnionType):
        return None if type(None) in args else _neutral(args[0], name)
    if origin is typing.Literal:
        return args[0]
    if origin is list:
        return []
    if origin is dict:
        return {}
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return _skeleton(annotation)
    if annotation is str and name.endswith("url"):
        return "https://api.github.com/"
    return NEUTRAL.get(annotation)


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
