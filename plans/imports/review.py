"""A draft under review in the browser: the reader's draft, the admin's corrections, and the check before saving.

The review keeps only what the admin can change (each line's catalog KPI, target phrase, whether it is dropped,
and the measures); a line's rule is always read again from its phrase, so what is shown and what is saved are
read by the same ``plans.phrases.read_phrase``. ``Review.to_draft`` gives the ``Draft`` that ``save.save_draft`` writes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from plans.imports.draft import Draft, DraftMeasure, DraftTarget
from plans.imports.matcher import name_key
from plans.phrases import PhraseReading, read_phrase

# Messages shown above the review when the draft cannot be saved yet (module constants: tests assert them).
ERROR_UNMATCHED = "{row}行目「{name}」: カタログのKPIを選ぶか、この行を除外してください。"
ERROR_UNKNOWN_KPI = "{row}行目「{name}」: KPIコード「{code}」はカタログにありません。"
ERROR_DUPLICATE_KPI = "{row}行目「{name}」: KPI「{kpi}」は{first}行目でも選ばれています。どちらかを除外してください。"
ERROR_TARGET = "{row}行目「{name}」: {error}"  # error: ``PhraseReading.error``, naming the phrase
ERROR_MEASURE_TITLE = "施策{row}: 施策名を入力してください（不要な施策は除外してください）。"
ERROR_MEASURE_TOO_LONG = "施策{row}: {field}は{limit}文字以内にしてください。"
ERROR_NOTHING_TO_SAVE = "保存するKPIがありません。少なくとも1行は残してください。"
MEASURE_NUMBER_LIMIT = 20
MEASURE_TITLE_LIMIT = 300


@dataclass
class ReviewLine:
    kpi: str | None
    name: str
    target_text: str
    previous_target_text: str | None = None
    warnings: list[str] = field(default_factory=list)
    dropped: bool = False


@dataclass
class ReviewMeasure:
    area: int
    number: str
    title: str
    dropped: bool = False


@dataclass
class Review:
    branch: str
    fiscal_year: int
    source: str
    text: str
    lines: list[ReviewLine] = field(default_factory=list)
    measures: list[ReviewMeasure] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the reader's warnings that name no line

    @classmethod
    def from_draft(cls, draft: Draft, text: str) -> Review:
        """Each of the reader's warnings goes with the line whose KPI it names; the rest stay general."""
        lines = [
            ReviewLine(
                kpi=target.kpi,
                name=target.name,
                target_text=target.target_text,
                previous_target_text=target.previous_target_text,
            )
            for target in draft.targets
        ]
        general = []
        for warning in draft.warnings:
            owners = [line for line in lines if f"「{line.name}」" in warning]
            for line in owners:
                line.warnings.append(warning)
            if not owners:
                general.append(warning)
        return cls(
            branch=draft.branch,
            fiscal_year=draft.fiscal_year,
            source=draft.source,
            text=text,
            lines=lines,
            measures=[ReviewMeasure(area=m.area, number=m.number, title=m.title) for m in draft.measures],
            deleted=list(draft.deleted),
            warnings=general,
        )

    # -- the session form ------------------------------------------------------------------------

    def as_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Review:
        return cls(
            **{key: value for key, value in data.items() if key not in ("lines", "measures")},
            lines=[ReviewLine(**line) for line in data["lines"]],
            measures=[ReviewMeasure(**measure) for measure in data["measures"]],
        )

    # -- reading and checking ----------------------------------------------------------------------

    def reading(self, line: ReviewLine) -> PhraseReading:
        return read_phrase(line.target_text, self.fiscal_year)

    def errors(self, catalog: set[str]) -> list[str]:
        """Why the review cannot be saved as it stands (empty when it can). ``catalog``: the KPI codes that exist."""
        errors: list[str] = []
        first_row: dict[str, int] = {}
        for row, line in enumerate(self.lines, start=1):
            if line.dropped:
                continue
            if line.kpi is None:
                errors.append(ERROR_UNMATCHED.format(row=row, name=line.name))
            elif line.kpi not in catalog:
                errors.append(ERROR_UNKNOWN_KPI.format(row=row, name=line.name, code=line.kpi))
            elif line.kpi in first_row:
                errors.append(
                    ERROR_DUPLICATE_KPI.format(row=row, name=line.name, kpi=line.kpi, first=first_row[line.kpi])
                )
            else:
                first_row[line.kpi] = row
            reading = self.reading(line)
            if reading.error is not None:
                errors.append(ERROR_TARGET.format(row=row, name=line.name, error=reading.error))
        if not any(not line.dropped for line in self.lines):
            errors.append(ERROR_NOTHING_TO_SAVE)
        for row, measure in enumerate(self.measures, start=1):
            if measure.dropped:
                continue
            if not measure.title.strip():
                errors.append(ERROR_MEASURE_TITLE.format(row=row))
            if len(measure.title) > MEASURE_TITLE_LIMIT:
                errors.append(ERROR_MEASURE_TOO_LONG.format(row=row, field="施策名", limit=MEASURE_TITLE_LIMIT))
            if len(measure.number) > MEASURE_NUMBER_LIMIT:
                errors.append(ERROR_MEASURE_TOO_LONG.format(row=row, field="番号", limit=MEASURE_NUMBER_LIMIT))
        return errors

    def to_draft(self) -> Draft:
        """The reviewed draft: lines and measures not dropped, each rule read again from its phrase."""
        targets = []
        for line in self.lines:
            if line.dropped:
                continue
            reading = self.reading(line)
            targets.append(
                DraftTarget(
                    kpi=line.kpi,
                    name=line.name,
                    target_text=line.target_text,
                    rule=reading.kind,
                    target=reading.value,
                    baseline=reading.baseline,
                    previous_target_text=line.previous_target_text,
                )
            )
        return Draft(
            branch=self.branch,
            fiscal_year=self.fiscal_year,
            source=self.source,
            targets=targets,
            deleted=list(self.deleted),
            measures=[
                DraftMeasure(area=m.area, number=m.number.strip(), title=m.title.strip())
                for m in self.measures
                if not m.dropped
            ],
        )

    # -- the source text beside the draft ------------------------------------------------------------

    def source_lines(self) -> list[str]:
        return self.text.splitlines()

    def source_line_of(self, line: ReviewLine, folded_lines: list[str]) -> int | None:
        """The 1-based source line where a line's KPI name as written starts (also when broken over two lines),
        preferring a place where its target phrase follows within a few lines."""
        key = name_key(line.name)
        if not key:
            return None
        starts = [index for index, folded in enumerate(folded_lines) if key in folded]
        following = _next_non_blank(folded_lines)
        starts += [
            index
            for index, after in enumerate(following)
            if after is not None
            and folded_lines[index]
            and key in folded_lines[index] + folded_lines[after]
            and key not in folded_lines[after]
            and index not in starts
        ]
        if not starts:
            return None
        target = name_key(line.target_text)
        for index in starts:
            if target and target in "".join(folded_lines[index : index + _TARGET_LOOKAHEAD]):
                return index + 1
        return min(starts) + 1


#: How many source lines after a KPI's name its target may be printed on.
_TARGET_LOOKAHEAD = 4


def _next_non_blank(folded_lines: list[str]) -> list[int | None]:
    """For each line, the index of the next line that is not blank (a PDF's text has blank lines between)."""
    following: list[int | None] = [None] * len(folded_lines)
    after: int | None = None
    for index in range(len(folded_lines) - 1, -1, -1):
        following[index] = after
        if folded_lines[index]:
            after = index
    return following


def fold_lines(lines: list[str]) -> list[str]:
    """Source lines folded like KPI names, for ``Review.source_line_of``."""
    return [name_key(line) for line in lines]
