"""Parse and check a policy file (TOML); every problem is named by file, key and reason.

File layout (see ``docs/policy.md``)::

    [policy]                      region, programme, version, issued, title
    [[parameter.<name>]]          value, from, until (optional), reference, illustrative
    [[exclusion]]                 kind, from, until (optional), reference
"""

from __future__ import annotations

import itertools
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from gateway import regions
from gateway.policy._model import DatedValue, Exclusion, PolicyDocument, PolicyError, Value
from gateway.policy._schema import INCOME_KINDS, PARAMETERS, PROGRAMMES, Kind, ParamSpec

__all__ = ["check_policy_file", "load_policy_file", "parse_policy"]

_ENTRY_KEYS = frozenset({"value", "from", "until", "reference", "illustrative"})
_EXCLUSION_KEYS = frozenset({"kind", "from", "until", "reference"})
_META_KEYS = frozenset({"region", "programme", "version", "issued", "title"})


class _Errors(list[PolicyError]):
    """Collects every problem of one file."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file

    def add(self, key: str, reason: str) -> None:
        self.append(PolicyError(self.file, key, reason))


def load_policy_file(path: Path) -> PolicyDocument:
    """The checked document; raises the first :class:`PolicyError` if there is any."""
    document, errors = check_policy_file(path)
    if errors or document is None:
        raise errors[0]
    return document


def check_policy_file(path: Path) -> tuple[PolicyDocument | None, list[PolicyError]]:
    """The document (when valid) and every problem found."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, [PolicyError(str(path), "(file)", str(exc))]
    return parse_policy(data, str(path))


def parse_policy(
    data: dict[str, Any], file: str
) -> tuple[PolicyDocument | None, list[PolicyError]]:
    """Check parsed TOML ``data``; the document is ``None`` when there is any error."""
    errors = _Errors(file)
    for key in sorted(set(data) - {"policy", "parameter", "exclusion"}):
        errors.add(key, "unknown top-level key (expected policy, parameter, exclusion)")
    meta = _meta(data.get("policy"), errors)
    programme = str(meta.get("programme", ""))
    parameters = _parameters(data.get("parameter", {}), programme, errors)
    exclusions = _exclusions(data.get("exclusion", []), errors)
    if errors:
        return None, list(errors)
    document = PolicyDocument(file=file, parameters=parameters, exclusions=exclusions, **meta)
    return document, []


def _meta(table: Any, errors: _Errors) -> dict[str, Any]:
    if not isinstance(table, dict):
        errors.add("policy", "missing [policy] table")
        return {}
    for key in sorted(set(table) - _META_KEYS):
        errors.add(f"policy.{key}", "unknown key")
    for key in sorted(_META_KEYS - set(table)):
        errors.add(f"policy.{key}", "is required")
    region, programme = table.get("region"), table.get("programme")
    if "region" in table and not (isinstance(region, str) and regions.is_region_code(region)):
        errors.add("policy.region", f"{region!r} is not a known GB/T 2260 code")
    if "programme" in table and programme not in PROGRAMMES:
        errors.add("policy.programme", f"{programme!r} is not one of {sorted(PROGRAMMES)}")
    if "issued" in table and not _is_date(table["issued"]):
        errors.add("policy.issued", "must be a date (YYYY-MM-DD, unquoted)")
    for key in ("version", "title"):
        if key in table and not (isinstance(table[key], str) and table[key].strip()):
            errors.add(f"policy.{key}", "must be a non-empty string")
    return {k: table[k] for k in _META_KEYS if k in table}


def _parameters(table: Any, programme: str, errors: _Errors) -> dict[str, tuple[DatedValue, ...]]:
    if not isinstance(table, dict):
        errors.add("parameter", "must be a table of [[parameter.<name>]] arrays")
        return {}
    out: dict[str, tuple[DatedValue, ...]] = {}
    for name in sorted(table):
        spec = PARAMETERS.get(name)
        if spec is None:
            errors.add(f"parameter.{name}", "unknown parameter")
            continue
        entries = table[name] if isinstance(table[name], list) else [table[name]]
        values = [_entry(e, f"parameter.{name}[{i}]", spec, errors) for i, e in enumerate(entries)]
        out[name] = tuple(sorted((v for v in values if v), key=lambda v: v.start))
        _check_overlaps(f"parameter.{name}", out[name], errors)
    for name, spec in PARAMETERS.items():
        if programme in spec.programmes and name not in table:
            errors.add(f"parameter.{name}", f"is required for programme {programme!r}")
    return out


def _entry(entry: Any, key: str, spec: ParamSpec, errors: _Errors) -> DatedValue | None:
    if not isinstance(entry, dict):
        errors.add(key, "must be a table with value, from, reference")
        return None
    before = len(errors)
    for extra in sorted(set(entry) - _ENTRY_KEYS):
        errors.add(f"{key}.{extra}", "unknown key")
    value = _value(entry.get("value"), f"{key}.value", spec, errors)
    start, end = _dates(entry, key, errors)
    reference = _reference(entry, key, errors)
    illustrative = entry.get("illustrative", False)
    if not isinstance(illustrative, bool):
        errors.add(f"{key}.illustrative", "must be true or false")
    if len(errors) > before or value is None or start is None:
        return None
    return DatedValue(value, start, end, reference, bool(illustrative))


def _value(raw: Any, key: str, spec: ParamSpec, errors: _Errors) -> Value | None:
    if raw is None:
        errors.add(key, "is required")
        return None
    if spec.kind is Kind.BOOL:
        if not isinstance(raw, bool):
            errors.add(key, "must be true or false")
        return raw if isinstance(raw, bool) else None
    if spec.kind is Kind.NAMES:
        ok = isinstance(raw, list) and all(isinstance(x, str) and x for x in raw)
        if not ok:
            errors.add(key, "must be a list of names")
        return tuple(sorted(raw)) if ok else None
    if spec.kind is Kind.GRADES:
        ok = isinstance(raw, list) and all(type(x) is int and 1 <= x <= 4 for x in raw)
        if not ok:
            errors.add(key, "must be a list of disability grades 1–4")
        return tuple(sorted(raw)) if ok else None
    if type(raw) is not int:
        errors.add(key, f"must be an integer ({spec.kind.value}), got {type(raw).__name__}")
        return None
    if not spec.low <= raw <= spec.high:
        errors.add(key, f"{raw} is outside the allowed range {spec.low}–{spec.high} ({spec.help})")
        return None
    return raw


def _dates(entry: dict[str, Any], key: str, errors: _Errors) -> tuple[date | None, date | None]:
    start, end = entry.get("from"), entry.get("until")
    if not _is_date(start):
        errors.add(f"{key}.from", "is required and must be a date (YYYY-MM-DD, unquoted)")
        start = None
    if end is not None and not _is_date(end):
        errors.add(f"{key}.until", "must be a date (YYYY-MM-DD, unquoted)")
        end = None
    if start is not None and end is not None and end < start:
        errors.add(f"{key}.until", f"{end} is before from = {start}")
    return start, end


def _reference(entry: dict[str, Any], key: str, errors: _Errors) -> str:
    reference = entry.get("reference")
    if not (isinstance(reference, str) and reference.strip()):
        errors.add(f"{key}.reference", "is required: the regulation or notice the value is from")
        return ""
    return reference


def _check_overlaps(key: str, values: tuple[DatedValue, ...], errors: _Errors) -> None:
    for earlier, later in itertools.pairwise(values):
        if earlier.end is None or later.start <= earlier.end:
            errors.add(
                key, f"date ranges overlap: one from {earlier.start}, one from {later.start}"
            )


def _exclusions(entries: Any, errors: _Errors) -> tuple[Exclusion, ...]:
    if not isinstance(entries, list):
        errors.add("exclusion", "must be an array of [[exclusion]] tables")
        return ()
    out: list[Exclusion] = []
    for i, entry in enumerate(entries):
        key = f"exclusion[{i}]"
        if not isinstance(entry, dict):
            errors.add(key, "must be a table with kind, from, reference")
            continue
        for extra in sorted(set(entry) - _EXCLUSION_KEYS):
            errors.add(f"{key}.{extra}", "unknown key")
        kind = entry.get("kind")
        if kind not in INCOME_KINDS:
            errors.add(f"{key}.kind", f"{kind!r} is not one of {sorted(INCOME_KINDS)}")
        start, end = _dates(entry, key, errors)
        reference = _reference(entry, key, errors)
        if kind in INCOME_KINDS and start is not None and reference:
            out.append(Exclusion(str(kind), start, end, reference))
    return tuple(out)


def _is_date(value: Any) -> bool:
    return isinstance(value, date) and type(value) is date
