"""Plotly figures as plain dicts (the plotly.js JSON schema), rendered by the locally served plotly.js.

Building the JSON directly keeps a page's chart cost to microseconds; the figures use Japanese labels and
units and a print-friendly white layout.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from plans.formatting import format_figure
from plans.models import reiwa_label
from plans.rules import RuleKind

FISCAL_MONTH_LABELS = [f"{m}月" for m in (*range(4, 13), 1, 2, 3)]
MARK_COLOURS = {"◎": "#1b7f3b", "○": "#2f6db3", "△": "#c0392b", None: "#9aa0a6"}
FONT = {"family": "Noto Sans CJK JP, Noto Sans JP, Hiragino Sans, Meiryo, sans-serif", "size": 13}


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _layout(title: str, unit: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 15}},
        "font": FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 64, "r": 24, "t": 48, "b": 56},
        "legend": {"orientation": "h", "y": -0.18},
        "yaxis": {
            "title": {"text": unit or "値"},
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


def monthly_progress(
    *,
    kpi_name: str,
    unit: str,
    precision: int,
    fiscal_year: int,
    this_year: dict[datetime.date, Decimal],
    last_year: dict[datetime.date, Decimal],
    reference: Decimal | None,
    rule: RuleKind,
    year_end: Decimal | None,
) -> dict[str, Any]:
    """This year's monthly (cumulative) figures against the target line and last year's same months."""

    def by_fiscal_month(series: dict[datetime.date, Decimal]) -> list[float | None]:
        values: list[float | None] = [None] * 12
        for month, value in series.items():
            values[(month.month - 4) % 12] = float(value)
        return values

    hover = f"%{{y:,.{precision}f}}{unit}<extra>%{{fullData.name}}</extra>"
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": f"{reiwa_label(fiscal_year)}（今年度）",
            "x": FISCAL_MONTH_LABELS,
            "y": by_fiscal_month(this_year),
            "connectgaps": True,
            "line": {"color": "#2f6db3", "width": 3},
            "marker": {"size": 8},
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": f"{reiwa_label(fiscal_year - 1)}（前年度同月）",
            "x": FISCAL_MONTH_LABELS,
            "y": by_fiscal_month(last_year),
            "connectgaps": True,
            "line": {"color": "#8a94a6", "width": 2, "dash": "dot"},
            "marker": {"size": 6},
            "hovertemplate": hover,
        },
    ]
    if reference is not None:
        label = "前年度実績（基準値）" if rule in {RuleKind.YOY_MIN, RuleKind.YOY_MAX} else "目標"
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{label} {format_figure(reference, unit, precision)}",
                "x": FISCAL_MONTH_LABELS,
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
                "name": f"年度末実績 {format_figure(year_end, unit, precision)}",
                "x": ["3月"],
                "y": [float(year_end)],
                "marker": {"size": 14, "symbol": "star", "color": "#1b7f3b"},
                "hovertemplate": hover,
            }
        )
    layout = _layout(
        f"{kpi_name}：月次の推移（{reiwa_label(fiscal_year)}）",
        unit,
        xaxis={"categoryorder": "array", "categoryarray": FISCAL_MONTH_LABELS},
    )
    return {"data": data, "layout": layout}


def multi_year_trend(
    *,
    kpi_name: str,
    unit: str,
    precision: int,
    years: list[int],
    actuals: list[Decimal | None],
    targets: list[Decimal | None],
    national: list[Decimal | None],
    marks: list[str | None],
    breaks: list[tuple[int, str]],
) -> dict[str, Any]:
    """Year-end actuals by fiscal year with each year's target, the national average and definition breaks."""
    labels = [f"{reiwa_label(y)}<br>FY{y}" for y in years]
    hover = f"%{{y:,.{precision}f}}{unit}<extra>%{{fullData.name}}</extra>"
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": "年度末実績",
            "x": labels,
            "y": [_float(v) for v in actuals],
            "marker": {"color": [MARK_COLOURS.get(m, MARK_COLOURS[None]) for m in marks]},
            "text": [m or "" for m in marks],
            "textposition": "outside",
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "目標（基準値）",
            "x": labels,
            "y": [_float(v) for v in targets],
            "marker": {"symbol": "line-ew-open", "size": 28, "line": {"width": 3, "color": "#d35400"}},
            "hovertemplate": hover,
        },
    ]
    if any(v is not None for v in national):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "全国平均",
                "x": labels,
                "y": [_float(v) for v in national],
                "line": {"color": "#6c757d", "dash": "dot"},
                "connectgaps": False,
                "hovertemplate": hover,
            }
        )
    shapes, annotations = [], []
    for year, note in breaks:
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
        f"{kpi_name}：年度ごとの実績と目標",
        unit,
        shapes=shapes,
        annotations=annotations,
        xaxis={"type": "category"},
        bargap=0.45,
    )
    return {"data": data, "layout": layout}


def branch_ranking(
    *,
    kpi_name: str,
    unit: str,
    precision: int,
    fiscal_year: int,
    branches: list[str],
    values: list[Decimal | None],
    targets: list[Decimal | None],
    marks: list[str | None],
    national_average: Decimal | None,
    projected: list[bool] | None = None,
) -> dict[str, Any]:
    """Every branch's figure for one KPI, ranked, coloured by mark, with the national average line.

    A bar whose colour comes from a projection (no year-end actual yet) is drawn pale and hatched and
    labelled 見込み, so it is never read as an official mark.
    """
    projected = projected or [False] * len(branches)
    hover = f"%{{x}}: %{{y:,.{precision}f}}{unit}<extra>%{{fullData.name}}</extra>"
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": "実績（淡色・斜線は年度末見込みによる色）",
            "x": branches,
            "y": [_float(v) for v in values],
            "marker": {
                "color": [MARK_COLOURS.get(m, MARK_COLOURS[None]) for m in marks],
                "opacity": [0.45 if p else 1.0 for p in projected],
                "pattern": {"shape": ["/" if p else "" for p in projected]},
            },
            "text": [f"{m}見込み" if p and m else (m or "") for m, p in zip(marks, projected, strict=True)],
            "textposition": "outside",
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "目標",
            "x": branches,
            "y": [_float(v) for v in targets],
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
                "name": f"全国平均 {format_figure(national_average, unit, precision)}",
                "x": [branches[0], branches[-1]] if branches else [],
                "y": [float(national_average)] * 2,
                "line": {"color": "#6c757d", "dash": "dot"},
                "hoverinfo": "skip",
            }
        )
    layout = _layout(
        f"{kpi_name}：支部別（{reiwa_label(fiscal_year)}）",
        unit,
        shapes=shapes,
        xaxis={"type": "category", "tickangle": -60},
    )
    return {"data": data, "layout": layout}
