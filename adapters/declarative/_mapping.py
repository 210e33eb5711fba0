"""From a department's JSON document to typed records, as a :class:`_SourceSpec` says (pure).

Paths are dotted keys; ``[]`` after a key walks every element of that list
(``owners[].vehicles[]``). A field path is read from the item; each leading ``^`` steps out to
the enclosing item (``^idNumber`` is the owner's ID number while mapping one of its vehicles).
Every mismatch raises :class:`~adapters.base.MalformedAnswer` naming the JSON path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.base import MalformedAnswer
from adapters.declarative._spec import FieldSpec, _SourceSpec
from adapters.records import RECORD_TYPES, Record

__all__ = ["Located", "convert", "decode_records", "items", "parse", "read_path"]

_DECIMAL = re.compile(r"-?\d+(\.\d{1,2})?")
Located = tuple[Any, str, tuple[Any, ...]]  # (value, its JSON path, the enclosing items)


def parse(raw: bytes) -> dict[str, Any]:
    """The document (numbers with a fraction as Decimal); MalformedAnswer unless an object."""
    try:
        doc = json.loads(raw, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedAnswer(f"not JSON ({len(raw)} bytes): {exc}") from exc
    if not isinstance(doc, dict):
        raise MalformedAnswer(f"$: expected an object, found {type(doc).__name__}")
    return doc


def _key(value: Any, key: str, where: str) -> Any:
    if not isinstance(value, dict) or value.get(key) is None:
        raise MalformedAnswer(f"{where}.{key}: missing")
    return value[key]


def items(doc: dict[str, Any], path: str) -> Iterator[Located]:
    """Every item at ``path`` (``a[].b[]``), with its JSON path and enclosing items."""
    found: list[Located] = [(doc, "$", ())]
    for part in path.split("."):
        key, walk = part.removesuffix("[]"), part.endswith("[]")
        step: list[Located] = []
        for value, where, outer in found:
            inner, at = _key(value, key, where), f"{where}.{key}"
            if not walk:
                step.append((inner, at, outer))
            elif not isinstance(inner, list):
                raise MalformedAnswer(f"{at}: expected a list, found {type(inner).__name__}")
            else:
                step += [(v, f"{at}[{i}]", (*outer, value)) for i, v in enumerate(inner)]
        found = step
    yield from found


def read_path(item: Located, path: str) -> tuple[Any, str]:
    """The value at a field path (``^`` steps out) and its JSON path."""
    value, where, outer = item
    ups = len(path) - len(path.lstrip("^"))
    if ups:
        if ups > len(outer):
            raise MalformedAnswer(f"{where}: {path!r} steps out of the document")
        value, where = outer[-ups], f"{where}{'^' * ups}"
    for key in path.lstrip("^").split(".") if path.lstrip("^") else ():
        value, where = _key(value, key, where), f"{where}.{key}"
    return value, where


def _hundredths(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise MalformedAnswer(f"{where}: expected a decimal amount, found {value!r:.40}")
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise MalformedAnswer(f"{where}: expected a decimal amount, found {value!r:.40}")
    try:
        scaled = Decimal(value) * 100
    except InvalidOperation as exc:  # pragma: no cover - the pattern above rules it out
        raise MalformedAnswer(f"{where}: not a number: {value!r}") from exc
    if scaled != scaled.to_integral_value():
        raise MalformedAnswer(f"{where}: more than two decimal places: {value}")
    return int(scaled)


def _day(value: Any, spec: FieldSpec, where: str) -> date:
    try:
        if spec.format:
            return datetime.strptime(str(value), spec.format).date()
        return date.fromisoformat(str(value)[:10] if isinstance(value, str) else "")
    except ValueError as exc:
        raise MalformedAnswer(f"{where}: expected a date, found {value!r:.40}") from exc


def convert(value: Any, conversion: str, spec: FieldSpec, where: str) -> Any:
    """``value`` converted as the field says; MalformedAnswer when it cannot be."""
    if conversion in ("yuan", "hundredths"):
        return _hundredths(value, where)
    if conversion == "date":
        return _day(value, spec, where)
    if conversion == "code":
        table = spec.codes or {}
        if str(value) not in table:
            raise MalformedAnswer(f"{where}: unknown code {value!r:.40}; known {sorted(table)}")
        return table[str(value)]
    if conversion == "bool" and (isinstance(value, bool) or value in (0, 1)):
        return bool(value)
    if conversion == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if conversion == "text" and isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    raise MalformedAnswer(f"{where}: expected {conversion}, found {value!r:.40}")


def _record(spec: _SourceSpec, item: Located) -> Record:
    values: dict[str, Any] = {}
    for name, field in spec.fields.items():
        if field.const is not None:
            values[name] = field.const
            continue
        value, where = read_path(item, field.path or "")
        values[name] = convert(value, spec.conversion(name), field, where)
    return RECORD_TYPES[spec.record](**values)


def decode_records(spec: _SourceSpec, doc: dict[str, Any], path: str) -> tuple[Record, ...]:
    """The records of every item at ``path`` in ``doc``, in document order."""
    return tuple(_record(spec, item) for item in items(doc, path))
