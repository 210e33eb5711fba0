"""What the departments know about one synthetic person, as typed :mod:`adapters.records`.

Storing the truth as the same records the adapters decode gives the tests an exact oracle: an
adapter's ``decode`` of a department answer must equal the records kept here. Amounts are fen;
ranges follow the low-income households the seeds describe (wage bases of 2,000–6,000 yuan,
resident basic pensions of 140–400 yuan, small demand deposits, old motorcycles and tricycles).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from faker import Faker

from adapters.records import (
    BankAccount,
    HousingFundAccount,
    InsuranceRecord,
    PropertyRecord,
    Record,
    VehicleRecord,
)
from adapters.simulator._regions import address_for, plate_prefix

__all__ = ["BANKS", "PersonFacts", "bank_account", "car", "dwelling", "facts_for", "job"]

BANKS = (
    "中国工商银行",
    "中国农业银行",
    "中国银行",
    "中国建设银行",
    "中国邮政储蓄银行",
    "农村商业银行",
)
_SMALL_VEHICLES = (
    ("motorcycle", "豪爵 HJ125"),
    ("tricycle", "宗申 ZS150ZH"),
    ("motorcycle", "五羊本田"),
)
_CARS = ("五菱宏光 S", "比亚迪 秦PLUS", "大众 朗逸", "丰田 卡罗拉", "吉利 帝豪", "长安 CS35")
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


class PersonFacts:
    """Builds the records of one person; ``rng`` and ``fake`` are the household's seeded sources."""

    def __init__(self, rng: random.Random, fake: Faker, region: str, reference: date) -> None:
        self.rng, self.fake, self.region, self.reference = rng, fake, region, reference

    def days_ago(self, low: int, high: int) -> date:
        """A date between ``low`` and ``high`` days before the reference date."""
        return self.reference - timedelta(days=self.rng.randrange(low, high))

    def record_id(self, prefix: str, digits: int = 12) -> str:
        """A department record id: ``prefix`` and the region followed by random digits."""
        return f"{prefix}{self.region}{self.rng.randrange(10**digits):0{digits}d}"


def job(facts: PersonFacts, subject: str, base_fen: int | None = None) -> InsuranceRecord:
    """An employee-pension contribution on a wage base paid by an employer."""
    base = base_fen if base_fen is not None else facts.rng.randrange(200_000, 600_000, 1_000)
    return InsuranceRecord(
        record_id=facts.record_id("SI"),
        subject_id=subject,
        scheme="employee_pension",
        role="contribution",
        monthly_amount_fen=base,
        employer=str(facts.fake.company()),
        since=facts.days_ago(60, 3_000),
        status="active",
    )


def _benefit(facts: PersonFacts, subject: str, scheme: str, low: int, high: int) -> InsuranceRecord:
    """A benefit (pension or unemployment) paid to the person every month."""
    return InsuranceRecord(
        record_id=facts.record_id("SI"),
        subject_id=subject,
        scheme=scheme,
        role="benefit",
        monthly_amount_fen=facts.rng.randrange(low, high, 50),
        employer="",
        since=facts.days_ago(30, 2_500),
        status="active",
    )


def car(facts: PersonFacts, subject: str, small: bool) -> VehicleRecord:
    """A motorcycle or tricycle (``small``) or a passenger car."""
    rng = facts.rng
    kind, brand = rng.choice(_SMALL_VEHICLES) if small else ("car", rng.choice(_CARS))
    price = (
        rng.randrange(300_000, 900_000, 100) if small else rng.randrange(6_000_000, 20_000_000, 100)
    )
    plate = (
        plate_prefix(facts.region) + rng.choice("ABCDEF") + "".join(rng.choices(_PLATE_CHARS, k=5))
    )
    return VehicleRecord(
        record_id="L" + "".join(rng.choices(_VIN_CHARS, k=16)),
        subject_id=subject,
        plate=plate,
        vehicle_type=kind,
        brand=brand,
        registered_on=facts.days_ago(30, 3_600),
        purchase_price_fen=price,
        status="registered",
    )


def dwelling(facts: PersonFacts, subject: str, share: int) -> PropertyRecord:
    """A residential dwelling; record id = the 28-character 不动产单元号 + holder number ``/1``."""
    rng = facts.rng
    parcel, building, room = rng.randrange(10**6), rng.randrange(10**5), rng.randrange(10**8)
    unit = f"{facts.region}{parcel:06d}GB{building:05d}F{room:08d}"
    registered = facts.days_ago(200, 7_000)
    return PropertyRecord(
        record_id=f"{unit}/1",
        subject_id=subject,
        certificate_number=f"{plate_prefix(facts.region)}({registered.year})不动产权第{rng.randrange(10**7):07d}号",
        address=address_for(rng, facts.region),
        usage="residential",
        floor_area_dm2=rng.randrange(3_500, 11_000),
        share_percent=share,
        registered_on=registered,
    )


def bank_account(facts: PersonFacts, subject: str, kind: str, balance_fen: int) -> BankAccount:
    """A deposit account; its ``balance_date`` is replaced by the query's as-of date on answer."""
    rng = facts.rng
    return BankAccount(
        record_id=f"62{rng.randrange(10**17):017d}",
        subject_id=subject,
        bank=rng.choice(BANKS),
        account_type=kind,
        balance_fen=balance_fen,
        balance_date=facts.reference,
    )


def _fund(facts: PersonFacts, subject: str, base_fen: int) -> HousingFundAccount:
    """A housing-fund account deposited on the wage base (employee + employer, 5–12 % each)."""
    rng = facts.rng
    monthly = base_fen * rng.randrange(5, 13) // 100 * 2
    return HousingFundAccount(
        record_id=facts.record_id("GJJ", 9),
        subject_id=subject,
        employer=str(facts.fake.company()),
        deposit_base_fen=base_fen,
        monthly_deposit_fen=monthly,
        balance_fen=monthly * rng.randrange(6, 72),
        status="active",
    )


def _income(facts: PersonFacts, subject: str, age: int, able: bool, p_job: float) -> list[Record]:
    """Wage contributions (and a housing fund) or benefits, by age and ability to work."""
    rng = facts.rng
    if age >= 60:
        if rng.random() < 0.15:
            return [_benefit(facts, subject, "employee_pension", 180_000, 420_000)]
        return (
            [_benefit(facts, subject, "resident_pension", 14_000, 40_000)]
            if rng.random() < 0.8
            else []
        )
    if age < 18 or not able:
        return []
    if rng.random() < p_job:
        work = job(facts, subject)
        fund = [_fund(facts, subject, work.monthly_amount_fen)] if rng.random() < 0.4 else []
        return [work, *fund]
    return (
        [_benefit(facts, subject, "unemployment", 120_000, 190_000)] if rng.random() < 0.1 else []
    )


def _assets(facts: PersonFacts, subject: str, age: int) -> list[Record]:
    """Small vehicles and bank deposits of an adult."""
    if age < 18:
        return []
    rng = facts.rng
    out: list[Record] = []
    if rng.random() < 0.06:
        out.append(car(facts, subject, small=True))
    if rng.random() < 0.75:
        out.append(bank_account(facts, subject, "demand", rng.randrange(0, 1_500_000)))
    if rng.random() < 0.08:
        out.append(bank_account(facts, subject, "time", rng.randrange(500_000, 3_000_000, 100)))
    return out


def facts_for(facts: PersonFacts, subject: str, age: int, able: bool, p_job: float) -> list[Record]:
    """Everything but registration and dwellings for one person."""
    return [*_income(facts, subject, age, able, p_job), *_assets(facts, subject, age)]
