"""Plotly figures as plain dicts (the plotly.js JSON schema), rendered by the locally served plotly.js.

Building the JSON directly keeps a page's chart cost to microseconds; the figures use Japanese labels and
units and a print-friendly white layout.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from plans.fiscal import FISCAL_MONTH_LABELS, fiscal_month_of, month_label, reiwa_label
from plans.formatting import format_figure
from plans.rules import Mark, RuleKind
from plans.selectors import RankGroup

if TYPE_CHECKING:
    from plans.models import Kpi
    from plans.results import KpiResult
    from plans.selectors import KpiHistory, RankedResult

#: Bar and marker colours by mark, matching the CSS (static/css/kpitrack.css).
MARK_COLOURS: dict[Mark | None, str] = {Mark.ABOVE: "#1b7f3b", Mark.AS_PLANNED: "#2f6db3", Mark.BELOW: "#c0392b"}
NOT_JUDGED_COLOUR = "#9aa0a6"
MONTH_AXIS = list(FISCAL_MONTH_LABELS)


def mark_colour(mark: Mark | None) -> str:
    return MARK_COLOURS.get(mark, NOT_JUDGED_COLOUR)


FONT = {"family": "Noto Sans CJK JP, Noto Sans JP, Hiragino Sans, Meiryo, sans-serif", "size": 13}


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def by_fiscal_month(series: dict[datetime.date, Decimal]) -> list[float | None]:
    """A month → value series as twelve values, April first, None where there is no figure."""
    values: list[float | None] = [None] * 12
    for month, value in series.items():
        values[fiscal_month_of(month) - 1] = float(value)
    return values


def _y_range(values: Iterable[float | None], unit: str, *, from_zero: bool = False) -> list[float] | None:
    """A y-axis range a reader expects, or None (plotly's own) without figures.

    Rates (unit %) start at 0 and stop at the data's top plus padding, never above 100 (a 0.127% 査定率 is
    not flattened against 100). Bars start at 0. Other lines (事業所, 円, 日) get the data's span with padding,
    not below 0, so 1,344 → 1,481 事業所 reads as growth rather than a flat line at the top of the chart.
    """
    numbers = [v for v in values if v is not None]
    if not numbers:
        return None
    low, high = min(numbers), max(numbers)
    if unit == "%" or from_zero:
        low = min(low, 0.0)
    span = max(high - low, abs(high) * 0.1) or 1.0  # at least a tenth of the figure: 121.8 vs 122.4円 is close
    padding = span * 0.12
    if unit != "%" and not from_zero:
        low = max(low - padding, 0.0) if low >= 0 else low - padding
    high += padding
    if unit == "%":
        high = min(high, 100.0)
    return [round(low, 6), round(high, 6)]


def _layout(title: str, unit: str, *, y_range: list[float] | None = None, **extra: Any) -> dict[str, Any]:
    yaxis: dict[str, Any] = {
        "title": {"text": unit or _("値")},
        "gridcolor": "#e3e6ea",
        "zerolinecolor": "#c4c9cf",
        "separatethousands": True,
        "rangemode": "tozero" if unit == "%" else "normal",
    }
    if y_range is not None:
        yaxis["range"] = y_range
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 15}},
        "font": FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 64, "r": 24, "t": 48, "b": 56},
        "legend": {"orientation": "h", "y": -0.18},
        "yaxis": yaxis,
        "xaxis": {"gridcolor": "#f0f2f4"},
        "hovermode": "x unified",
        "separators": ".,",
    }
    layout.update(extra)
    return layout


def _has_data(trace: dict[str, Any]) -> bool:
    return any(v is not None for v in trace.get("y", []))


def year_name(year: int, page_year: int) -> str:
    """How a chart names a fiscal year: 令和5年度 itself, and 前年度（令和5年度） for the page's previous year."""
    if year == page_year - 1:
        return _("前年度（{year}）").format(year=reiwa_label(year))
    return reiwa_label(year)


def monthly_progress(history: KpiHistory) -> dict[str, Any] | None:
    """This year's monthly (cumulative) figures against the target line, last year's same months and the
    projection (見込み, dashed to March); None for a qualitative KPI or without any monthly figure."""
    result = history.result
    kpi = result.kpi
    if not kpi.is_numeric or not (history.this_year or history.last_year):
        return None
    kpi_name, unit, precision = kpi.name, kpi.unit, result.target.precision
    fiscal_year, reference, rule = result.fiscal_year, result.reference, result.rule.kind
    year_end = result.year_end if isinstance(result.year_end, Decimal) else None

    hover = f"%{{y:,.{precision}f}}{unit}<extra>%{{fullData.name}}</extra>"
    last_year_name = _("{year}同月").format(year=year_name(fiscal_year - 1, fiscal_year))
    if not result.baseline_comparable:
        last_year_name = _("{name}（基準変更前）").format(name=last_year_name)
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": reiwa_label(fiscal_year),
            "x": MONTH_AXIS,
            "y": by_fiscal_month(history.this_year),
            "connectgaps": True,
            "line": {"color": "#2f6db3", "width": 3},
            "marker": {"size": 8},
            "cliponaxis": False,
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": last_year_name,
            "x": MONTH_AXIS,
            "y": by_fiscal_month(history.last_year),
            "connectgaps": True,
            "line": {"color": "#8a94a6", "width": 2, "dash": "dot"},
            "marker": {"size": 6},
            "cliponaxis": False,
            "hovertemplate": hover,
        },
    ]
    if reference is not None:
        label = _("前年度実績（基準値）") if rule in {RuleKind.YOY_MIN, RuleKind.YOY_MAX} else _("目標")
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{label} {format_figure(reference, unit, precision)}",
                "x": MONTH_AXIS,
                "y": [float(reference)] * 12,
                "line": {"color": "#d35400", "width": 2, "dash": "dash"},
                "hovertemplate": hover,
            }
        )
    projection = result.projection
    if projection is not None and year_end is None and isinstance(result.latest, Decimal) and result.latest_month:
        start = MONTH_AXIS[fiscal_month_of(result.latest_month) - 1]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers+text",
                "name": _("見込み {figure}（公式の評価ではありません）").format(
                    figure=format_figure(projection.value, unit, precision)
                ),
                "x": [start, MONTH_AXIS[-1]],
                "y": [float(result.latest), float(projection.value)],
                "line": {"color": "#2f6db3", "width": 2, "dash": "dash"},
                "marker": {"size": [0, 10], "symbol": "circle-open"},
                "text": ["", _("見込み")],
                "textposition": "top left",
                "cliponaxis": False,
                "hovertemplate": hover,
            }
        )
    if year_end is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": _("年度末実績 {figure}").format(figure=format_figure(year_end, unit, precision)),
                "x": [MONTH_AXIS[-1]],
                "y": [float(year_end)],
                "marker": {"size": 14, "symbol": "star", "color": "#1b7f3b"},
                "cliponaxis": False,
                "hovertemplate": hover,
            }
        )
    data = [trace for trace in data if _has_data(trace)]
    layout = _layout(
        _("{kpi}：月次の推移（{year}）").format(kpi=kpi_name, year=reiwa_label(fiscal_year)),
        unit,
        y_range=_y_range((v for trace in data for v in trace["y"]), unit),
        xaxis={"categoryorder": "array", "categoryarray": MONTH_AXIS},
    )
    return {"data": data, "layout": layout}


def multi_year_trend(history: KpiHistory) -> dict[str, Any] | None:
    """Year-end actuals by fiscal year with each year's target, the national average and definition breaks;
    None for a qualitative KPI or when no year has a year-end actual."""
    result = history.result
    kpi = result.kpi
    kpi_name, unit, precision = kpi.name, kpi.unit, result.target.precision
    years = [r.fiscal_year for r in history.years]
    actuals = [r.year_end if isinstance(r.year_end, Decimal) else None for r in history.years]
    marks = [r.mark for r in history.years]
    labels = [year_name(y, result.fiscal_year) for y in years]
    hover = f"%{{y:,.{precision}f}}{unit}<extra>%{{fullData.name}}</extra>"
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": _("年度末実績"),
            "x": labels,
            "y": [_float(v) for v in actuals],
            "marker": {"color": [mark_colour(m) for m in marks]},
            "text": [m or "" for m in marks],
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": _("目標（基準値）"),
            "x": labels,
            "y": [_float(r.reference) for r in history.years],
            "marker": {"symbol": "line-ew-open", "size": 28, "line": {"width": 3, "color": "#d35400"}},
            "cliponaxis": False,
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _("全国平均"),
            "x": labels,
            "y": [_float(r.national_average) for r in history.years],
            "line": {"color": "#6c757d", "dash": "dot"},
            "connectgaps": False,
            "cliponaxis": False,
            "hovertemplate": hover,
        },
    ]
    if not kpi.is_numeric or all(v is None for v in actuals):
        return None
    data = [trace for trace in data if _has_data(trace)]
    shapes, annotations = [], []
    for year, note in history.breaks:
        if year in years:
            index = years.index(year)
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": index - 0.5,
                    "x1": index - 0.5,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#c0392b", "width": 2, "dash": "dash"},
                }
            )
            annotations.append(
                {
                    "xref": "x",
                    "yref": "paper",
                    "x": index - 0.5,
                    "y": 1,
                    "xanchor": "left",
                    "yanchor": "top",
                    "showarrow": False,
                    "text": _("{year}から{change}").format(year=reiwa_label(year), change=note),
                    "font": {"color": "#c0392b", "size": 12},
                    "bgcolor": "rgba(255,255,255,0.85)",
                }
            )
    layout = _layout(
        _("{kpi}：年度ごとの実績と目標").format(kpi=kpi_name),
        unit,
        y_range=_y_range((v for trace in data for v in trace["y"]), unit, from_zero=True),
        shapes=shapes,
        annotations=annotations,
        xaxis={"type": "category"},
        bargap=0.45,
    )
    return {"data": data, "layout": layout}


@dataclass(frozen=True)
class RankingBar:
    """A branch in the ranking chart, as plain values: its name, figure, mark (or projected mark) and target."""

    name: str
    figure: Decimal | None
    mark: Mark | None
    projected_mark: Mark | None
    reference: Decimal | None
    rank: int | None = None
    group: RankGroup = RankGroup.UNRANKED
    as_of: datetime.date | None = None

    @classmethod
    def of(cls, result: KpiResult, name: str) -> RankingBar:
        """A branch's bar (unranked until ``placed``) from its result."""
        return cls(name, result.figure, result.mark, result.projected_mark, result.reference)

    def placed(self, rank: int | None, group: RankGroup, as_of: datetime.date | None) -> RankingBar:
        return replace(self, rank=rank, group=group, as_of=as_of)


def branch_ranking(
    fiscal_year: int, kpi: Kpi, ranking: list[RankedResult], national_average: Decimal | None
) -> dict[str, Any] | None:
    """``ranking_chart`` of ``kpi_ranking``'s rows."""
    bars = [RankingBar.of(r.result, r.branch.name).placed(r.rank, r.group, r.as_of) for r in ranking]
    return ranking_chart(fiscal_year, kpi, bars, national_average)


def ranking_chart(
    fiscal_year: int, kpi: Kpi, ranking: list[RankingBar], national_average: Decimal | None
) -> dict[str, Any] | None:
    """The ranked branches' figures for one KPI, coloured by mark, with the national average line.

    Only ranked figures are drawn, one trace per group (year-end actuals; figures at the ranking month),
    so a September figure never stands beside an August one; the table lists the rest with their month.
    A bar whose colour comes from a projection (no year-end actual yet) is drawn pale and hatched and
    labelled 見込み, so it is never read as an official mark. None for a qualitative KPI or nothing ranked.
    """
    kpi_name, unit, precision = kpi.name, kpi.unit, kpi.precision
    hover = f"%{{x}}: %{{y:,.{precision}f}}{unit}<extra>%{{fullData.name}}</extra>"
    ranked = [r for r in ranking if r.rank is not None]
    if not kpi.is_numeric or not ranked:
        return None
    data: list[dict[str, Any]] = []
    for group in (RankGroup.YEAR_END, RankGroup.AS_OF):
        rows = [r for r in ranked if r.group is group]
        if not rows:
            continue
        marks = [r.mark or r.projected_mark for r in rows]
        projected = [r.mark is None and r.projected_mark is not None for r in rows]
        if group is RankGroup.YEAR_END:
            name = _("年度末実績")
        else:
            name = _("{month}時点の実績（淡色・斜線は年度末見込みによる色）").format(month=month_label(rows[0].as_of))
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": [r.name for r in rows],
                "y": [_float(r.figure) for r in rows],
                "marker": {
                    "color": [mark_colour(m) for m in marks],
                    "opacity": [0.45 if p else 1.0 for p in projected],
                    "pattern": {"shape": ["/" if p else "" for p in projected]},
                },
                "text": [
                    _("{mark}見込み").format(mark=m) if p and m else (m or "")
                    for m, p in zip(marks, projected, strict=True)
                ],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": hover,
            }
        )
    target = {
        "type": "scatter",
        "mode": "markers",
        "name": _("目標（基準値）"),
        "x": [r.name for r in ranked],
        "y": [_float(r.reference) for r in ranked],
        "marker": {"symbol": "line-ew-open", "size": 18, "line": {"width": 3, "color": "#d35400"}},
        "cliponaxis": False,
        "hovertemplate": hover,
    }
    if _has_data(target):
        data.append(target)
    shapes = []
    # The national average is a year-end figure: drawn only beside year-end actuals.
    if national_average is not None and any(r.group is RankGroup.YEAR_END for r in ranked):
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": float(national_average),
                "y1": float(national_average),
                "line": {"color": "#6c757d", "width": 2, "dash": "dot"},
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": _("全国平均 {figure}").format(figure=format_figure(national_average, unit, precision)),
                "x": [ranked[0].name, ranked[-1].name],
                "y": [float(national_average)] * 2,
                "line": {"color": "#6c757d", "dash": "dot"},
                "hoverinfo": "skip",
            }
        )
    layout = _layout(
        _("{kpi}：支部別（{year}）").format(kpi=kpi_name, year=reiwa_label(fiscal_year)),
        unit,
        y_range=_y_range((v for trace in data for v in trace["y"]), unit, from_zero=True),
        shapes=shapes,
        xaxis=_category_axis(len(ranked), tickangle=-60),
    )
    return {"data": data, "layout": layout}


def _category_axis(count: int, **extra: Any) -> dict[str, Any]:
    """A category x-axis; with fewer than 5 categories, room for 5, so one branch is not one page-wide bar."""
    axis: dict[str, Any] = {"type": "category", **extra}
    if 0 < count < 5:
        spare = (5 - count) / 2
        axis["range"] = [-0.5 - spare, count - 0.5 + spare]
    return axis
