"""Request validation: the first step of the pipeline; every violation is reported at once.

Each rule is a small pure function from the request (and ``today``) to the violations it finds;
:func:`validate_request` runs them all and raises one :class:`~gateway.errors.InvalidArgument`.
Field paths are those of ``proto/hedui/v1`` (``household.members[2].id_number``), so the gRPC
edge can hand them on as ``google.rpc.BadRequest`` field violations unchanged.

Descriptions never quote ID numbers or names: they travel back to the caller and into logs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date

from gateway import idnumber, regions
from gateway.authorization import authorization_scope
from gateway.domain import Authorization, Household, Member, VerificationRequest
from gateway.errors import FieldViolation, InvalidArgument

__all__ = [
    "MAX_AMOUNT_FEN",
    "MAX_COUNT",
    "MAX_MEMBERS",
    "RELATIONS",
    "RULES",
    "Rule",
    "check_as_of",
    "check_authorization",
    "check_household",
    "check_member",
    "check_request_id",
    "validate_request",
]

Rule = Callable[[VerificationRequest, date], Iterator[FieldViolation]]

RELATIONS = frozenset(
    {"self", "spouse", "child", "parent", "grandparent", "grandchild", "sibling", "other"}
)
MAX_MEMBERS = 20
MAX_AMOUNT_FEN = (
    10**12
)  # ten thousand million yuan: far above any real declaration, far below int64
MAX_COUNT = 1_000  # vehicles or properties declared by one member
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{0,64}")
# Control characters, invisible format characters, lone surrogates, line/paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def validate_request(req: VerificationRequest, today: date) -> None:
    """Raise :class:`InvalidArgument` listing every violation in ``req``; return if none."""
    violations = [violation for rule in RULES for violation in rule(req, today)]
    if violations:
        raise InvalidArgument(violations)


def check_request_id(req: VerificationRequest, today: date) -> Iterator[FieldViolation]:
    """Up to 64 characters of ``[A-Za-z0-9._:-]``; empty means "let the gateway choose"."""
    if not _REQUEST_ID.fullmatch(req.request_id):
        yield FieldViolation("request_id", "must be at most 64 characters of A-Z a-z 0-9 . _ : -")


def check_as_of(req: VerificationRequest, today: date) -> Iterator[FieldViolation]:
    """The as-of time (核对时点) is neither in the future nor more than a year ago."""
    if req.as_of > today:
        yield FieldViolation("as_of", f"{req.as_of.isoformat()} is in the future")
    elif req.as_of < _one_year_before(today):
        yield FieldViolation("as_of", f"{req.as_of.isoformat()} is more than a year ago")


def check_household(req: VerificationRequest, today: date) -> Iterator[FieldViolation]:
    """Known region code, an address, 1–20 members each valid, one applicant, no duplicates."""
    household = req.household
    if not regions.is_region_code(household.region_code):
        shown = _show(household.region_code)
        yield FieldViolation("household.region_code", f"{shown} is not a known GB/T 2260 code")
    yield from _text("household.address", household.address, 200)
    if not 1 <= len(household.members) <= MAX_MEMBERS:
        found = len(household.members)
        yield FieldViolation("household.members", f"must have 1–{MAX_MEMBERS}, found {found}")
    for index, member in enumerate(household.members):
        yield from check_member(f"household.members[{index}]", member, today)
    yield from _check_applicant(household)
    yield from _check_duplicates(household)


def check_member(path: str, member: Member, today: date) -> Iterator[FieldViolation]:
    """One member: ID number, name, relation, disability grade and declared amounts."""
    try:
        idnumber.parse_id_number(member.id_number, today=today)
    except idnumber.InvalidIdNumber as exc:
        yield FieldViolation(f"{path}.id_number", f"invalid resident ID number: {exc}")
    yield from _text(f"{path}.name", member.name, 50)
    if member.relation not in RELATIONS:
        allowed = ", ".join(sorted(RELATIONS))
        yield FieldViolation(
            f"{path}.relation", f"{_show(member.relation)} is not one of {allowed}"
        )
    if not 0 <= member.disability_grade <= 4:
        yield FieldViolation(f"{path}.disability_grade", "must be 0 (none) or 1–4")
    # the field path is built only for a violation: four generators and paths per member cost
    # more than the rest of this check (≈ 2 µs of 6)
    amounts = (
        ("declared_monthly_income_fen", member.declared_monthly_income_fen, MAX_AMOUNT_FEN),
        ("declared_deposits_fen", member.declared_deposits_fen, MAX_AMOUNT_FEN),
        ("declared_vehicles", member.declared_vehicles, MAX_COUNT),
        ("declared_properties", member.declared_properties, MAX_COUNT),
    )
    for field, value, cap in amounts:
        if not 0 <= value <= cap:
            yield from _amount(f"{path}.{field}", value, cap)


def check_authorization(req: VerificationRequest, today: date) -> Iterator[FieldViolation]:
    """A consent reference, signed already, not expired, and covering the request's purpose."""
    auth = req.authorization
    yield from _text("authorization.consent_ref", auth.consent_ref, 64)
    yield from _check_auth_dates(auth, today)
    if not auth.purposes:
        yield FieldViolation("authorization.purposes", "must name at least one purpose")
    elif req.purpose not in auth.purposes:
        yield FieldViolation("authorization.purposes", f"does not cover purpose {req.purpose}")
    yield from authorization_scope(req, today)


RULES: tuple[Rule, ...] = (check_request_id, check_household, check_authorization, check_as_of)


def _check_auth_dates(auth: Authorization, today: date) -> Iterator[FieldViolation]:
    if auth.signed_on > today:
        yield FieldViolation("authorization.signed_on", "is in the future")
    if auth.expires_on is None:
        if not auth.while_assisted:
            yield FieldViolation(
                "authorization.expires_on", "is required unless while_assisted is set"
            )
        return
    if auth.expires_on < today:
        yield FieldViolation("authorization.expires_on", f"expired on {auth.expires_on}")
    if auth.expires_on <= auth.signed_on:
        yield FieldViolation("authorization.expires_on", "must be later than signed_on")


def _check_applicant(household: Household) -> Iterator[FieldViolation]:
    """Exactly one member is the applicant ("self"); every other one is named."""
    selves = [i for i, member in enumerate(household.members) if member.relation == "self"]
    if household.members and not selves:
        yield FieldViolation("household.members", "no member has relation 'self'")
    for index in selves[1:]:
        path = f"household.members[{index}].relation"
        yield FieldViolation(path, f"'self' already given by household.members[{selves[0]}]")


def _check_duplicates(household: Household) -> Iterator[FieldViolation]:
    """Each person once; compared after normalising a trailing lower-case x."""
    first_seen: dict[str, int] = {}
    for index, member in enumerate(household.members):
        key = member.id_number.upper()
        if key in first_seen:
            other = f"household.members[{first_seen[key]}].id_number"
            path = f"household.members[{index}].id_number"
            yield FieldViolation(path, f"duplicates {other}")
        else:
            first_seen[key] = index


def _text(path: str, value: str, max_length: int) -> Iterator[FieldViolation]:
    """1–``max_length`` characters, not blank, no control characters."""
    if not value.strip():
        yield FieldViolation(path, "is required")
    elif len(value) > max_length:
        yield FieldViolation(path, f"must be at most {max_length} characters, found {len(value)}")
    if _has_control(value):
        yield FieldViolation(path, "must not contain control characters")


def _has_control(value: str) -> bool:
    """Whether ``value`` has a character of :data:`_CONTROL_CATEGORIES`.

    Python counts every character of those categories as not printable (and some more: Zs, Co,
    Cn), so a printable string, the usual case, needs no walk through its characters.
    """
    if value.isprintable():
        return False
    return any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in value)


def _amount(path: str, value: int, cap: int = MAX_AMOUNT_FEN) -> Iterator[FieldViolation]:
    if not 0 <= value <= cap:
        yield FieldViolation(path, f"must be between 0 and {cap}, found {value}")


def _show(value: str, limit: int = 12) -> str:
    """Quote a caller's value, shortened: it cannot flood a response or carry an ID number."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _one_year_before(today: date) -> date:
    """The same calendar day a year earlier (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:
        return today.replace(year=today.year - 1, day=28)
