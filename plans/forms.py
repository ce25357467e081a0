from __future__ import annotations

from django import forms

from plans.models import Measure
from plans.results import KpiResult

NOT_JUDGED = "none"


class ResultFilterForm(forms.Form):
    """Filters of the branch dashboard's KPI table: area (分野), group (担当グループ), mark (評価)."""

    area = forms.TypedChoiceField(
        label="分野",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "すべて"), (1, "1 基盤的保険者機能"), (2, "2 戦略的保険者機能"), (3, "3 組織・運営体制")],
    )
    group = forms.ChoiceField(label="担当グループ", required=False, choices=[("", "すべて"), *Measure.Group.choices])
    mark = forms.ChoiceField(
        label="評価",
        required=False,
        choices=[
            ("", "すべて"),
            ("◎", "◎ 計画を上回る"),
            ("○", "○ 計画どおり"),
            ("△", "△ 計画を下回る"),
            (NOT_JUDGED, "未評価"),
        ],
    )

    def apply(self, results: list[KpiResult]) -> list[KpiResult]:
        """The rows that pass the filters; all rows while the form is unbound or invalid."""
        if not self.is_bound or not self.is_valid():
            return results
        area, group, mark = self.cleaned_data["area"], self.cleaned_data["group"], self.cleaned_data["mark"]
        shown = []
        for result in results:
            measure = result.target.measure
            if area is not None and (measure is None or measure.area_id != area):
                continue
            if group and (measure is None or measure.group != group):
                continue
            if mark == NOT_JUDGED and result.mark is not None:
                continue
            if mark and mark != NOT_JUDGED and (result.mark is None or result.mark.value != mark):
                continue
            shown.append(result)
        return shown
