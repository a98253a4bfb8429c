"""Dataclasses to and from plain JSON values, driven by their type hints.

One codec for every record so the interchange file, the JSON columns and the schema file can
never drift apart. Parsing collects a Problem (with its JSON path) for every bad value instead of
stopping at the first, then lets the dataclass validate what parsed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any

from ptdoc import fields
from ptdoc.errors import Problem, ValidationError
from ptdoc.fields import Checker

# No record lists more rows than this; the records' own checks set the real limits, this one
# stops a file of a million list items before each is parsed.
MAX_LIST = 1000


@cache
def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@cache
def _optional_inner(tp: Any) -> tuple[bool, Any]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return True, args[0]
    return False, tp


def to_plain(value: Any) -> Any:
    """A domain value as JSON: enums by value, dates ISO, Decimal as a string (no float money)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot encode {type(value).__name__}")


class Parser:
    """Parses plain JSON into dataclasses, recording problems instead of raising per value."""

    def __init__(self, converters: dict[str, Callable[[Any, str], Any]] | None = None):
        # Converters keyed "Class.field" for values that are references, not literals.
        self.converters = converters or {}
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def record(self, cls: type, data: Any, path: str, skip: tuple[str, ...] = (),
               fixed: dict[str, Any] | None = None) -> Any:
        """Parse ``data`` as ``cls``; ``skip`` fields are not in the data, ``fixed`` supplies
        values for them."""
        if not isinstance(data, dict):
            self.fail(path, f"{path or 'document'} must be an object")
            return None
        types_ = hints(cls)
        known = {f.name for f in dataclasses.fields(cls)} - set(skip)
        for extra in sorted(set(data) - known):
            self.fail(_join(path, extra), f"'{extra}' is not a field of {cls.__name__}")
        kwargs = dict(fixed or {})
        before = len(self.problems)
        failed = set()
        for f in dataclasses.fields(cls):
            if f.name in skip or f.name not in data:
                required = f.default is dataclasses.MISSING and \
                    f.default_factory is dataclasses.MISSING
                if required and f.name not in skip and f.name not in kwargs:
                    self.fail(_join(path, f.name), f"'{f.name}' is required")
                continue
            sub = _join(path, f.name)
            conv = self.converters.get(f"{cls.__name__}.{f.name}")
            count = len(self.problems)
            if conv and data[f.name] is None and not _optional_inner(types_[f.name])[0]:
                self.fail(sub, f"{sub} must not be null")
                kwargs[f.name] = None
            else:
                kwargs[f.name] = conv(data[f.name], sub) if conv else \
                    self.value(types_[f.name], data[f.name], sub)
            if len(self.problems) != count:
                failed.add(f.name)
        if len(self.problems) != before:
            self._check_the_rest(cls, kwargs, path, failed)
            return None
        try:
            return cls(**kwargs)
        except ValidationError as exc:
            self.problems.extend(p.prefixed(path) if path else p for p in exc.problems)
            return None

    def value(self, tp: Any, data: Any, path: str) -> Any:
        optional, tp = _optional_inner(tp)
        if data is None:
            if not optional:
                self.fail(path, f"{path} must not be null")
            return None
        origin = typing.get_origin(tp)
        if origin is tuple:
            if not isinstance(data, list):
                self.fail(path, f"{path} must be a list")
                return ()
            if len(data) > MAX_LIST:
                self.fail(path, f"{path} must list at most {MAX_LIST} items (got {len(data)})")
                return ()
            inner = typing.get_args(tp)[0]
            return tuple(self.value(inner, v, f"{path}[{i}]") for i, v in enumerate(data))
        if dataclasses.is_dataclass(tp):
            return self.record(tp, data, path)
        parse = _SCALARS.get(tp)
        if parse is None and isinstance(tp, type) and issubclass(tp, Enum):
            choices = [e.value for e in tp]
            if isinstance(data, str) and data in choices:
                return tp(data)
            self.fail(path, f"{path} must be one of {', '.join(map(repr, choices))} "
                            f"(got {_shown(data)})")
            return None
        assert parse is not None, f"no parser for {tp}"
        if isinstance(data, str) and len(data) > fields.NARRATIVE_TEXT:
            self.fail(path, f"{path} must be at most {fields.NARRATIVE_TEXT} characters "
                            f"(it has {len(data)})")
            return None
        if isinstance(data, str) and not fields.storable(data):
            self.fail(path, f"{path} contains a character that cannot be stored")
            return None
        try:
            return parse(data)
        except (TypeError, ValueError, InvalidOperation, OverflowError):
            self.fail(path, f"{path} must be {_EXPECTED[tp]} (got {_shown(data)})")
            return None


    def _check_the_rest(self, cls: type, kwargs: dict[str, Any], path: str,
                        failed: set[str]) -> None:
        """Run the record's own checks on the fields that did parse, so one pass reports
        every problem; a check that cannot run without the failed fields is skipped."""
        check = getattr(cls, "_check", None)
        if check is None:
            return
        # A field that failed stands in with its default (or None), never half-parsed.
        obj = _unchecked(cls, {k: v for k, v in kwargs.items() if k not in failed})
        checker = Checker()
        try:
            check(obj, checker)
        except (TypeError, AttributeError, ValueError):
            return
        for problem in checker.problems:
            root = problem.field.split(".")[0].split("[")[0]
            if root not in failed:
                self.problems.append(problem.prefixed(path) if path else problem)


def _unchecked(cls: type, kwargs: dict[str, Any]) -> Any:
    obj = object.__new__(cls)
    for f in dataclasses.fields(cls):
        if f.name in kwargs:
            value = kwargs[f.name]
        elif f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            value = None
        object.__setattr__(obj, f.name, value)
    return obj


def _shown(data: Any) -> str:
    """A bad value for a one-line message: its JSON type when it is a list or object."""
    if isinstance(data, dict | list):
        return f"a JSON {'object' if isinstance(data, dict) else 'list'}"
    text = repr(data)
    return text if len(text) <= 40 else text[:40] + "…"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError
    return v


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError
    return v


def _decimal(v: Any) -> Decimal:
    # Only what the schema allows: a string of plain digits (never 1E+9, NaN or a JSON float).
    if not isinstance(v, str) or not fields.DECIMAL_PATTERN.match(v):
        raise TypeError
    return Decimal(v)


def _date(v: Any) -> dt.date:
    if not isinstance(v, str) or len(v) != 10:
        raise TypeError
    value = dt.date.fromisoformat(v)
    if not fields.date_in_bounds(value):
        raise ValueError
    return value


def _time(v: Any) -> dt.time:
    if not isinstance(v, str) or len(v) != 5:
        raise TypeError
    return dt.time.fromisoformat(v)


def _datetime(v: Any) -> dt.datetime:
    if not isinstance(v, str):
        raise TypeError
    value = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if value.tzinfo is None or not fields.date_in_bounds(value):
        raise ValueError
    return value.astimezone(dt.UTC)


_SCALARS: dict[Any, Callable[[Any], Any]] = {
    int: _int, str: _str, bool: _bool, Decimal: _decimal,
    dt.date: _date, dt.time: _time, dt.datetime: _datetime,
}
_EXPECTED = {
    int: "a whole number", str: "text", bool: "true or false",
    Decimal: "a number written as a string such as \"12.5\"",
    dt.date: f"a date as YYYY-MM-DD from {fields.EARLIEST_DATE} to {fields.LATEST_DATE}",
    dt.time: "a time as HH:MM",
    dt.datetime: f"a UTC time as YYYY-MM-DDTHH:MM:SSZ from {fields.EARLIEST_DATE} to "
                 f"{fields.LATEST_DATE}",
}


def json_schema(tp: Any, overrides: dict[str, dict[str, Any]] | None = None,
                skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON Schema of what ``to_plain`` writes for ``tp`` (used to write the schema file)."""
    overrides = overrides or {}
    optional, tp = _optional_inner(tp)
    if typing.get_origin(tp) is tuple:
        schema: dict[str, Any] = {"type": "array", "maxItems": MAX_LIST,
                                  "items": json_schema(typing.get_args(tp)[0], overrides)}
    elif dataclasses.is_dataclass(tp):
        props = {}
        required = []
        types_ = hints(tp)
        for f in dataclasses.fields(tp):
            if f.name in skip:
                continue
            props[f.name] = overrides.get(f"{tp.__name__}.{f.name}") or \
                json_schema(types_[f.name], overrides)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                required.append(f.name)
        schema = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            schema["required"] = required
    elif isinstance(tp, type) and issubclass(tp, Enum):
        schema = {"enum": [e.value for e in tp]}
    else:
        schema = dict(_SCHEMAS[tp])
    if optional:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


_SCHEMAS: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    str: {"type": "string", "maxLength": fields.NARRATIVE_TEXT},
    bool: {"type": "boolean"},
    Decimal: {"type": "string", "pattern": fields.DECIMAL_PATTERN.pattern},
    dt.date: {"type": "string", "format": "date",
              "pattern": r"^(19[0-9]{2}|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"},
    dt.time: {"type": "string", "pattern": r"^[0-9]{2}:[0-9]{2}$"},
    dt.datetime: {"type": "string", "format": "date-time"},
}


# --- fast decoding of trusted plain values (what ptdoc itself stored) -------------------------

_DECODE_SCALARS: dict[Any, Callable[[Any], Any]] = {
    int: lambda v: v, str: lambda v: v, bool: bool, Decimal: lambda v: Decimal(str(v)),
    dt.date: dt.date.fromisoformat, dt.time: dt.time.fromisoformat, dt.datetime: _datetime,
}


@cache
def decoder(tp: Any) -> Callable[[Any], Any]:
    """A compiled converter from stored plain values to ``tp``, without re-validation or
    problem collection: loading a note must stay fast (and must load what was stored)."""
    optional, inner = _optional_inner(tp)
    if typing.get_origin(inner) is tuple:
        item = decoder(typing.get_args(inner)[0])

        def convert(value: Any) -> Any:
            return tuple(item(v) for v in value)
    elif dataclasses.is_dataclass(inner):
        convert = _record_decoder(inner)
    elif isinstance(inner, type) and issubclass(inner, Enum):
        convert = inner
    else:
        convert = _DECODE_SCALARS[inner]
    if not optional:
        return convert
    return lambda value: None if value is None else convert(value)


def _constant(value: Any) -> Callable[[], Any]:
    def get() -> Any:
        return value
    return get


def _record_decoder(cls: type) -> Callable[[Any], Any]:
    types_ = hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default: Callable[[], Any] | None = _constant(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory
        else:
            default = None
        plan.append((f.name, decoder(types_[f.name]), default))

    def convert(data: dict[str, Any]) -> Any:
        obj = object.__new__(cls)
        for name, dec, default in plan:
            if name in data:
                value = dec(data[name])
            elif default is not None:
                value = default()
            else:
                raise KeyError(name)
            object.__setattr__(obj, name, value)
        return obj
    return convert
