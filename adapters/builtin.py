"""The seven built-in adapters: one department API each, over HTTP and JSON.

Each adapter is its department's path, the keys of its answer envelope and a mapping from one
per-subject entry to typed records; :class:`adapters._http.HttpJsonAdapter` does the rest. The
answer shapes are documented in :mod:`adapters.simulator.departments`; code tables:

* 户籍 relation ``yhzgx`` (GB/T 4761): 01/02 self, 10–12 spouse, 20–39 child, 50–52 parent,
  any other code "other"; gender ``xbdm`` (GB/T 2261.1) 1 M, 2 F; status ``hkzt`` 0 active,
  1 deceased, 2 moved out.
* 社保 ``insuranceType`` 110 employee pension, 170 urban-rural resident pension, 210 unemployment,
  310 medical; ``payKind`` JF contribution (the wage base), DY benefit; status 1/2/3 active,
  suspended, ended; ``monthlyAmount`` is yuan as a JSON number, read as Decimal.
* 车辆 ``vehicleClass`` (GA 24.4) K… car, H… truck, M1… tricycle, M2… motorcycle; ``state``
  A registered, B transferred, E scrapped.
* 房产 ``purpose`` 住宅/商业/其他; ``areaSqm`` is a decimal string, kept exactly as dm².
* 公积金 ``zhzt`` 01 active, 02 sealed, 03 closed; amounts are yuan strings.
* 银行 ``productType`` 活期/定期/理财; ``balance`` is a yuan string; only CNY accounts are valid.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters._http import HttpJsonAdapter, JsonReader
from adapters.base import MalformedAnswer, SourceCategory
from adapters.records import (
    BankAccount,
    DeathRecord,
    HousingFundAccount,
    InsuranceRecord,
    PropertyRecord,
    Record,
    RegistrationRecord,
    VehicleRecord,
)

__all__ = [
    "BankAdapter",
    "FuneralAdapter",
    "HousingFundAdapter",
    "HukouAdapter",
    "PropertyAdapter",
    "SocialInsuranceAdapter",
    "VehicleAdapter",
]

_RELATIONS = {
    "01": "self",
    "02": "self",
    "10": "spouse",
    "11": "spouse",
    "12": "spouse",
    **{str(code): "child" for code in range(20, 40)},
    "50": "parent",
    "51": "parent",
    "52": "parent",
}

_SCHEMES = {
    "110": "employee_pension",
    "170": "resident_pension",
    "210": "unemployment",
    "310": "medical",
}

_USAGE = {"住宅": "residential", "商业": "commercial", "其他": "other"}

_PRODUCTS = {"活期": "demand", "定期": "time", "理财": "wealth_management"}


class HukouAdapter(HttpJsonAdapter):
    """公安户籍: who is registered, where, in which household, alive or not."""

    category = SourceCategory.HOUSEHOLD_REGISTRATION
    department = "公安户籍"
    path = "/hukou/v1/persons:query"
    envelope = ("department", "as_of", "results")

    def map_entry(self, entry: JsonReader) -> Iterable[Record]:
        if not entry.flag("found"):
            return ()
        p = entry.obj("person")
        relation = p.text("yhzgx")
        return (
            RegistrationRecord(
                record_id=p.text("rkbh"),
                subject_id=entry.text("id_number"),
                name=p.text("xm"),
                gender=p.code("xbdm", {"1": "M", "2": "F"}),
                birth_date=p.day("csrq"),
                household_number=p.text("hh"),
                relation_to_head=_RELATIONS.get(relation, "other"),
                region_code=p.text("ssxq"),
                status=p.code("hkzt", {"0": "active", "1": "deceased", "2": "moved_out"}),
            ),
        )


class SocialInsuranceAdapter(HttpJsonAdapter):
    """人社社保: wage contribution bases, pensions and unemployment benefit."""

    category = SourceCategory.SOCIAL_INSURANCE
    department = "人社社会保险"
    path = "/si/v2/insured:batchQuery"
    envelope = ("dept", "queryDate", "persons")

    def map_entry(self, entry: JsonReader) -> Iterable[Record]:
        subject = entry.text("idCard")
        return [
            InsuranceRecord(
                record_id=i.text("itemNo"),
                subject_id=subject,
                scheme=i.code("insuranceType", _SCHEMES),
                role=i.code("payKind", {"JF": "contribution", "DY": "benefit"}),
                monthly_amount_fen=i.hundredths("monthlyAmount"),
                employer=i.text("unitName"),
                since=i.day("startDate"),
                status=i.code("status", {"1": "active", "2": "suspended", "3": "ended"}),
            )
            for i in entry.objects("items")
        ]


def _vehicle_type(v: JsonReader) -> str:
    """GA 24.4 vehicle class code → our vehicle type."""
    code = v.text("vehicleClass")
    for prefix, kind in (("K", "car"), ("H", "truck"), ("M1", "tricycle"), ("M2", "motorcycle")):
        if code.startswith(prefix):
            return kind
    raise MalformedAnswer(f"{v.path}.vehicleClass: unknown vehicle class {code!r}")


class VehicleAdapter(HttpJsonAdapter):
    """公安交管: motor vehicles registered to the person."""

    category = SourceCategory.VEHICLE
    department = "公安交管车辆"
    path = "/vehicle/api/v1/owners/vehicles:search"
    envelope = ("department", "asOf", "owners")

    def map_entry(self, entry: JsonReader) -> Iterable[Record]:
        subject = entry.text("idNumber")
        return [
            VehicleRecord(
                record_id=v.text("vin"),
                subject_id=subject,
                plate=v.text("plateNo"),
                vehicle_type=_vehicle_type(v),
                brand=v.text("brandModel"),
                registered_on=v.day("firstRegDate"),
                purchase_price_fen=v.integer("invoicePriceFen"),
                status=v.code("state", {"A": "registered", "B": "transferred", "E": "scrapped"}),
            )
            for v in entry.objects("vehicles")
        ]


class PropertyAdapter(HttpJsonAdapter):
    """不动产登记: dwellings and other real estate, with the person's share."""

    category = SourceCategory.PROPERTY
    department = "不动产登记"
    path = "/realestate/v1/rights:query"
    envelope = ("registry", "asOfDate", "holders")

    def map_entry(self, entry: JsonReader) -> Iterable[Record]:
        subject = entry.text("holderIdNo")
        return [
            PropertyRecord(
                record_id=f"{r.text('unitNo')}/{r.integer('holderSeq')}",
                subject_id=subject,
                certificate_number=r.text("certNo"),
                address=r.text("location"),
                usage=r.code("purpose", _USAGE),
                floor_area_dm2=r.hundredths("areaSqm"),
                share_percent=r.integer("sharePct"),
                registered_on=r.day("registerDate"),
            )
            for r in entry.objects("rights")
        ]


class FuneralAdapter(HttpJsonAdapter):
    """民政殡葬: death and cremation records."""

    category = SourceCategory.FUNERAL
    department = "民政殡葬"
    path = "/funeral/v1/deaths:check"
    envelope = ("source", "as_of", "records")

    def map_entry(self, entry: JsonReader) -> Iterable[Record]:
        if not entry.flag("deceased"):
            return ()
        d = entry.obj("death")
        return (
            DeathRecord(
                record_id=d.text("cert_no"),
                subject_id=entry.text("id_number"),
                date_of_death=d.day("death_date"),
                place=d.text("place"),
                cremated=d.code("cremation", {"Y": True, "N": False}),
            ),
        )


class HousingFundAdapter(HttpJsonAdapter):
    """住房公积金: provident fund accounts, their wage base, deposits and balance."""

    category = SourceCategory.HOUSING_FUND
    department = "住房公积金中心"
    path = "/gjj/v1/accounts:query"
    envelope = ("zxmc", "cxrq", "list")

    def map_entry(self, entry: JsonReader) -> Iterable[Record]:
        subject = entry.text("zjhm")
        return [
            HousingFundAccount(
                record_id=a.text("grzh"),
                subject_id=subject,
                employer=a.text("dwmc"),
                deposit_base_fen=a.hundredths("jcjs"),
                monthly_deposit_fen=a.hundredths("yjce"),
                balance_fen=a.hundredths("zhye"),
                status=a.code("zhzt", {"01": "active", "02": "sealed", "03": "closed"}),
            )
            for a in entry.objects("zhxx")
        ]


def _cny(a: JsonReader) -> int:
    """The balance in fen; an account in another currency is not an answer we can use."""
    if a.text("currency") != "CNY":
        raise MalformedAnswer(f"{a.path}.currency: expected 'CNY', found {a.text('currency')!r}")
    return a.hundredths("balance")


class BankAdapter(HttpJsonAdapter):
    """银行 (through the central bank's financial network): deposit accounts; needs 授权书."""

    category = SourceCategory.BANK
    department = "金融机构存款"
    path = "/bank/v1/deposits:inquire"
    envelope = ("network", "asOf", "customers")

    def map_entry(self, entry: JsonReader) -> Iterable[Record]:
        subject = entry.text("idNo")
        return [
            BankAccount(
                record_id=a.text("accountNo"),
                subject_id=subject,
                bank=a.text("bankName"),
                account_type=a.code("productType", _PRODUCTS),
                balance_fen=_cny(a),
                balance_date=a.day("balanceDate"),
            )
            for a in entry.objects("accounts")
        ]
