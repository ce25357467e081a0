"""kpitrack's pages, one module per concern (plans/urls.py imports them by module):

- ``dashboards``: the read pages (branch dashboard, KPI page, national matrix and KPI ranking)
- ``entry``: the month screen where a branch enters its monthly figures
- ``history``: a KPI's history (every change, who, when, why) and restore
- ``plan``: the plan itself — areas, measures, their KPIs and progress, the budget table
- ``plan_edit``: the plan edited in the browser — target phrases with a live parse, 新設・削除・変更, next year's plan
- ``progress``: measure progress per half-year (entry and HQ's list across branches)
- ``workflow``: the month's workflow (submit, approve, return, reopen) and HQ's reporting status
"""
