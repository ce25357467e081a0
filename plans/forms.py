from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from plans import rules
from plans.models import Area, Measure
from plans.results import KpiResult
from plans.rules import Mark

NOT_JUDGED = "none"
#: No mark yet and the projection says the target will be missed (projection.on_track is False).
AT_RISK = "at_risk"


def is_at_risk(result: KpiResult) -> bool:
    """No official mark yet, and the year-end projection misses the target."""
    return result.mark is None and result.projection is not None and result.projection.on_track is False


class ResultFilterForm(forms.Form):
    """Filters of the branch dashboard's KPI table: area (分野), group (担当グループ), mark (評価 or 未達のおそれ)."""

    area = forms.TypedChoiceField(
        label=_("分野"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("すべて")), *((number, f"{number} {name}") for number, name, _en in Area.FIXED)],
    )
    group = forms.ChoiceField(
        label=_("担当グループ"), required=False, choices=[("", _("すべて")), *Measure.Group.choices]
    )
    mark = forms.ChoiceField(
        label=_("評価"),
        required=False,
        choices=[
            ("", _("すべて")),
            *Mark.choices(),
            (NOT_JUDGED, format_lazy("{} {}", rules.NOT_JUDGED, _("未評価"))),
            (AT_RISK, _("未達のおそれ（見込み）")),
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
            if mark == AT_RISK:
                if not is_at_risk(result):
                    continue
            elif mark and (result.mark or NOT_JUDGED) != mark:
                continue
            shown.append(result)
        return shown
