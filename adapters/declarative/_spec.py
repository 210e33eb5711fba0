"""What an administrator writes under ``[sources.<name>]``: checked when the file is read.

Every mistake is a pydantic validation error whose location is the key (``sources.<name>.fields
.plate``) and whose message says what is wrong; the gateway adds the file name.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adapters.base import SourceCategory
from adapters.records import RECORD_TYPES

__all__ = [
    "CONVERSIONS",
    "DeclarativeSpec",
    "FieldSpec",
    "HttpJsonSourceSpec",
    "SqlViewSourceSpec",
]

#: conversion → the Python type it produces (checked against the record field's type).
CONVERSIONS: dict[str, type] = {
    "text": str,
    "int": int,
    "bool": bool,
    "date": date,
    "yuan": int,  # a yuan amount ("12.34", 12.34 or 12) → fen, exactly (Decimal)
    "hundredths": int,  # any decimal with at most two places × 100 (m² → dm²)
    "code": str,  # looked up in ``codes``; the value's type is the table's
}
_DEFAULT_CONVERSION = {str: "text", int: "int", bool: "bool", date: "date"}
_PARAM = re.compile(r"(?<![:\w]):(\w+)")
SQL_PARAMS = ("id_numbers", "as_of")


class FieldSpec(BaseModel):
    """One record field: where its value is (``path``) or what it is (``const``), and how to
    convert it. A bare string in the file is a ``path``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = None
    const: str | int | bool | None = None
    type: Literal["text", "int", "bool", "date", "yuan", "hundredths", "code"] | None = None
    codes: dict[str, str | int | bool] | None = None
    format: str | None = None  # strptime format of a date; default ISO 8601

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        if (self.path is None) == (self.const is None):
            raise ValueError("give exactly one of path or const")
        if (self.type == "code") != (self.codes is not None):
            raise ValueError('type = "code" and codes go together')
        if self.format is not None and self.type != "date":
            raise ValueError('format is only for type = "date"')
        return self


def _field_type(record: str, name: str) -> type:
    """The Python type of a record field (annotations are strings: postponed evaluation)."""
    kinds = {"str": str, "int": int, "bool": bool, "date": date}
    cls = RECORD_TYPES[record]
    annotation = next(f.type for f in dataclasses.fields(cls) if f.name == name)
    return kinds[str(annotation)]


class _SourceSpec(BaseModel):
    """What both kinds share: the department, the record kind and the field mapping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: SourceCategory
    department: Annotated[str, Field(min_length=1)]
    record: str
    fields: dict[str, FieldSpec]

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"path": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("record")
    @classmethod
    def _known_record(cls, value: str) -> str:
        if value not in RECORD_TYPES:
            raise ValueError(f"unknown record kind {value!r}; one of {sorted(RECORD_TYPES)}")
        return value

    @model_validator(mode="after")
    def _fields_fit_the_record(self) -> _SourceSpec:
        wanted = [f.name for f in dataclasses.fields(RECORD_TYPES[self.record])]
        missing = [n for n in wanted if n not in self.fields]
        extra = sorted(set(self.fields) - set(wanted))
        if missing or extra:
            raise ValueError(
                f"fields of a {self.record} record: missing {missing}, unknown {extra}"
            )
        for name in wanted:
            self._check_type(name, self.fields[name])
        return self

    def _check_type(self, name: str, spec: FieldSpec) -> None:
        want = _field_type(self.record, name)
        if spec.const is not None:
            ok = type(spec.const) is want
        elif spec.type == "code":
            ok = all(type(v) is want for v in (spec.codes or {}).values())
        else:
            ok = CONVERSIONS[spec.type or _DEFAULT_CONVERSION[want]] is want
        if not ok:
            raise ValueError(f"fields.{name}: a {self.record} record needs {want.__name__} here")

    def conversion(self, name: str) -> str:
        """The conversion of field ``name`` (given, or the default for the field's type)."""
        spec = self.fields[name]
        return spec.type or _DEFAULT_CONVERSION[_field_type(self.record, name)]


class HttpJsonSourceSpec(_SourceSpec):
    """A department's HTTP-JSON API (``kind = "http_json"``)."""

    kind: Literal["http_json"]
    endpoint: Annotated[str, Field(min_length=1)]  # a URL, or a path under the base URL
    method: Literal["POST", "GET"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | None = None  # template; None: the shared department request
    items: Annotated[str, Field(min_length=1)]  # where the records are, e.g. "owners[].cars[]"
    as_of: str = ""  # path of the department's as-of date in the answer ("": none)
    department_path: str = ""  # path of the department's own name in the answer ("": none)


class SqlViewSourceSpec(_SourceSpec):
    """A department's shared database view, read with SQLAlchemy (``kind = "sql_view"``)."""

    kind: Literal["sql_view"]
    dsn: Annotated[str, Field(min_length=1)]
    query: Annotated[str, Field(min_length=1)]  # binds :id_numbers (a list), may bind :as_of

    @field_validator("query")
    @classmethod
    def _binds_id_numbers(cls, value: str) -> str:
        params = set(_PARAM.findall(value))
        if "id_numbers" not in params:
            raise ValueError("the query must bind :id_numbers, e.g. WHERE id_no IN :id_numbers")
        if unknown := sorted(params - set(SQL_PARAMS)):
            raise ValueError(f"unknown bound parameters {unknown}; allowed: {list(SQL_PARAMS)}")
        return value


DeclarativeSpec = Annotated[HttpJsonSourceSpec | SqlViewSourceSpec, Field(discriminator="kind")]
