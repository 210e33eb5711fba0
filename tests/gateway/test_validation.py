"""Request validation: each rule alone, all violations together, and robustness to any text."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.domain import (
    Authorization,
    Category,
    Household,
    Member,
    Purpose,
    VerificationRequest,
    members_digest,
)
from gateway.errors import InvalidArgument
from gateway.idnumber import check_digit
from gateway.validation import check_as_of, validate_request

TODAY = date(2025, 6, 1)
APPLICANT_ID = "610102198001011237"
SPOUSE_ID = "610102198203042242"
CHILD_ID = "610102201005050019"


def member(id_number: str = APPLICANT_ID, **changes: Any) -> Member:
    """A valid member; ``changes`` override fields."""
    fields: dict[str, Any] = {"name": "张三", "relation": "self", **changes}
    return Member(id_number=id_number, **fields)


def request(*members: Member, **changes: Any) -> VerificationRequest:
    """A valid request for a three-person household; ``changes`` override top-level fields."""
    household = Household(
        region_code="610102",
        address="陕西省西安市新城区某街道1号",
        category=Category.DIBAO,
        members=members
        or (
            member(),
            member(SPOUSE_ID, name="李四", relation="spouse", declared_monthly_income_fen=150_000),
            member(CHILD_ID, name="张小五", relation="child", disability_grade=2),
        ),
    )
    authorization = Authorization(
        consent_ref="SQ-2025-0001",
        signed_on=date(2025, 5, 1),
        expires_on=date(2026, 5, 1),
        purposes=frozenset({Purpose.APPLICATION, Purpose.RECHECK}),
    )
    fields: dict[str, Any] = {
        "request_id": "req-1",
        "household": household,
        "authorization": authorization,
        "purpose": Purpose.APPLICATION,
        "as_of": TODAY,
        **changes,
    }
    return VerificationRequest(**fields)


def with_household(**changes: Any) -> VerificationRequest:
    """The valid request with household fields replaced."""
    base = request()
    return dataclasses.replace(base, household=dataclasses.replace(base.household, **changes))


def with_auth(**changes: Any) -> VerificationRequest:
    """The valid request with authorization fields replaced."""
    base = request()
    return dataclasses.replace(
        base, authorization=dataclasses.replace(base.authorization, **changes)
    )


def with_member(index: int, **changes: Any) -> VerificationRequest:
    """The valid request with one member's fields replaced."""
    members = list(request().household.members)
    members[index] = dataclasses.replace(members[index], **changes)
    return with_household(members=tuple(members))


def violations(req: VerificationRequest) -> dict[str, str]:
    """Field path → description of every violation (empty when the request is valid)."""
    try:
        validate_request(req, TODAY)
    except InvalidArgument as exc:
        return {v.field: v.description for v in exc.violations}
    return {}


def assert_only(req: VerificationRequest, field: str, fragment: str) -> None:
    """``req`` has exactly one violation, on ``field``, whose description contains ``fragment``."""
    found = violations(req)
    assert list(found) == [field], found
    assert fragment in found[field]


def test_valid_request_passes() -> None:
    """A well-formed request raises nothing."""
    validate_request(request(), TODAY)


@pytest.mark.parametrize(
    ("request_id", "valid"),
    [("", True), ("a" * 64, True), ("A-z_0.9:x", True), ("a" * 65, False), ("a b", False),
     ("编号", False), ("a/b", False), ("x\n", False)],
)  # fmt: skip
def test_request_id(request_id: str, valid: bool) -> None:
    """request_id is empty or up to 64 characters of [A-Za-z0-9._:-]."""
    found = violations(request(request_id=request_id))
    assert found == {} if valid else list(found) == ["request_id"]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"region_code": "999999"}, "'999999' is not a known GB/T 2260 code"),
        ({"region_code": "61010"}, "not a known"),
        ({"region_code": "x" * 1000}, "'xxxxxxxxxxxx…'"),
    ],
)
def test_household_region_code(changes: dict[str, str], fragment: str) -> None:
    """The household's region code must be a known GB/T 2260 code."""
    assert_only(with_household(**changes), "household.region_code", fragment)


@pytest.mark.parametrize(
    ("address", "fragment"),
    [("", "is required"), ("   ", "is required"), ("路" * 201, "at most 200 characters, found 201"),
     ("一号\n二号", "control characters"), ("\u202e号", "control characters")],
)  # fmt: skip
def test_household_address(address: str, fragment: str) -> None:
    """The address has 1–200 characters and no control characters."""
    assert_only(with_household(address=address), "household.address", fragment)


def test_member_count() -> None:
    """A household has 1–20 members."""
    assert_only(with_household(members=()), "household.members", "must have 1–20, found 0")
    ids = [f"610102200001010{i:02d}" for i in range(21)]
    many = tuple(member(i + check_digit(i), relation="child") for i in ids)
    req = with_household(members=(member(), *many[1:]))
    assert_only(req, "household.members", "must have 1–20, found 21")


@pytest.mark.parametrize(
    ("id_number", "fragment"),
    [
        ("61010219800101123", "must be 18 characters"),
        ("610102198001011235", "wrong check digit: expected 7, found 5"),
        ("610102203001011231", "is in the future"),
        ("990102198001011237", "unknown province prefix 99"),
    ],
)
def test_member_id_number(id_number: str, fragment: str) -> None:
    """Each member's ID number must be a valid GB 11643 number born by today."""
    assert_only(with_member(1, id_number=id_number), "household.members[1].id_number", fragment)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("", "is required"), (" ", "is required"), ("张" * 51, "at most 50 characters, found 51"),
     ("张\x00三", "control characters"), ("张\u200b三", "control characters")],
)  # fmt: skip
def test_member_name(name: str, fragment: str) -> None:
    """A name has 1–50 characters and no control or invisible format characters."""
    assert_only(with_member(2, name=name), "household.members[2].name", fragment)


def test_member_name_allows_middle_dot() -> None:
    """Names of ethnic minorities with a middle dot (阿依古丽·买买提) are fine."""
    assert violations(with_member(2, name="阿依古丽·买买提")) == {}


@pytest.mark.parametrize("relation", ["", "friend", "Self", "SPOUSE"])
def test_member_relation(relation: str) -> None:
    """The relation is one of the allowed lower-case words."""
    assert_only(with_member(2, relation=relation), "household.members[2].relation", "is not one of")


def test_exactly_one_applicant() -> None:
    """Exactly one member is "self"; a second one is named, a missing one flagged on members."""
    second = with_member(1, relation="self")
    assert_only(second, "household.members[1].relation", "already given by household.members[0]")
    none = with_member(0, relation="spouse")
    assert_only(none, "household.members", "no member has relation 'self'")


@pytest.mark.parametrize("grade", [-1, 5, 100])
def test_disability_grade(grade: int) -> None:
    """The disability grade is 0 (none) to 4."""
    path = "household.members[0].disability_grade"
    assert_only(with_member(0, disability_grade=grade), path, "0 (none) or 1–4")


@pytest.mark.parametrize(
    ("field", "value"),
    [("declared_monthly_income_fen", -1), ("declared_deposits_fen", 10**12 + 1),
     ("declared_vehicles", -3), ("declared_properties", 1001)],
)  # fmt: skip
def test_declared_amounts(field: str, value: int) -> None:
    """Declared amounts are between zero and a sane cap."""
    assert_only(with_member(0, **{field: value}), f"household.members[0].{field}", "between 0")


def test_duplicate_id_numbers_name_both_paths() -> None:
    """A person listed twice (even as lower-case x) is flagged on the second, citing the first."""
    twin = member("11010519491231002x", name="王六", relation="parent")
    req = request(member(), member("11010519491231002X", relation="parent"), twin)
    assert_only(req, "household.members[2].id_number", "duplicates household.members[1].id_number")


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"consent_ref": ""}, "authorization.consent_ref", "is required"),
        ({"consent_ref": "c" * 65}, "authorization.consent_ref", "at most 64"),
        ({"signed_on": TODAY + timedelta(1)}, "authorization.signed_on", "in the future"),
        ({"expires_on": TODAY - timedelta(1)}, "authorization.expires_on", "expired on 2025-05-31"),
        ({"purposes": frozenset()}, "authorization.purposes", "at least one purpose"),
        ({"purposes": frozenset({Purpose.RECHECK})}, "authorization.purposes", "APPLICATION"),
    ],
)
def test_authorization(changes: dict[str, Any], field: str, fragment: str) -> None:
    """The consent is referenced, signed, unexpired and covers the request's purpose."""
    assert_only(with_auth(**changes), field, fragment)


def test_authorization_expiring_today_is_valid() -> None:
    """An authorization is still valid on its expiry day."""
    assert violations(with_auth(expires_on=TODAY)) == {}


def test_authorization_must_end_after_it_starts() -> None:
    """expires_on must be later than signed_on."""
    req = with_auth(signed_on=TODAY, expires_on=TODAY)
    assert_only(req, "authorization.expires_on", "later than signed_on")


@pytest.mark.parametrize(
    ("as_of", "today", "fragment"),
    [
        (TODAY + timedelta(1), TODAY, "in the future"),
        (date(2024, 5, 31), TODAY, "more than a year ago"),
        (date(2024, 6, 1), TODAY, None),
        (date(2023, 2, 28), date(2024, 2, 29), None),
        (date(2023, 2, 27), date(2024, 2, 29), "more than a year ago"),
    ],
)
def test_as_of(as_of: date, today: date, fragment: str | None) -> None:
    """The as-of date is not in the future and at most one year ago."""
    found = [v.description for v in check_as_of(request(as_of=as_of), today)]
    assert found == [] if fragment is None else len(found) == 1 and fragment in found[0]


def test_every_violation_comes_back_at_once() -> None:
    """One InvalidArgument lists the violations of every rule together."""
    bad = request(
        member("610102198001011235", name="", relation="boss"),
        member(SPOUSE_ID, relation="spouse", declared_deposits_fen=-5),
        request_id="no spaces",
        as_of=TODAY + timedelta(2),
    )
    bad = dataclasses.replace(
        bad,
        household=dataclasses.replace(bad.household, region_code="000001"),
        authorization=dataclasses.replace(bad.authorization, purposes=frozenset()),
    )
    assert set(violations(bad)) == {
        "request_id",
        "as_of",
        "household.region_code",
        "household.members",
        "household.members[0].id_number",
        "household.members[0].name",
        "household.members[0].relation",
        "household.members[1].declared_deposits_fen",
        "authorization.purposes",
    }


def test_descriptions_never_quote_id_numbers_or_names() -> None:
    """Violation descriptions carry neither the ID number nor the name they reject."""
    id_in_relation = with_member(1, id_number="610102198001011235", relation=SPOUSE_ID)
    text = " ".join(violations(id_in_relation).values())
    assert "610102198001011235" not in text
    assert SPOUSE_ID not in text
    assert "李四" not in " ".join(violations(with_member(1, name="李四" * 30)).values())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=9, max_size=9))
def test_any_text_in_string_fields_is_invalid_argument_or_fine(texts: list[str]) -> None:
    """Arbitrary strings in every string field never raise anything but InvalidArgument."""
    req_id, region, address, id1, name1, rel1, id2, consent, by = texts
    req = request(
        member(id1, name=name1, relation=rel1),
        member(id2, name=name1, relation=rel1),
        request_id=req_id,
        requested_by=by,
    )
    req = dataclasses.replace(
        req,
        household=dataclasses.replace(req.household, region_code=region, address=address),
        authorization=dataclasses.replace(req.authorization, consent_ref=consent),
    )
    try:
        validate_request(req, TODAY)
    except InvalidArgument as exc:
        found = exc.violations
    else:
        found = ()
    assert all(v.field and v.description for v in found)


# --- authorization (授权书) scope -------------------------------------------------------------


def signed(req: VerificationRequest, **changes: Any) -> VerificationRequest:
    """``req`` under a full authorization signed by every adult, for this exact household."""
    ids = [m.id_number for m in req.household.members]
    fields: dict[str, Any] = {
        "signed_by": (APPLICANT_ID, SPOUSE_ID),
        "sources": frozenset({"bank", "social_insurance"}),
        "members_digest": members_digest(ids),
        **changes,
    }
    auth = dataclasses.replace(req.authorization, **fields)
    return dataclasses.replace(req, authorization=auth)


def fields_of(req: VerificationRequest) -> dict[str, str]:
    try:
        validate_request(req, TODAY)
    except InvalidArgument as exc:
        return {v.field: v.description for v in exc.violations}
    return {}


def test_full_authorization_is_valid_and_minor_is_covered_by_a_guardian() -> None:
    """Both adults signed; the child (born 2010) is covered by their signatures."""
    assert fields_of(signed(request())) == {}


def test_adult_who_did_not_sign_is_named() -> None:
    """The spouse did not sign: a violation on that member."""
    found = fields_of(signed(request(), signed_by=(APPLICANT_ID,)))
    assert "has not signed" in found["household.members[1]"]


def test_signer_must_be_listed() -> None:
    """A signature by someone not in the household is refused."""
    found = fields_of(signed(request(), signed_by=(APPLICANT_ID, SPOUSE_ID, "110101199001011234")))
    assert "authorization.signed_by[2]" in found


def test_changed_household_invalidates_the_authorization() -> None:
    """Signed for two; now three are listed: the digest differs → sign again."""
    req = signed(request())
    auth = dataclasses.replace(
        req.authorization, members_digest=members_digest([APPLICANT_ID, SPOUSE_ID])
    )
    found = fields_of(dataclasses.replace(req, authorization=auth))
    assert "sign again" in found["authorization.members_digest"]


def test_unknown_source_is_refused() -> None:
    """A source category nobody knows is a violation."""
    found = fields_of(signed(request(), sources=frozenset({"bank", "horoscope"})))
    assert any(k.startswith("authorization.sources[") for k in found)


def test_open_ended_authorization_needs_while_assisted() -> None:
    """No end date is valid only while assistance lasts."""
    assert "authorization.expires_on" in fields_of(signed(request(), expires_on=None))
    assert fields_of(signed(request(), expires_on=None, while_assisted=True)) == {}


def test_bank_needs_explicit_coverage() -> None:
    """Without a source list the bank and business registration are not covered; named, they are."""
    legacy = request().authorization
    assert legacy.covers("social_insurance")
    assert not legacy.covers("bank")
    assert not legacy.covers("business_registration")
    assert signed(request()).authorization.covers("bank")
    assert not signed(request()).authorization.covers("vehicle")
