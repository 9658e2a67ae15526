"""`gridmap party …` on both stores: the tree, versions, links, findings, points, funds, files."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.party.points import DEFAULT_RULES, set_rules
from gridmap.stores import Store
from tests.party.conftest import NAMES, PHONES, load_chain

runner = CliRunner()


def _run(store: str, *args: str, ok: bool = True) -> str:
    result = runner.invoke(app, ["party", *args, "--store", store], catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def test_the_chain_from_the_command_line(store: Store, store_url: str, tmp_path: Path) -> None:
    load_chain(store)
    tree = _run(store_url, "tree", "--on", "2025-01-01")
    assert "PB1" in tree and "PG1组织" in tree and NAMES[1] not in tree and "李*" in tree
    assert NAMES[1] in _run(store_url, "tree", "--on", "2025-01-01", "--with-personal")
    _run(
        store_url,
        "org",
        "PG3",
        "--name",
        "第3网格党支部",
        "--kind",
        "grid_branch",
        "--area-kind",
        "grid",
        "--area",
        "G3",
        "--parent",
        "PC2",
        "--from",
        "2025-02-01",
    )
    refused = runner.invoke(
        app,
        [
            "party",
            "org",
            "PG4",
            "--name",
            "x",
            "--kind",
            "grid_branch",
            "--area-kind",
            "grid",
            "--area",
            "G3",
            "--parent",
            "PS1",
            "--store",
            store_url,
        ],
    )
    assert refused.exit_code == 1 and "parent_code" in str(refused.exception)
    assert "PG3" in _run(store_url, "history", "PG3")
    assert [str(d) for d in store.party_book().orgs(codes=["PG3"])["valid_from"]] == ["2025-02-01"]
    findings = _run(store_url, "findings", "--on", "2025-06-01")
    assert "buildings without a" in findings and "B4" in findings and "PC2" in findings
    _run(store_url, "link", "H1", "H2", "H3")
    assert store.party_book().links()["household_code"].tolist() == ["H2", "H3"]

    _run(store_url, "points", "rules")
    rules = tmp_path / "rules.csv"
    pd.DataFrame(
        {"code": ["study"], "name_zh": ["学习"], "name_en": ["study"], "points": [2], "annual_cap": [12]}
    ).to_csv(rules, index=False)
    _run(store_url, "points", "rules", "--source", str(rules))
    _run(
        store_url,
        "points",
        "add",
        "M1",
        "study",
        "--on",
        "2025-03-01",
        "--approver",
        "书记",
        "--evidence",
        "签到表",
        "--events",
        "15",
    )
    posted = tmp_path / "posted.csv"
    _run(store_url, "points", "rank", "2025", "--public", "--output", str(posted))
    text = posted.read_text(encoding="utf-8-sig")
    assert "72" in text and not any(s in text for s in (*NAMES, *PHONES))
    _run(store_url, "funds", "add", "PG1", "2025", "receipt", "6000")
    assert "4000" in _run(store_url, "funds", "year", "2025")

    exported = tmp_path / "members.xlsx"
    _run(store_url, "export", "members", str(exported))
    masked = pd.read_excel(exported, dtype=str)
    assert masked["name"].tolist() == ["王**", "李**", "吴*"] and "13912345678" not in masked.to_csv()
    whole = tmp_path / "members.csv"
    _run(store_url, "export", "members", str(whole), "--with-personal")
    frame = pd.read_csv(whole, dtype=str, encoding="utf-8-sig")
    frame.loc[len(frame)] = {**frame.iloc[0].to_dict(), "code": "M8", "org_code": "PG9", "phone": "12"}
    frame.loc[len(frame)] = {**frame.iloc[0].to_dict(), "code": "M9", "name": "周八", "household_code": "H4"}
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    refused = runner.invoke(app, ["party", "import", "members", str(bad), "--store", store_url])
    assert refused.exit_code == 1 and "row 5" in str(refused.exception), refused.exception
    assert "org_code" in str(refused.exception)
    assert len(store.party_book().members()) == 3  # nothing written
    frame = frame[frame["code"] != "M8"]
    good = tmp_path / "good.csv"
    frame.to_csv(good, index=False)
    assert "4 rows" in _run(store_url, "import", "members", str(good))
    assert store.party_book().members()["code"].tolist() == ["M1", "M2", "M3", "M9"]


def test_organisations_import_as_new_versions(store: Store, store_url: str, tmp_path: Path) -> None:
    load_chain(store)
    exported = tmp_path / "orgs.csv"
    _run(store_url, "export", "orgs", str(exported), "--with-personal")
    orgs = pd.read_csv(exported, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert NAMES[0] in orgs.to_csv()  # PG1's secretary, whole
    pg1 = orgs[orgs["code"] == "PG1"].assign(name="第1网格联合党支部", valid_from="2026-01-01")
    new = pg1.assign(
        code="PB2",
        name="2栋党小组",
        kind="building_group",
        parent_code="PG1",
        area_kind="building",
        area_code="B2",
        valid_from="2026-01-02",
    )
    wrong = new.assign(code="PB4", parent_code="PS1", area_code="B4")
    bad = tmp_path / "bad.csv"
    pd.concat([pg1, new, wrong]).to_csv(bad, index=False)
    refused = runner.invoke(app, ["party", "import", "orgs", str(bad), "--store", store_url])
    assert (
        refused.exit_code == 1
        and "row 4" in str(refused.exception)
        and "parent_code" in str(refused.exception)
    )
    assert len(store.party_book().orgs()) == 8  # nothing written
    good = tmp_path / "good.csv"
    pd.concat([pg1, new]).to_csv(good, index=False)
    assert "2 rows" in _run(store_url, "import", "orgs", str(good))
    versions = store.party_book().orgs(codes=["PG1"])
    assert versions["name"].tolist() == ["PG1组织", "第1网格联合党支部"]
    assert [str(d) for d in versions["valid_to"]] == ["2026-01-01", "None"]
    assert store.party_book().orgs(codes=["PB2"])["parent_code"].tolist() == ["PG1"]


def test_a_secretary_by_member_code_from_the_command_line_and_a_file(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    load_chain(store)
    area = ("--kind", "grid_branch", "--area-kind", "grid", "--area", "G1", "--parent", "PC1")
    _run(
        store_url,
        "org",
        "PG1",
        "--name",
        "第1网格党支部",
        *area,
        "--secretary-code",
        "M1",
        "--from",
        "2025-07-01",
    )
    history = _run(store_url, "history", "PG1", "--with-personal")
    assert "M1" in history and NAMES[0] in history
    assert NAMES[0] not in _run(store_url, "history", "PG1")
    orgs = tmp_path / "orgs.csv"
    _run(store_url, "export", "orgs", str(orgs), "--with-personal")
    frame = pd.read_csv(orgs, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    pg1 = frame[(frame["code"] == "PG1") & (frame["valid_to"] == "")]
    assert pg1["secretary_code"].tolist() == ["M1"]
    moved = pg1.assign(secretary_code="M3", secretary="", secretary_phone="", valid_from="2026-01-01")
    bad = tmp_path / "bad.csv"
    moved.to_csv(bad, index=False)
    refused = runner.invoke(app, ["party", "import", "orgs", str(bad), "--store", store_url])
    assert refused.exit_code == 1 and "row 2" in str(refused.exception)
    assert "secretary_code" in str(refused.exception)
    good = tmp_path / "good.csv"
    pg1.assign(secretary_code="M2", secretary="", secretary_phone="", valid_from="2026-01-01").to_csv(
        good, index=False
    )
    _run(store_url, "import", "orgs", str(good))
    newest = store.party_book().orgs(codes=["PG1"]).iloc[-1]
    assert (newest["secretary_code"], newest["secretary"], newest["secretary_phone"]) == (
        "M2",
        NAMES[1],
        PHONES[1],
    )


ENGLISH = re.compile(r"\b[a-z]{3,}\b")
"""A word of English: what no output line holds in Chinese (codes, paths and ¥ amounts aside)."""


def _english(output: str, *allowed: str) -> list[str]:
    for text in allowed:
        output = output.replace(text, "")
    return ENGLISH.findall(output)


def test_party_output_is_chinese_by_default(store: Store, store_url: str, tmp_path: Path) -> None:
    load_chain(store)
    set_rules(store, DEFAULT_RULES)
    env = {"GRIDMAP_LANG": None, "COLUMNS": "1000"}

    def said(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, ["party", *args, "--store", store_url], env=env)
        assert (result.exit_code == 0) is ok, result.output
        return result.output if ok else result.exception.text("zh")  # type: ignore[union-attr]

    area = ("--kind", "grid_branch", "--area-kind", "grid", "--area", "G3")
    outputs = {
        "tree": said("tree", "--on", "2025-01-01"),
        "org": said(
            "org", "PG3", "--name", "第3网格党支部", *area, "--parent", "PC2", "--from", "2025-02-01"
        ),
        "refused": said("org", "PG4", "--name", "x", *area, "--parent", "PS1", ok=False),
        "history": said("history", "PG1"),
        "findings": said("findings", "--on", "2025-06-01"),
        "link": said("link", "H1", "H2", "H3"),
        "propose": said("propose", "H1"),
        "points": said(
            "points", "add", "M1", "study", "--on", "2025-03-01", "--approver", "书记", "--evidence", "表"
        ),
        "rank": said("points", "rank", "2025"),
        "funds": said("funds", "add", "PG1", "2025", "receipt", "6000"),
        "year": said("funds", "year", "2025"),
        "close": said("close", "PG3", "--on", "2025-06-01"),
        "revert": said("revert", "PG3"),
    }
    assert "书记 李*" in outputs["tree"] and "网格（小区）党支部" in outputs["tree"]
    assert outputs["org"].strip() == "党组织 PG3 自 2025-02-01 起生效"
    assert "上级组织须为 community_committee，而不是 street_committee" in outputs["refused"]
    # Headers wrap at a narrow console; the section line, a street's row and no English word do not.
    findings = outputs["findings"]
    assert "楼栋未建党小组：2" in findings and "紫阳街道" in findings and "coverage" not in findings.lower()
    assert outputs["link"].strip() == "H1：已确认联系户 2 户"
    assert "已记录" in outputs["points"] and "到位 ¥6,000.00" in outputs["funds"]
    assert "网格党支部工作经费" in outputs["year"] and "缺口（元）" in outputs["year"]
    allowed = ("street_committee", "community_committee", "grid_branch", "gridmap", "│ test ")  # codes, data
    for name, output in outputs.items():
        assert _english(output, *allowed) == [], (name, output)
    rules = said("points", "rules")
    assert "积分规则" in rules and "每次分值" in rules and "学习" in rules
