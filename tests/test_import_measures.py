"""The plan reader's measures: areas from their headings in every numbering and layout, measures numbered within
their area, and a measure it cannot place named in a warning (never given a guessed area, never dropped).

The seed documents are checked against the hand-made fixtures' measures (fixtures/seed/<branch>.json).
"""

from __future__ import annotations

import json
import re
import unicodedata
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plans.imports.draft import Draft
from plans.imports.matcher import KpiMatcher
from plans.imports.reader import WARN_MEASURE_NO_AREA, area_of_heading, read_plan
from plans.seed import SEED_DIR

SEEDS = Path(django_settings.BASE_DIR).parent / "shared" / "seeds"
DOCUMENTS = [
    pytest.param("gifu", 2024, id="gifu-2024"),
    pytest.param("kagoshima", 2025, id="kagoshima-2025"),
    pytest.param("tochigi", 2023, id="tochigi-2023"),
    pytest.param("tokyo", 2024, id="tokyo-2024"),
]
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NO_KPIS = KpiMatcher.from_pairs([])


def read(text: str) -> Draft:
    return read_plan(text, NO_KPIS, branch="test", fiscal_year=2024)


def number_key(number: str) -> str:
    """「１．」「1.」「１」 are one number; 「（１）」「(1)」 too."""
    return unicodedata.normalize("NFKC", number).strip().rstrip(".").replace(" ", "")


def title_key(title: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", title))


def unplaced_headings(draft: Draft) -> list[str]:
    """The headings the reader warned it could not place in an area."""
    pattern = re.compile(re.escape(WARN_MEASURE_NO_AREA).replace(re.escape("{heading}"), "(?P<heading>.+?)"))
    return [match["heading"] for message in draft.warnings if (match := pattern.fullmatch(message))]


HEADING_NUMBER = re.compile(
    r"^(?:[(（][0-9０-９]+[)）]|[①-⑳]|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]+[.．)）]?|(?:I{1,3}|IV|V|VI{0,3})\)|[0-9０-９]{1,2}[.．]?)\s*"
)


def named_in(title: str, headings: list[str]) -> bool:
    """A fixture's title is named by a warned heading when one is the start of the other (numbers aside)."""
    wanted = title_key(title)
    for heading in headings:
        written = title_key(HEADING_NUMBER.sub("", heading))
        if written and (wanted.startswith(written) or written.startswith(wanted)):
            return True
    return False


def fixture_measures(branch: str, year: int) -> tuple[str, list[dict[str, Any]]]:
    data = json.loads((SEED_DIR / f"{branch}.json").read_text(encoding="utf-8"))
    plan = next(plan for plan in data["plans"] if plan["fiscal_year"] == year)
    # The fixtures' nested rows (a measure's ① items) repeat their parent's title: the measures are the top ones.
    return data["source"], [measure for measure in plan["measures"] if measure["parent"] is None]


# --------------------------------------------------------------------------------------------------
# The seed documents
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("branch", "year"), DOCUMENTS)
def test_each_fixture_measure_is_drafted_in_its_area_or_named_in_a_warning(branch: str, year: int) -> None:
    source, expected = fixture_measures(branch, year)
    if not (SEEDS / source).is_file():
        pytest.skip(f"seed document {source} is not in {SEEDS}")

    draft = read_plan((SEEDS / source).read_text(encoding="utf-8"), NO_KPIS, branch=branch, fiscal_year=year)

    drafted = {(m.area, number_key(m.number), title_key(m.title)) for m in draft.measures}
    areas_by_title: dict[str, set[int]] = {}
    for measure in draft.measures:
        areas_by_title.setdefault(title_key(measure.title), set()).add(measure.area)
    unplaced = unplaced_headings(draft)
    matched, warned, lost, misplaced = [], [], [], []
    for measure in expected:
        key = (measure["area"], number_key(measure["number"]), title_key(measure["title"]))
        if key in drafted:
            matched.append(measure["title"])
        elif areas_by_title.get(key[2], set()) - {measure["area"]}:
            misplaced.append(f"{measure['title']}: area {measure['area']}, drafted {areas_by_title[key[2]]}")
        elif named_in(measure["title"], unplaced):
            warned.append(measure["title"])
        else:
            lost.append(measure["title"])
    fixture_keys = {(m["area"], number_key(m["number"]), title_key(m["title"])) for m in expected}
    for measure in draft.measures:
        if (measure.area, number_key(measure.number), title_key(measure.title)) not in fixture_keys:
            warnings.warn(f"{branch} {year}: drafted a measure the fixture has not: {measure}", stacklevel=1)
    summary = f"{branch} {year}: measures {len(matched)}/{len(expected)} matched, {len(warned)} warned"
    warnings.warn(summary, stacklevel=1)

    assert misplaced == []
    assert lost == []
    assert all(measure.area in (1, 2, 3) for measure in draft.measures)


@pytest.mark.parametrize(
    ("branch", "year", "matched"),
    [("kagoshima", 2025, 9), ("tochigi", 2023, 18), ("tokyo", 2024, 28)],
)
def test_a_document_with_area_headings_gets_all_its_measures_placed(branch: str, year: int, matched: int) -> None:
    source, expected = fixture_measures(branch, year)
    if not (SEEDS / source).is_file():
        pytest.skip(f"seed document {source} is not in {SEEDS}")

    draft = read_plan((SEEDS / source).read_text(encoding="utf-8"), NO_KPIS, branch=branch, fiscal_year=year)

    drafted = {(m.area, number_key(m.number), title_key(m.title)) for m in draft.measures}
    keys = [(m["area"], number_key(m["number"]), title_key(m["title"])) for m in expected]
    assert len(keys) == matched
    assert [key for key in keys if key not in drafted] == []
    assert unplaced_headings(draft) == []


def test_tochigis_first_measure_is_in_area_1_after_the_summary_tables_area_3() -> None:
    """The summary table ends in area 3; the measure-by-measure part opens with a vertical 「Ⅰ基盤的…」 cell."""
    path = SEEDS / "004_92917589d574a77c.txt"
    if not path.is_file():
        pytest.skip("seed document absent")

    draft = read_plan(path.read_text(encoding="utf-8"), NO_KPIS, branch="tochigi", fiscal_year=2023)

    areas = {measure.title: measure.area for measure in draft.measures}
    assert areas["健全な財政運営"] == 1


# --------------------------------------------------------------------------------------------------
# Area headings in their variants
# --------------------------------------------------------------------------------------------------

AREA_WORDS = {
    1: ["基盤的保険者機能関係", "基盤的保険者機能の盤石化", "基盤的保険者機能"],
    2: ["戦略的保険者機能関係", "戦略的保険者機能の一層の発揮", "戦略的保険者機能"],
    3: ["組織・運営体制関係", "組織体制関係", "保険者機能の強化を支える組織・運営体制等の整備", "組織運営体制"],
}
#: An area heading's numbering, for area n.
AREA_NUMBERS = [
    lambda n: "",
    lambda n: f"{'０１２３'[n]}．",
    lambda n: f"{n}.",
    lambda n: f"{n}. ",
    lambda n: " ⅠⅡⅢ"[n],
    lambda n: f"{' ⅠⅡⅢ'[n]}．",
    lambda n: f"{'I' * n}.",
    lambda n: f"{'I' * n})",
    lambda n: f"（{'０１２３'[n]}）",
    lambda n: f"({n})",
    lambda n: f"第{n} ",
    lambda n: f"分野{n} ",
    lambda n: f"【分野{'０１２３'[n]}】",
    lambda n: " ①②③"[n],
]


@PROPERTY_SETTINGS
@given(
    area=st.sampled_from([1, 2, 3]),
    data=st.data(),
    numbering=st.sampled_from(AREA_NUMBERS),
    space=st.sampled_from(["", " ", "\u3000"]),
    indent=st.sampled_from(["", " ", "## "]),
)
def test_an_area_heading_is_read_whatever_its_numbering(
    area: int, data: st.DataObject, numbering: Callable[[int], str], space: str, indent: str
) -> None:
    words = data.draw(st.sampled_from(AREA_WORDS[area]))

    assert area_of_heading(f"{indent}{numbering(area)}{space}{words}") == area


@PROPERTY_SETTINGS
@given(area=st.sampled_from([1, 2, 3]), other=st.sampled_from([1, 2, 3]), data=st.data())
def test_a_heading_numbered_as_another_area_is_not_that_areas_heading(
    area: int, other: int, data: st.DataObject
) -> None:
    """「（２）組織運営体制の見直し」 is a measure of area 3, not the heading of area 2 or 3."""
    numbering = data.draw(st.sampled_from(AREA_NUMBERS[1:]))
    words = data.draw(st.sampled_from(AREA_WORDS[area]))

    heading = area_of_heading(f"{numbering(other)}{words}")

    assert heading == (area if other == area else None)


@pytest.mark.parametrize(
    "text",
    [
        "業務改革の推進は、基盤的保険者機能の全ての施策を推進するにあたっての基礎である。",
        "・戦略的保険者機能を発揮するため、データ分析を行う。",
        "組織運営体制の確立と効率的な業務体制への変革を進め、加入者目線に立脚した事業を展開する。",
        "令和６年度 ＫＰＩ設定項目一覧表 （基盤的保険者機能の盤石化）",
        "健全な財政運営",
    ],
)
def test_prose_naming_an_area_is_not_an_area_heading(text: str) -> None:
    assert area_of_heading(text) is None


@pytest.mark.parametrize(("text", "area"), [("分野1", 1), ("【分野２】", 2), ("分野 3", 3)])
def test_an_area_named_only_by_its_number_is_read(text: str, area: int) -> None:
    assert area_of_heading(text) == area


# --------------------------------------------------------------------------------------------------
# Measures under their areas
# --------------------------------------------------------------------------------------------------

TITLES = ["業務の効率化", "加入者サービスの向上", "広報の推進", "人材の育成", "健診受診の促進", "費用の削減等"]
SCHEMES = {
    "paren": lambda n: f"（{'０１２３４５６７８９'[n]}）",
    "digit": lambda n: f"{'０１２３４５６７８９'[n]}．",
    "ascii": lambda n: f"{n}. ",
    "roman": lambda n: f"{' ⅠⅡⅢⅣⅤⅥ'[n]}．",
    "roman_paren": lambda n: f"{['', 'I', 'II', 'III', 'IV', 'V', 'VI'][n]}) ",
}


@PROPERTY_SETTINGS
@given(
    areas=st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=3, unique=True).map(sorted),
    scheme=st.sampled_from(sorted(SCHEMES)),
    area_number=st.sampled_from(AREA_NUMBERS),
    count=st.integers(min_value=1, max_value=4),
    body=st.booleans(),
)
def test_numbered_measures_land_in_the_area_they_follow(
    areas: list[int], scheme: str, area_number: Callable[[int], str], count: int, body: bool
) -> None:
    lines, expected = ["令和６年度 事業計画"], []
    for area in areas:
        lines.append(f"{area_number(area)}{AREA_WORDS[area][0]}")
        for n in range(1, count + 1):
            number = SCHEMES[scheme](n)
            title = f"{TITLES[n - 1]}（分野{area}）"
            lines.append(f"{number}{title}")
            if body:
                lines += ["・取組を着実に実施する。", "① 説明会を開催する。"]
            expected.append((area, number.strip(), title))

    draft = read("\n".join(lines))

    assert [(m.area, m.number, m.title) for m in draft.measures] == expected
    assert unplaced_headings(draft) == []


def test_a_measure_before_any_area_heading_is_warned_and_not_placed() -> None:
    draft = read("事業計画\n（１）広報の推進\n（２）人材の育成\n")

    assert draft.measures == []
    assert unplaced_headings(draft) == ["（１）広報の推進", "（２）人材の育成"]


def test_a_group_heading_is_not_a_measure_and_restarts_the_numbering() -> None:
    draft = read("１. 企画総務グループ\n① 広報の推進\n② 人材の育成\n２. 保健グループ\n① 健診受診の促進\n")

    assert unplaced_headings(draft) == ["①広報の推進", "②人材の育成", "①健診受診の促進"]


def test_an_area_heading_repeated_as_a_page_header_does_not_restart_the_numbering() -> None:
    header = "１．基盤的保険者機能の盤石化"
    text = f"{header}\n（１）業務の効率化\n① 手順を見直す。\n{header}\n２\n（２）広報の推進\n"

    draft = read(text)

    assert [(m.area, m.number, m.title) for m in draft.measures] == [
        (1, "（１）", "業務の効率化"),
        (1, "（２）", "広報の推進"),
    ]


def test_an_area_heading_written_down_a_table_cell_is_read() -> None:
    vertical = "\n\n".join("Ⅱ戦略的保険者機能関係")
    text = f"３．組織・運営体制関係\n（１）費用の削減等\n分\n\n野\n具体的施策等 実施状況\n{vertical}\n１．広報の推進\n"

    draft = read(text)

    assert [(m.area, m.title) for m in draft.measures] == [(3, "費用の削減等"), (2, "広報の推進")]


def test_a_title_broken_inside_a_bracket_is_joined() -> None:
    draft = read("２．戦略的保険者機能\n（１）広報活動や「顔の見える地域ネット\nワーク」を通じた理解促進\n")

    assert [m.title for m in draft.measures] == ["広報活動や「顔の見える地域ネットワーク」を通じた理解促進"]


def test_headings_in_html_paragraphs_and_list_items_are_read_apart() -> None:
    text = (
        "<p>3. 保険者機能の強化を支える組織・運営体制等の整備</p>\t<p>I) 人事・組織</p> "
        "<ul><li>・研修を行う。</li> </ul> <p>II) 内部統制等</p>"
    )

    draft = read(text)

    assert [(m.area, m.number, m.title) for m in draft.measures] == [(3, "I)", "人事・組織"), (3, "II)", "内部統制等")]
