"""Policy files: the shipped examples, checking with file/key/reason, digests, resolution, CLI."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from policy_builders import TEST_POLICY, make_policy, policy_data
from typer.testing import CliRunner

from gateway.cli import app
from gateway.policy import SHIPPED_DIR, PolicyError, PolicyLibrary, parse_policy


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    document, errors = parse_policy(data, "x.toml")
    assert (document is None) == bool(errors)
    assert all(e.file == "x.toml" for e in errors)
    return {e.key: e.reason for e in errors}


def test_shipped_examples_are_valid_and_labelled() -> None:
    """Shaanxi and Ningxia ship 低保, 特困 and 低保边缘 files; illustrative values say so."""
    library = PolicyLibrary.from_directory()
    assert {(d.region, d.programme) for d in library.documents} == {
        (region, programme)
        for region in ("610000", "640000")
        for programme in ("dibao", "tekun", "dibao_marginal")
    }
    for doc in library.documents:
        for values in doc.parameters.values():
            for v in values:
                assert v.reference
                assert not v.illustrative or "ILLUSTRATIVE" in v.reference


def test_regions_differ_where_the_seeds_differ() -> None:
    """Ningxia: 18-month 渐退 and 单人户 for low-income households (seed 004); Shaanxi: marginal."""
    library = PolicyLibrary.from_directory()
    day = date(2025, 6, 30)
    nx = library.resolve("640104", "dibao", day)
    sx = library.resolve("610102", "dibao", day)
    assert nx is not None
    assert sx is not None
    assert nx.resolve("gradual_exit_months", day).value == 18
    assert "LOW_INCOME" in nx.resolve("single_person_categories", day).value  # type: ignore[operator]
    assert sx.resolve("single_person_categories", day).value == ("DIBAO_MARGINAL",)


@pytest.mark.parametrize("region", ["610102", "640104"])
def test_every_programme_of_a_region_has_the_same_standard(region: str) -> None:
    """The 特困 and 低保边缘 files repeat the 低保 file's standard, range by range."""
    library = PolicyLibrary.from_directory()
    docs = [
        library.resolve(region, p, date(2025, 6, 30)) for p in ("dibao", "tekun", "dibao_marginal")
    ]
    ranges = [
        [(v.value, v.start, v.end) for v in d.parameters["standard_monthly_fen"]] for d in docs if d
    ]
    assert len(ranges) == 3
    assert ranges[0] == ranges[1] == ranges[2]


def test_digest_ignores_layout_but_not_values(tmp_path: Path) -> None:
    """Comments do not change the digest; one changed value does."""
    source = (SHIPPED_DIR / "shaanxi-610000-dibao.toml").read_text(encoding="utf-8")
    (tmp_path / "a.toml").write_text("# another comment\n" + source, encoding="utf-8")
    (tmp_path / "b.toml").write_text(source.replace("value = 75000", "value = 75100"), "utf-8")
    shipped = PolicyLibrary.from_directory().resolve("610102", "dibao", date(2025, 6, 30))
    library = PolicyLibrary.from_directory(tmp_path)
    a, b = sorted(library.documents, key=lambda d: d.file)
    assert shipped is not None
    assert a.digest == shipped.digest
    assert b.digest != shipped.digest
    assert library.by_digest(a.digest) is a


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("employment_cost_rate_bp", 3_500), "parameter.employment_cost_rate_bp[0].value"),
        (("employment_cost_disabled_rate_bp", 6_000), "parameter.employment_cost_disabled_rate_bp"),
        (("gradual_exit_months", 48), "parameter.gradual_exit_months[0].value"),
        (("deposit_months", "24"), "parameter.deposit_months[0].value"),
        (("serious_disability_grades", [5]), "parameter.serious_disability_grades[0].value"),
        (("bogus", 1), "parameter.bogus"),
    ],
)  # fmt: skip
def test_out_of_range_or_unknown_values_name_their_key(change: tuple[str, Any], key: str) -> None:
    """A deduction above 30 %, a grace above 36 months, a string amount: each names its key."""
    assert any(k.startswith(key) for k in errors_of(policy_data(**{change[0]: change[1]})))


def test_structural_errors_name_their_key() -> None:
    """Missing reference, overlapping ranges, missing parameter, unknown region/exclusion."""
    data = copy.deepcopy(TEST_POLICY)
    del data["parameter"]["max_dwellings"]
    data["parameter"]["deposit_months"][0]["reference"] = " "
    data["parameter"]["standard_monthly_fen"][1]["from"] = date(2024, 6, 1)
    data["policy"]["region"] = "999999"
    data["exclusion"][0]["kind"] = "lottery"
    found = errors_of(data)
    assert {
        "parameter.max_dwellings",
        "parameter.deposit_months[0].reference",
        "parameter.standard_monthly_fen",
        "policy.region",
        "exclusion[0].kind",
    } <= set(found)
    assert "overlap" in found["parameter.standard_monthly_fen"]


def test_value_not_in_force_is_an_error() -> None:
    """Before the first range starts there is no standard: PolicyError names the parameter."""
    with pytest.raises(PolicyError, match=r"standard_monthly_fen: no value in force"):
        make_policy().resolve("standard_monthly_fen", date(2019, 12, 31))


def test_resolution_by_region_prefix_programme_and_issue_date(tmp_path: Path) -> None:
    """A city file (610100) beats the province for Xi'an, not for Baoji; later issues win."""
    for name, region, issued in (
        ("p", "610000", 2020),
        ("c", "610100", 2020),
        ("n", "610100", 2030),
    ):
        data = policy_data()
        data["policy"] |= {"region": region, "version": name, "issued": date(issued, 1, 1)}
        lines = _toml(data)
        (tmp_path / f"{name}.toml").write_text(lines, encoding="utf-8")
    library = PolicyLibrary.from_directory(tmp_path)
    day = date(2025, 6, 30)
    assert library.resolve("610102", "dibao", day).version == "c"  # type: ignore[union-attr]
    assert library.resolve("610302", "dibao", day).version == "p"  # type: ignore[union-attr]
    assert library.resolve("610102", "dibao", date(2031, 1, 1)).version == "n"  # type: ignore[union-attr]
    assert library.resolve("640104", "dibao", day) is None
    assert library.resolve("610102", "tekun", day) is None
    with pytest.raises(PolicyError):
        library.by_digest("sha256:00")


def _toml(data: dict[str, Any]) -> str:
    """A tiny TOML writer for the test data (strings, ints, bools, dates, lists)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return v.isoformat() if isinstance(v, date) else str(v)

    out = ["[policy]", *(f"{k} = {value(v)}" for k, v in data["policy"].items())]
    for name, entries in data["parameter"].items():
        for e in entries:
            out += [f"[[parameter.{name}]]", *(f"{k} = {value(v)}" for k, v in e.items())]
    for e in data["exclusion"]:
        out += ["[[exclusion]]", *(f"{k} = {value(v)}" for k, v in e.items())]
    return "\n".join(out) + "\n"


def test_cli_check_reports_file_key_reason(tmp_path: Path) -> None:
    """``hedui policy check``: 0 and the digest for a good file, 1 and file: key: reason else."""
    good = SHIPPED_DIR / "ningxia-640000-dibao.toml"
    bad = tmp_path / "bad.toml"
    bad.write_text(_toml(policy_data(employment_cost_rate_bp=3_500)), encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(app, ["policy", "check", str(good)])
    assert ok.exit_code == 0
    assert "sha256:" in ok.output
    failed = runner.invoke(app, ["policy", "check", str(bad)])
    assert failed.exit_code == 1
    assert f"{bad}: parameter.employment_cost_rate_bp[0].value: 3500 is outside" in failed.output
