"""Plotly figures as plain dicts (the plotly.js JSON schema), rendered by the locally served plotly.js.

Building the JSON directly keeps a page's chart cost to microseconds; the figures use Japanese labels and
units and a print-friendly white layout.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from plans.fiscal import FISCAL_MONTH_LABELS, fiscal_month_of, reiwa_label
from plans.formatting import format_figure
from plans.rules import Mark, RuleKind

if TYPE_CHECKING:
    from plans.models import Kpi
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


def _layout(title: str, unit: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 15}},
        "font": FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 64, "r": 24, "t": 48, "b": 56},
        "legend": {"orientation": "h", "y": -0.18},
        "yaxis": {
            "title": {"text": unit or _("値")},
            "gridcolor": "#e3e6ea",
            "zerolinecolor": "#c4c9cf",
            "separatethousands": True,
        },
        "xaxis": {"gridcolor": "#f0f2f4"},
        "hovermode": "x unified",
        "separators": ".,",
    }
    layout.update(extra)
    return layout


def monthly_progress(history: KpiHistory) -> dict[str, Any]:
    """This year's monthly (cumulative) figures against the target line and last year's same months."""
    result = history.result
    kpi_name, unit, precision = result.kpi.name, result.kpi.unit, result.target.precision
    fiscal_year, reference, rule = result.fiscal_year, result.reference, result.rule.kind
    year_end = result.year_end if isinstance(result.year_end, Decimal) else None

    hover = f"%{{y:,.{precision}f}}{unit}<extra>%{{fullData.name}}</extra>"
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _("{year}（今年度）").format(year=reiwa_label(fiscal_year)),
            "x": MONTH_AXIS,
            "y": by_fiscal_month(history.this_year),
            "connectgaps": True,
            "line": {"color": "#2f6db3", "width": 3},
            "marker": {"size": 8},
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _("{year}（前年度同月）").format(year=reiwa_label(fiscal_year - 1)),
            "x": MONTH_AXIS,
            "y": by_fiscal_month(history.last_year),
            "connectgaps": True,
            "line": {"color": "#8a94a6", "width": 2, "dash": "dot"},
            "marker": {"size": 6},
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
    if year_end is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": _("年度末実績 {figure}").format(figure=format_figure(year_end, unit, precision)),
                "x": [MONTH_AXIS[-1]],
                "y": [float(year_end)],
                "marker": {"size": 14, "symbol": "star", "color": "#1b7f3b"},
                "hovertemplate": hover,
            }
        )
    layout = _layout(
        _("{kpi}：月次の推移（{year}）").format(kpi=kpi_name, year=reiwa_label(fiscal_year)),
        unit,
        xaxis={"categoryorder": "array", "categoryarray": MONTH_AXIS},
    )
    return {"data": data, "layout": layout}


def multi_year_trend(history: KpiHistory) -> dict[str, Any]:
    """Year-end actuals by fiscal year with each year's target, the national average and definition breaks."""
    result = history.result
    kpi_name, unit, precision = result.kpi.name, result.kpi.unit, result.target.precision
    years = [r.fiscal_year for r in history.years]
    actuals = [r.year_end if isinstance(r.year_end, Decimal) else None for r in history.years]
    marks = [r.mark for r in history.years]
    labels = [f"{reiwa_label(y)}<br>FY{y}" for y in years]
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
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": _("目標（基準値）"),
            "x": labels,
            "y": [_float(r.reference) for r in history.years],
            "marker": {"symbol": "line-ew-open", "size": 28, "line": {"width": 3, "color": "#d35400"}},
            "hovertemplate": hover,
        },
    ]
    national = [r.national_average for r in history.years]
    if any(v is not None for v in national):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _("全国平均"),
                "x": labels,
                "y": [_float(v) for v in national],
                "line": {"color": "#6c757d", "dash": "dot"},
                "connectgaps": False,
                "hovertemplate": hover,
            }
        )
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
                    "y": 1.02,
                    "showarrow": False,
                    "text": note,
                    "font": {"color": "#c0392b", "size": 12},
                    "xanchor": "center",
                }
            )
    layout = _layout(
        _("{kpi}：年度ごとの実績と目標").format(kpi=kpi_name),
        unit,
        shapes=shapes,
        annotations=annotations,
        xaxis={"type": "category"},
        bargap=0.45,
    )
    return {"data": data, "layout": layout}


def branch_ranking(
    fiscal_year: int, kpi: Kpi, ranking: list[RankedResult], national_average: Decimal | None
) -> dict[str, Any]:
    """Every branch's figure for one KPI, ranked, coloured by mark, with the national average line.

    A bar whose colour comes from a projection (no year-end actual yet) is drawn pale and hatched and
    labelled 見込み, so it is never read as an official mark.
    """
    kpi_name, unit, precision = kpi.name, kpi.unit, kpi.precision
    branches = [r.branch.name for r in ranking]
    results = [r.result for r in ranking]
    marks = [r.mark or r.projected_mark for r in results]
    projected = [r.mark is None and r.projected_mark is not None for r in results]
    hover = f"%{{x}}: %{{y:,.{precision}f}}{unit}<extra>%{{fullData.name}}</extra>"
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": _("実績（淡色・斜線は年度末見込みによる色）"),
            "x": branches,
            "y": [_float(r.figure) for r in results],
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
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": _("目標"),
            "x": branches,
            "y": [_float(r.reference) for r in results],
            "marker": {"symbol": "line-ew-open", "size": 18, "line": {"width": 3, "color": "#d35400"}},
            "hovertemplate": hover,
        },
    ]
    shapes = []
    if national_average is not None:
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
                "x": [branches[0], branches[-1]] if branches else [],
                "y": [float(national_average)] * 2,
                "line": {"color": "#6c757d", "dash": "dot"},
                "hoverinfo": "skip",
            }
        )
    layout = _layout(
        _("{kpi}：支部別（{year}）").format(kpi=kpi_name, year=reiwa_label(fiscal_year)),
        unit,
        shapes=shapes,
        xaxis={"type": "category", "tickangle": -60},
    )
    return {"data": data, "layout": layout}
