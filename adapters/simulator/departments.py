"""The seven department APIs: request parsing and answer documents (pure, no HTTP here).

Every department takes the same request, ``POST <path>`` with JSON::

    {"request_id": "…", "id_numbers": ["…"], "as_of": "YYYY-MM-DD",
     "purpose": "APPLICATION", "authorization_ref": "…"}

and answers ``200`` with its own document (below), ``400`` for a bad request, ``404`` when it
holds no record for any of the subjects, ``403`` (bank only) without an ``authorization_ref``.
Errors are ``{"error": {"code": "…", "message": "…"}}``. Records dated after ``as_of`` are left
out; dates are ISO 8601. Each department names things its own way:

* 户籍 ``/hukou/v1/persons:query`` → ``{department, as_of, results: [{id_number, found, person:
  {rkbh, xm, xbdm "1"|"2", csrq, hh, yhzgx (GB/T 4761 code), ssxq, hkzt "0"|"1"|"2"}}]}``
* 社保 ``/si/v2/insured:batchQuery`` → ``{code, msg, dept, queryDate, persons: [{idCard, insured,
  items: [{itemNo, insuranceType "110"|"170"|"210"|"310", payKind "JF"|"DY", monthlyAmount
  (yuan, JSON number), unitName, startDate, status "1"|"2"|"3"}]}]}``
* 车辆 ``/vehicle/api/v1/owners/vehicles:search`` → ``{department, asOf, owners: [{idNumber,
  matched, vehicles: [{vin, plateNo, vehicleClass "K33"|"M21"|"M11"|"H31", brandModel,
  firstRegDate, invoicePriceFen, state "A"|"B"|"E"}]}]}``
* 房产 ``/realestate/v1/rights:query`` → ``{registry, asOfDate, holders: [{holderIdNo, hasRecord,
  rights: [{unitNo, holderSeq, certNo, location, purpose "住宅"|"商业"|"其他", areaSqm ("89.37"),
  sharePct, registerDate}]}]}``
* 殡葬 ``/funeral/v1/deaths:check`` → ``{source, as_of, records: [{id_number, deceased, death:
  {cert_no, death_date, place, cremation "Y"|"N"}}]}``
* 公积金 ``/gjj/v1/accounts:query`` → ``{zxmc, cxrq, list: [{zjhm, cxjg "1"|"0", zhxx: [{grzh, dwmc,
  jcjs, yjce, zhye (yuan strings "4500.00"), zhzt "01"|"02"|"03"}]}]}``
* 银行 ``/bank/v1/deposits:inquire`` → ``{network, asOf, customers: [{idNo, found, accounts:
  [{bankName, accountNo, productType "活期"|"定期"|"理财", balance ("12345.67"), currency,
  balanceDate}]}]}``
* 残联 ``/cdpf/v1/certificates:query`` (for the example plug-in, see :mod:`._disability`) →
  ``{org, cxrq, data: [{sfzh, cjrz: [{czbh, cjlb, cjdj, fzrq, zt}]}]}``
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from adapters.records import (
    BankAccount,
    DeathRecord,
    DisabilityRecord,
    HousingFundAccount,
    InsuranceRecord,
    PropertyRecord,
    Record,
    RegistrationRecord,
    VehicleRecord,
)
from adapters.simulator import _answers, _disability

__all__ = ["DEPARTMENTS", "Department", "DepartmentRequest", "parse_request"]

Json = dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class DepartmentRequest:
    """A parsed department request."""

    request_id: str
    id_numbers: tuple[str, ...]
    as_of: date
    purpose: str
    authorization_ref: str


def parse_request(body: Any) -> DepartmentRequest:
    """Check the shared request shape; raises ``ValueError`` saying what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("request body must be a JSON object")
    ids = body.get("id_numbers")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ValueError("id_numbers must be a non-empty list of strings")
    try:
        as_of = date.fromisoformat(str(body.get("as_of")))
    except ValueError:
        raise ValueError("as_of must be an ISO date (YYYY-MM-DD)") from None
    fields = [str(body.get(k) or "") for k in ("request_id", "purpose", "authorization_ref")]
    return DepartmentRequest(fields[0], tuple(ids), as_of, fields[1], fields[2])


@dataclasses.dataclass(frozen=True, slots=True)
class Department:
    """One department API: where it listens, what it holds and how it spells its answer."""

    name: str  # the SourceCategory value
    path: str
    title: str  # how the department names itself in answers
    kind: type[Record]
    envelope: tuple[str, str, str]  # keys of: department name, as-of date, per-subject list
    entry: Callable[[str, Sequence[Any]], Json]
    needs_authorization: bool = False

    def answer(self, holdings: Sequence[tuple[str, Sequence[Record]]], as_of: date) -> Json | None:
        """The answer document, or None when no subject has a record here (→ 404)."""
        mine = [
            (i, [r for r in recs if isinstance(r, self.kind) and _visible(r, as_of)])
            for i, recs in holdings
        ]
        if not any(records for _, records in mine):
            return None
        mine = [(i, [_as_of(r, as_of) for r in records]) for i, records in mine]
        name_key, as_of_key, list_key = self.envelope
        head: Json = {"code": "0000", "msg": "成功"} if self.name == "social_insurance" else {}
        entries = [self.entry(i, records) for i, records in mine]
        return {**head, name_key: self.title, as_of_key: as_of.isoformat(), list_key: entries}


def _as_of(record: Record, as_of: date) -> Record:
    """A bank balance is reported as of the query's date."""
    if isinstance(record, BankAccount):
        return dataclasses.replace(record, balance_date=as_of)
    return record


def _visible(record: Record, as_of: date) -> bool:
    """Whether the record already existed on ``as_of``."""
    for field in ("since", "registered_on", "date_of_death"):
        when = getattr(record, field, None)
        if isinstance(when, date):
            return when <= as_of
    return True


DEPARTMENTS: dict[str, Department] = {
    d.name: d
    for d in (
        Department(
            "household_registration",
            "/hukou/v1/persons:query",
            "公安机关户籍管理",
            RegistrationRecord,
            ("department", "as_of", "results"),
            _answers.hukou,
        ),
        Department(
            "social_insurance",
            "/si/v2/insured:batchQuery",
            "人力资源和社会保障局",
            InsuranceRecord,
            ("dept", "queryDate", "persons"),
            _answers.si,
        ),
        Department(
            "vehicle",
            "/vehicle/api/v1/owners/vehicles:search",
            "公安机关交通管理部门",
            VehicleRecord,
            ("department", "asOf", "owners"),
            _answers.vehicle,
        ),
        Department(
            "property",
            "/realestate/v1/rights:query",
            "不动产登记中心",
            PropertyRecord,
            ("registry", "asOfDate", "holders"),
            _answers.property_,
        ),
        Department(
            "funeral",
            "/funeral/v1/deaths:check",
            "民政部门殡葬管理",
            DeathRecord,
            ("source", "as_of", "records"),
            _answers.funeral,
        ),
        Department(
            "housing_fund",
            "/gjj/v1/accounts:query",
            "住房公积金管理中心",
            HousingFundAccount,
            ("zxmc", "cxrq", "list"),
            _answers.fund,
        ),
        Department(
            "bank",
            "/bank/v1/deposits:inquire",
            "金融信息查询网络",
            BankAccount,
            ("network", "asOf", "customers"),
            _answers.bank,
            needs_authorization=True,
        ),
        # not a built-in source: serves the example plug-in (examples/hedui-disability-adapter)
        Department(
            "disability",
            "/cdpf/v1/certificates:query",
            "中国残疾人联合会",
            DisabilityRecord,
            ("org", "cxrq", "data"),
            _disability.entry,
        ),
    )
}
