"""Read a plan document's text into a draft: the KPI sentences and table rows of one fiscal year.

The reader never guesses. KPI sentences (「■ KPI：健康宣言事業所数を1,310事業所（※）以上とする」) are read
first; a KPI found only in a table row is read from the row when the row holds exactly one target and the
table's header names no other year's target column. Anything else — two targets in a row, a 同左 cell, a
name the catalog does not know, a phrase ``parse_target`` refuses — becomes a warning, and the target is
left empty for the admin. Last year's figure never becomes this year's target.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from plans import fiscal
from plans.imports.draft import Draft, DraftMeasure, DraftTarget
from plans.imports.matcher import KpiMatcher, name_key
from plans.rules import UNITS, KpiDeleted, TargetParseError, normalize_text, parse_target, strip_list_markers

# Warnings (Japanese, shown to the admin); module constants so tests assert the exact text.
WARN_UNKNOWN_KPI = (
    "KPI「{name}」はカタログのどのKPIとも一致しません（目標「{target}」）。"
    "カタログに追加するか、名称を確認してください。"
)
WARN_UNREADABLE = "KPI「{name}」の目標「{target}」を読み取れません: {reason}"
WARN_COLUMNS = "KPI「{name}」の行に複数の年度の目標（{cells}）があり、今年度の列を区別できません。目標は空のままです。"
WARN_SAME_AS_LEFT = "KPI「{name}」の目標が「同左」で、どの列と同じか判断できません。目標は空のままです。"
WARN_CONFLICT = "KPI「{name}」に異なる目標が書かれています（「{first}」と「{second}」）。目標は空のままです。"
WARN_NO_TARGETS = "KPIの目標が1つも見つかりませんでした。"
WARN_MEASURE_NO_AREA = (
    "施策「{heading}」がどの分野（1 基盤的保険者機能・2 戦略的保険者機能・3 組織・運営体制）に属するか"
    "資料から読み取れません。分野を確認して追加してください。"
)
WARN_EMPTY_COLUMN = "KPI「{name}」の行の今年度の列が空です。目標は空のままです。"
WARN_LONE_FIGURE = (
    "KPI「{name}」の行には数値が1つしかなく、目標か実績か判断できません（目標欄が空の可能性があります）。"
    "目標は空のままです。"
)
WARN_OTHER_YEAR = (
    "資料の表題は{stated}の計画ですが、{year}年度として読み込もうとしています。"
    "別の年度の目標を今年度の目標にしないよう、目標はすべて空のままです。"
)

_KPI_MARK = re.compile(r"(?:【\s*[KＫ][PＰ][IＩ]\s*】|[■□◆●]?\s*[KＫ][PＰ][IＩ]\s*[:：])")
_SENTENCE_END = re.compile(r"(?:とする|とします|を目指す|を実施する)")
#: "１－２）" numbers an item too.
_SUB_ITEM = re.compile(r"^[0-9０-９]+(?:[－\-‐][0-9０-９]+)+[)）]")
_MAX_SENTENCE = 140
_MAX_LINES_AFTER_MARK = 16
_ITEM_BULLET = re.compile(r"^[\s\-－‐]+")

_UNIT = "|".join(re.escape(unit) for unit in UNITS)
#: Target-like cells in a folded table row.
_CELL = re.compile(
    rf"(?:年度末時点で)?対?前年度末?(?:実績)?(?:\([^()]*\))?(?:以上|以下)"
    rf"|(?:令和|R)(?:[0-9]+|元)年度末?実績(?:以上|以下)"
    rf"|[0-9]+(?:\.[0-9]+)?(?:{_UNIT})?(?:\(※[0-9]*\))?(?:以上|以下|以内)"
    r"|毎月|設定なし|関係機関への働きかけ|同左|※?KPIは削除"
)
#: A table header naming a target column's year: 「令和6年度 KPI目標」「令和５年度\n目標」「令和7年度 KPI」.
_TARGET_COLUMN = re.compile(r"令和([0-9]+|元)年度(?:KPI目標|KPI|目標)")
_HEADER_LOOKBACK = 40
#: A header cell naming a year's column that holds no target: 「令和5年度 実績」「令和5年度 全国平均」.
_NOT_A_TARGET_COLUMN = re.compile(r"実績|実施状況|全国平均|平均|見込|評価|備考")
#: The document's title: 「令和５年度 栃木支部事業計画…」「令和６年度東京支部基本方針」.
_TITLE_YEAR = re.compile(r"令和([0-9]+|元)年度(?=.*(?:事業計画|基本方針))")
_TITLE_LINES = 10
#: How far below a header naming target columns' years a row still belongs to that table.
_TABLE_SPAN = 400
_ROW_LINES = 4
_BARE_FIGURE = re.compile(rf"[0-9]+(?:\.[0-9]+)?(?:{_UNIT})?")
_LONE_FIGURE = "\x00lone figure"

_MEASURE = re.compile(
    r"^(?P<number>[(（][0-9０-９]{1,2}[)）]|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]+[.．)）]?|(?:I{1,3}|IV|V|VI{0,3})\)|[①-⑳]"
    r"|[0-9０-９]{1,2}(?:[.．](?![0-9０-９])|(?=[\s\u3000])))"
    r"\s*(?P<title>[^\s。、：:（(][^。]{1,38}?)\s*(?:[（(][^（()）]*[GＧ][)）])?$"
)


@dataclass
class _Found:
    target: DraftTarget
    from_sentence: bool


def _reiwa_year(text: str) -> int:
    return 2018 + (1 if text == "元" else int(text))


def _strip(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _without_brackets(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\([^()]*\)|（[^（）]*）", "", text)
    return text


def _starts_an_item(line: str) -> bool:
    stripped = line.strip()
    if not stripped or stripped[0] in "・･•-－":
        return False  # a bullet is prose, a numbered item may be a KPI
    return strip_list_markers(stripped) != stripped or bool(_SUB_ITEM.match(stripped))


def _kpi_sentences(lines: list[str]) -> list[str]:
    """Every 「…を…とする」 sentence after a KPI mark, whitespace removed.

    The first sentence follows the mark; further ones count only as items of a list ("1) …", "２）…").
    """
    sentences: list[str] = []
    for index, line in enumerate(lines):
        mark = _KPI_MARK.search(line)
        if mark is None:
            continue
        after = [line[mark.end() :]] + lines[index + 1 : index + 1 + _MAX_LINES_AFTER_MARK]
        rest = "\n".join(_ITEM_BULLET.sub("", part) for part in after)
        first = True
        while match := _SENTENCE_END.search(rest):
            parts = [part for part in rest[: match.end()].split("\n") if part.strip()]
            rest = rest[match.end() :]
            tail = rest.split("\n", 1)[0]
            if _CELL.search(normalize_text(tail)):
                # Another target on the same line (a second year's column): keep it, parse_target refuses both.
                parts.append(tail)
                rest = rest[len(tail) :]
            if not first:
                items = [n for n, part in enumerate(parts) if _starts_an_item(part)]
                if not items:
                    break
                parts = parts[items[-1] :]
            folded = _strip("".join(parts))
            if not first and folded.endswith("を実施する"):
                break  # only the KPI right after the mark may be a 「…を実施する」 one
            first = False
            if inner := list(re.finditer(r"[①-⑳]", folded[1:])):
                folded = folded[inner[-1].start() + 1 :]  # "…：86.64％②返納金債権…を対前年度以上とする"
            if len(folded) > _MAX_SENTENCE or "。" in _without_brackets(folded) or _KPI_MARK.search(folded):
                break
            sentences.append(strip_list_markers(_SUB_ITEM.sub("", folded)))
    return sentences


def _split_sentence(sentence: str) -> tuple[str, str]:
    """「名称を目標とする」 → (名称, 目標とする); a name may itself hold 「を」, the target does not."""
    if sentence.endswith("を実施する"):
        return sentence.removesuffix("を実施する"), "実施する"
    match = re.match(r"(?P<name>.*)(?:を|について、?|は)(?P<target>[^を]*(?:を目指す)?)$", sentence)
    if match is None:
        return "", sentence
    return match["name"], match["target"]


def _fold_row(text: str) -> str:
    """NFKC, thousands commas gone, spaces kept only between two figures (two cells never merge)."""
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"(?<=[0-9.])\s+(?=[0-9.])", "\u241f", folded)  # a visible cell break between figures
    return normalize_text(folded)


def _stated_years(lines: list[str]) -> set[int]:
    """The fiscal years a document's title names (its first non-blank lines)."""
    title = [normalize_text(line) for line in lines if line.strip()][:_TITLE_LINES]
    return {_reiwa_year(year) for line in title for year in _TITLE_YEAR.findall(line)}


def _unmatched(name: str, target_text: str, fiscal_year: int) -> DraftTarget:
    """A KPI the catalog does not know: listed with no code (never saved), its target read if it can be."""
    try:
        rule = parse_target(target_text, fiscal_year=fiscal_year)
    except TargetParseError:
        return DraftTarget(kpi=None, name=name, target_text=target_text, rule=None)
    return DraftTarget(
        kpi=None, name=name, target_text=target_text, rule=rule.kind.value, target=rule.value, baseline=rule.baseline
    )


class PlanReader:
    def __init__(self, matcher: KpiMatcher, *, branch: str, fiscal_year: int, source: str = "") -> None:
        self.matcher = matcher
        self.draft = Draft(branch=branch, fiscal_year=fiscal_year, source=source)
        self.found: dict[str, _Found] = {}
        self.conflicted: set[str] = set()
        self.unknown: dict[str, DraftTarget] = {}  # unmatched KPIs by folded name, listed with kpi None

    # -- targets ----------------------------------------------------------------------------------

    def read(self, text: str) -> Draft:
        lines = text.splitlines()
        self._read_measures(lines)
        for sentence in _kpi_sentences(lines):
            self._read_sentence(sentence)
        self._read_table_rows(lines)
        stated = _stated_years(lines)
        if stated and self.draft.fiscal_year not in stated:
            self.draft.warnings.insert(
                0,
                WARN_OTHER_YEAR.format(
                    stated="・".join(fiscal.reiwa_label(year) for year in sorted(stated)), year=self.draft.fiscal_year
                ),
            )
            for found in self.found.values():
                found.target = DraftTarget(kpi=found.target.kpi, name=found.target.name, target_text="", rule=None)
        self.draft.targets = [found.target for found in self.found.values()] + list(self.unknown.values())
        if not self.draft.targets and not self.draft.deleted:
            self.draft.warnings.append(WARN_NO_TARGETS)
        return self.draft

    def _read_sentence(self, sentence: str) -> None:
        name, target_text = _split_sentence(sentence)
        code = self.matcher.match(name) if name else None
        if code is None:
            if name_key(name) not in self.unknown:
                self.unknown[name_key(name)] = _unmatched(name or sentence, target_text, self.draft.fiscal_year)
                self.draft.warnings.append(WARN_UNKNOWN_KPI.format(name=name or sentence, target=target_text))
            return
        self._add(code, name, target_text, from_sentence=True)

    def _add(
        self, code: str, name: str, target_text: str, *, from_sentence: bool, previous_target_text: str | None = None
    ) -> None:
        try:
            rule = parse_target(target_text, fiscal_year=self.draft.fiscal_year)
        except KpiDeleted:
            if code not in self.draft.deleted:
                self.draft.deleted.append(code)
            return
        except TargetParseError as error:
            self.draft.warnings.append(WARN_UNREADABLE.format(name=name, target=target_text, reason=error.reason))
            target = DraftTarget(kpi=code, name=name, target_text="", rule=None)
        else:
            target = DraftTarget(
                kpi=code,
                name=name,
                target_text=target_text,
                rule=rule.kind.value,
                target=rule.value,
                baseline=rule.baseline,
                previous_target_text=previous_target_text,
            )
        if code in self.conflicted:
            return  # two different targets were seen: it stays empty whatever else is found
        previous = self.found.get(code)
        if previous is None:
            self.found[code] = _Found(target, from_sentence)
            return
        old = previous.target
        if old.rule is None and target.rule is not None:
            self.found[code] = _Found(target, from_sentence)
        elif target.rule is not None and (old.rule, old.target, old.baseline) != (
            target.rule,
            target.target,
            target.baseline,
        ):
            self.draft.warnings.append(
                WARN_CONFLICT.format(name=name, first=old.target_text, second=target.target_text)
            )
            self.found[code] = _Found(DraftTarget(kpi=code, name=name, target_text="", rule=None), from_sentence)
            self.conflicted.add(code)

    def _read_table_rows(self, lines: list[str]) -> None:
        header_years: dict[int, int] = {}  # year → last line index of a header naming its target column
        first_column_is_this_year = False
        for index, line in enumerate(lines):
            header = normalize_text("".join(lines[index : index + 4]))
            if _TARGET_COLUMN.search(header):
                for year in _TARGET_COLUMN.findall(header):
                    header_years[_reiwa_year(year)] = index
                # A one-line header whose first column is this year's target: 「令和６年度 KPI目標 令和６年度 実績 …」.
                single = _TARGET_COLUMN.match(normalize_text(line))
                first_column_is_this_year = bool(
                    single and "実績" in normalize_text(line) and _reiwa_year(single.group(1)) == self.draft.fiscal_year
                )
            found = self._row_match(lines, index)
            if found is None:
                continue
            code, name, window, first_cell = found
            if "\t" in line and self._read_tab_row(lines, index, code, name):
                continue
            cells = [cell.group(0) for cell in _CELL.finditer(window)]
            years = {year for year, at in header_years.items() if index - at <= _TABLE_SPAN}
            other_years = years - {self.draft.fiscal_year}
            by_header = first_column_is_this_year and not other_years and first_cell
            if by_header and self._first_cell(code, name, first_cell):
                continue
            if not cells:
                continue
            if "同左" in cells:
                self._leave_empty(code, name, WARN_SAME_AS_LEFT.format(name=name))
            elif len(cells) > 1 or other_years:
                self._leave_empty(code, name, WARN_COLUMNS.format(name=name, cells="・".join(cells)))
            elif first_column_is_this_year or not years:
                self._add(code, name, cells[0], from_sentence=False)

    def _first_cell(self, code: str, name: str, cell: str) -> bool:
        """The cell right after the name, under a header whose first column is this year's target."""
        if cell == _LONE_FIGURE:
            self._leave_empty(code, name, WARN_LONE_FIGURE.format(name=name))
            return True
        try:
            parse_target(cell, fiscal_year=self.draft.fiscal_year)
        except TargetParseError:
            return False
        self._add(code, name, cell, from_sentence=False)
        return True

    def _row_match(self, lines: list[str], index: int) -> tuple[str, str, str, str] | None:
        """(code, name as written, the rest of the row folded) when a table row starts a catalog KPI here."""
        line = lines[index]
        folded_line = _fold_row(line)
        matches = self.matcher.find(folded_line)
        if not matches and index + 1 < len(lines) and not self.matcher.find(_fold_row(lines[index + 1])):
            joined = line.rstrip() + lines[index + 1].lstrip()  # a name broken over two lines
            folded_line = _fold_row(joined)
            matches = [m for m in self.matcher.find(folded_line) if m[0] < len(_fold_row(line)) < m[1]]
            line, index = joined, index + 1
        if len(matches) != 1:
            return None
        start, end, code = matches[0]
        if code in self.found or code in self.draft.deleted:
            return None
        window = folded_line[end:]
        for following in lines[index + 1 : index + 1 + _ROW_LINES]:
            folded = _fold_row(following)
            if self.matcher.find(folded) or _TARGET_COLUMN.search(folded):
                break
            window += "\u241f" + folded
        name = self._name_as_written(line)
        rest = strip_list_markers(line.strip())
        cut = re.search(r"\s(?=[0-9０-９対前毎設同※関])", rest)
        cells = rest[cut.end() :].split() if cut else []
        first_cell = cells[0] if cells else ""
        if first_cell and len(cells) == 1 and _BARE_FIGURE.fullmatch(normalize_text(first_cell)):
            first_cell = _LONE_FIGURE  # the only figure on the row may be this year's actual under an empty target
        return code, name, window, first_cell

    def _read_tab_row(self, lines: list[str], index: int, code: str, name: str) -> bool:
        """A tab-separated table: the cell under this year's header column is the target, never another."""
        columns: dict[int, int] = {}
        kpi_column: int | None = None
        for back in range(index - 1, max(-1, index - _HEADER_LOOKBACK), -1):
            cells = lines[back].split("\t")
            years = {
                position: (_reiwa_year(match.group(1)), normalize_text(cell))
                for position, cell in enumerate(cells)
                if (match := re.match(r"令和([0-9]+|元)年度", normalize_text(cell)))
            }
            if years:
                # A year's actual, average or evaluation column is never a target column.
                columns = {at: year for at, (year, text) in years.items() if not _NOT_A_TARGET_COLUMN.search(text)}
                kpi_column = next((n for n, cell in enumerate(cells) if normalize_text(cell) == "KPI"), None)
                break
        this_year = [position for position, year in columns.items() if year == self.draft.fiscal_year]
        if len(this_year) > 1:  # 「令和5年度 | 令和5年度」 over a target and an actual, named on the next line
            self._leave_empty(code, name, WARN_COLUMNS.format(name=name, cells="・".join(lines[index].split())))
            return True
        year_column = {year: position for position, year in columns.items()}
        if self.draft.fiscal_year not in year_column:
            return False
        cells = lines[index].split("\t")
        name_at = next((n for n, cell in enumerate(cells) if self.matcher.find(_fold_row(cell))), len(cells))
        # Merged cells drop columns on the left of a row: count from the KPI name's column when the header has one.
        shift = name_at - kpi_column if kpi_column is not None else 0
        at = year_column[self.draft.fiscal_year] + shift
        if at <= name_at or at >= len(cells):
            return False
        name = _strip(strip_list_markers(cells[name_at].strip()).split("※")[0]) or name
        text = cells[at].strip()
        previous_at = year_column.get(self.draft.fiscal_year - 1)
        previous_at = previous_at + shift if previous_at is not None else None
        previous = cells[previous_at].strip() if previous_at is not None and previous_at < len(cells) else None
        if normalize_text(text) == "同左":
            self._leave_empty(code, name, WARN_SAME_AS_LEFT.format(name=name))
        elif text:
            self._add(code, name, text, from_sentence=False, previous_target_text=previous or None)
        else:
            self._leave_empty(code, name, WARN_EMPTY_COLUMN.format(name=name))
        return True

    def _leave_empty(self, code: str, name: str, warning: str) -> None:
        self.draft.warnings.append(warning)
        self.found[code] = _Found(DraftTarget(kpi=code, name=name, target_text="", rule=None), False)

    def _name_as_written(self, line: str) -> str:
        """The row's text up to the first target-like cell: the KPI as the branch wrote it."""
        folded = strip_list_markers(line.strip())
        cut = re.search(r"\s[0-9０-９対前毎設同※関]", folded)
        return _strip(folded[: cut.start()] if cut else folded)

    # -- measures ---------------------------------------------------------------------------------

    def _read_measures(self, lines: list[str]) -> None:
        """Numbered headings inside the three areas, each numbering style counting 1, 2, 3 … in turn.

        An area starts at its heading (「１．基盤的保険者機能関係」「Ⅲ．組織体制関係」「分野２」, or the same written
        one character a line down a table cell); a page header repeating the current area changes nothing.
        Circled numbers (①) are a measure's own items unless they are the area's first numbering style; a KPI
        table (「KPI設定項目一覧表」) ends the plan part until the next area heading. A heading found before any
        area heading cannot be placed: it is listed in a warning, never given a guessed area.
        """
        area = 0
        expected: dict[str, int] = {}
        styles: list[str] = []
        seen: set[tuple[int, str]] = set()
        unplaced: list[str] = []
        any_area = False
        segments = _heading_segments(lines)
        for index, segment in enumerate(segments):
            stripped = segment.strip().lstrip("#").strip()
            folded = unicodedata.normalize("NFKC", stripped)
            heading = area_of_heading(stripped)
            if heading is not None:
                if heading != area:  # the same area again is a page header: the numbering goes on
                    area, expected, styles = heading, {}, []
                any_area = True
                continue
            if _KPI_TABLE.search(folded.replace(" ", "")):
                area = 0
            if not area and any_area:
                continue
            match = _MEASURE.match(stripped)
            if match is None or _KPI_MARK.search(stripped):
                continue
            title = match["title"].strip()
            following = next((s.strip() for s in segments[index + 1 : index + 3] if s.strip()), "")
            short_tail = 2 <= len(following) <= _TITLE_TAIL and bool(_TITLE_WORDS.fullmatch(following))
            if short_tail and not _MEASURE.match(following):
                title += following  # a title broken over two lines: 「…意識改革の」「徹底」
            elif _unclosed(title) and (tail := _closing_tail(following)):
                title += tail  # 「…「顔の見える地域ネット」「ワーク」を通じた…」: the bracket closes on the next line
            if _NOT_A_TITLE.search(title) or not _is_title(title):
                continue
            if _GROUP_HEADING.search(title):
                expected, styles = {}, []  # a group's part of the plan (「１. 企画総務グループ」) numbers anew
                continue
            style, value = _numbering(match["number"])
            if style == "circled" and styles and styles[0] != "circled":
                continue
            if not area and value == 1 and styles and styles[0] == style:
                expected, styles = {}, []  # outside the areas a list restarting at its first number is a new list
            if value != expected.get(style, 1):
                continue
            if style in styles:
                del styles[styles.index(style) + 1 :]  # a higher heading restarts the ones under it
                for nested in list(expected):
                    if nested not in styles:
                        del expected[nested]
            else:
                styles.append(style)
            expected[style] = value + 1
            if not area:
                heading_text = f"{match['number']}{title}"
                if heading_text not in unplaced:
                    unplaced.append(heading_text)
            elif (area, title) not in seen:
                seen.add((area, title))
                self.draft.measures.append(DraftMeasure(area=area, number=match["number"], title=title))
        for heading_text in unplaced:
            self.draft.warnings.append(WARN_MEASURE_NO_AREA.format(heading=heading_text))


_TITLE_TAIL = 8
#: A group's heading, not a measure: 「企画総務グループ」「保健G」「業務グループの事業」.
_GROUP_HEADING = re.compile(r"(?:グループ|[GＧ])(?:の事業)?$")
_TITLE_WORDS = re.compile(r"[\w・ー（）()「」]+")
_KPI_TABLE = re.compile(r"KPI設定項目|KPI\(案\)|KPI目標の進捗")
_NOT_A_TITLE = re.compile(r"[0-9０-９]+\s*[%％件人円]|とする|した$|する$|[。、]")
_HTML_TAG = re.compile(r"<[^>]+>")
#: Table cells and HTML paragraphs hold a heading each: "<p>1. 基盤的…</p>\t<p>I) 健全な財政運営</p>".
_SEGMENT = re.compile(r"\t|<br\s*/?>|</?(?:p|li|ul|ol|div|table|tr|td|th|h[1-6])\b[^>]*>", re.IGNORECASE)
_GROUPS = frozenset({"業務", "レセプト", "保健", "企画総務", "企画", "総務"})
#: An area heading's number: 「１．」「Ⅲ．」「(2)」「第3」「分野１」「【分野1】」「①」「I)」; the words decide the area.
_AREA_NUMBER = (
    r"(?:[【\[]?(?:第|分野)?\s*(?P<number>[0-9]{1,2}|I{1,3}|IV|V)\s*(?:分野)?[\].、:)】]?"
    r"|\((?P<paren>[0-9]{1,2})\))?"
)
_AREA_WORDS = (
    (1, r"基盤的保険者機能"),
    (2, r"戦略的保険者機能"),
    (3, r"(?:保険者機能の強化を支える)?組織[・･]?(?:運営)?体制"),
)
_AREA_HEADINGS = tuple((area, re.compile(rf"^{_AREA_NUMBER}\s*{words}[^。、]{{0,30}}$")) for area, words in _AREA_WORDS)
#: 「分野１」「【分野2】」 alone name the area by its number.
_AREA_BY_NUMBER = re.compile(r"^[【\[]?分野\s*([1-3])[\]】]?$")
#: A line of one or two characters: a letter of a heading written down a table cell.
_VERTICAL_CELL = re.compile(r"^\S{1,2}$")
_VERTICAL_MIN = 4


def area_of_heading(text: str) -> int | None:
    """The area (1, 2, 3) an area heading names, None when the text is not an area heading."""
    folded = unicodedata.normalize("NFKC", text).strip().lstrip("#").strip()
    folded = re.sub(r"\s+", " ", folded)
    if len(folded) > _AREA_HEADING_MAX:
        return None
    if by_number := _AREA_BY_NUMBER.match(folded):
        return int(by_number.group(1))
    for area, pattern in _AREA_HEADINGS:
        if match := pattern.match(folded):
            number = match["number"] or match["paren"]
            if number and (int(number) if number.isdigit() else _ROMAN_VALUES.get(number)) != area:
                return None  # 「（２）組織運営体制の見直し」 is a measure, not area 3's heading
            return area
    return None


_AREA_HEADING_MAX = 45


def _heading_segments(lines: list[str]) -> list[str]:
    """The document's lines as heading candidates: HTML tags gone, table cells and paragraphs apart, and a
    heading written one character a line (a vertical table cell: 「Ⅲ．」「組」「織」…) joined into one."""
    segments = [_HTML_TAG.sub("", segment) for line in lines for segment in _SEGMENT.split(line)]
    joined: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= _VERTICAL_MIN:
            joined.append("".join(run))
        else:
            joined.extend(run)
        run.clear()

    for segment in segments:
        stripped = segment.strip()
        if not stripped:
            if not run:
                joined.append(segment)
            continue  # blank lines between a vertical heading's letters
        if _VERTICAL_CELL.match(stripped):
            run.append(stripped)
            continue
        flush()
        joined.append(segment)
    flush()
    return joined


_BRACKETS = {"「": "」", "（": "）", "(": ")", "『": "』"}


def _unclosed(title: str) -> bool:
    """A title that opens a bracket it does not close (its line ended inside the bracket)."""
    return any(title.count(opening) > title.count(closing) for opening, closing in _BRACKETS.items())


def _closing_tail(following: str) -> str:
    """The next line as a title's end: it closes a bracket and reads as a title's words, else ""."""
    if not following or _MEASURE.match(following) or len(following) > _TITLE_TAIL_MAX:
        return ""
    if not any(closing in following for closing in _BRACKETS.values()):
        return ""
    return following if _TITLE_WORDS.fullmatch(following) and not _NOT_A_TITLE.search(following) else ""


_TITLE_TAIL_MAX = 30


def _is_title(title: str) -> bool:
    """A measure's title, not a group's name, a date or a fragment."""
    folded = unicodedata.normalize("NFKC", title).replace(" ", "")
    return len(folded) >= 4 and folded not in _GROUPS and not re.match(r"^[月日年]", folded)


_ROMAN_VALUES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}


def _numbering(number: str) -> tuple[str, int]:
    """A heading number's style and value: ("paren", 2) for （２）, ("circled", 3) for ③, ("roman", 2) for Ⅱ．."""
    folded = unicodedata.normalize("NFKC", number)
    if "\u2460" <= number[0] <= "\u2473":
        return "circled", ord(number[0]) - 0x2460 + 1
    if digits := re.fullmatch(r"\(([0-9]+)\)", folded):
        return "paren", int(digits.group(1))
    if digits := re.fullmatch(r"([0-9]+)[.]?", folded):
        return "digit", int(digits.group(1))
    roman = re.sub(r"[^IVX]", "", folded)
    return "roman", _ROMAN_VALUES.get(roman, 0)


def read_plan(text: str, matcher: KpiMatcher, *, branch: str, fiscal_year: int, source: str = "") -> Draft:
    """The draft of one fiscal year's plan read from a document's text."""
    return PlanReader(matcher, branch=branch, fiscal_year=fiscal_year, source=source).read(text)
