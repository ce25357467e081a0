"""plans.rules: target phrases, marks (◎ ○ △) and mid-year projections.

Pure-function tests: no database. Every expectation below is written out from the seed documents in
/work/shared/seeds/ (and the hand transcriptions in fixtures/seed/), never computed by the code under test.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from plans import rules
from plans.rules import (
    Basis,
    Mark,
    Projection,
    ProjectionMethod,
    RuleKind,
    TargetParseError,
    TargetRule,
    judge,
    parse_target,
    project_year_end,
    reference_value,
    round_published,
    to_decimal,
)

SEED_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "seed"

MIN = RuleKind.FIXED_MIN
MAX = RuleKind.FIXED_MAX
EXACT = RuleKind.EXACT
YOY_MIN = RuleKind.YOY_MIN
YOY_MAX = RuleKind.YOY_MAX
DONE = RuleKind.DONE
FREQ = RuleKind.FREQUENCY
NONE = RuleKind.NONE

ABOVE, PLANNED, BELOW = Mark.ABOVE, Mark.AS_PLANNED, Mark.BELOW


def D(value: str) -> Decimal:
    return Decimal(value)


def case(
    phrase: str,
    kind: RuleKind,
    value: str | None = None,
    baseline: str | None = None,
    unit: str = "",
    *,
    id: str,
    marks: tuple[pytest.MarkDecorator, ...] = (),
) -> object:
    return pytest.param(phrase, kind, value, baseline, unit, id=id, marks=marks)


# --------------------------------------------------------------------------------------------------
# Parsing: every target phrase of the four seed documents
# --------------------------------------------------------------------------------------------------

# target_text of the fixtures, as transcribed (one row per distinct phrase, id = branch-year-kpi).
FIXTURE_PHRASES = [
    # 栃木 Tochigi (FY2023 targets, FY2024 targets from the 令和６年度目標 column)
    case("100％とする", EXACT, "100", None, "%", id="tochigi-2023-service_standard_rate"),
    case("96.0％以上", MIN, "96.0", None, "%", id="tochigi-2023-mail_application_rate"),
    case("対前年度以下", YOY_MAX, id="tochigi-2023-judo_multi_visit_rate"),
    case("対前年度以上", YOY_MIN, id="tochigi-2023-receipt_assessment_rate"),
    case("94.0％以上", MIN, "94.0", None, "%", id="tochigi-2023-dependent_confirmation_rate"),
    case("71.7％以上", MIN, "71.7", None, "%", id="tochigi-2023-lifestyle_checkup_rate"),
    case("8.6％以上", MIN, "8.6", None, "%", id="tochigi-2023-employer_checkup_data_rate"),
    case("33.2％以上", MIN, "33.2", None, "%", id="tochigi-2023-dependent_checkup_rate"),
    case("34.5％以上", MIN, "34.5", None, "%", id="tochigi-2023-insured_guidance_rate"),
    case("18.9％以上", MIN, "18.9", None, "%", id="tochigi-2023-dependent_guidance_rate"),
    case("13.1％以上", MIN, "13.1", None, "%", id="tochigi-2023-medical_visit_rate"),
    case("1,330事業所以上", MIN, "1330", None, "事業所", id="tochigi-2023-health_declaration_offices"),
    case("72.0％以上", MIN, "72.0", None, "%", id="tochigi-2023-health_committee_coverage"),
    case("実施", DONE, id="tochigi-2023-opinion_statements"),
    case("20％以下", MAX, "20", None, "%", id="tochigi-2023-single_bid_ratio"),
    case("100%", EXACT, "100", None, "%", id="tochigi-2024-service_standard_rate"),
    case("65.9%以上", MIN, "65.9", None, "%", id="tochigi-2024-lifestyle_checkup_rate"),
    case("10.1%以上", MIN, "10.1", None, "%", id="tochigi-2024-employer_checkup_data_rate"),
    case("33.2%以上", MIN, "33.2", None, "%", id="tochigi-2024-dependent_checkup_rate"),
    case("31.7％以上", MIN, "31.7", None, "%", id="tochigi-2024-insured_guidance_rate"),
    case("26.1%以上", MIN, "26.1", None, "%", id="tochigi-2024-dependent_guidance_rate"),
    case("1,640事業所以上", MIN, "1640", None, "事業所", id="tochigi-2024-health_declaration_offices"),
    case("72.2%以上", MIN, "72.2", None, "%", id="tochigi-2024-health_committee_coverage"),
    case("15%以下", MAX, "15", None, "%", id="tochigi-2024-single_bid_ratio"),
    # 鹿児島 Kagoshima (FY2025 plan, FY2024 and FY2023 columns)
    case("7日以内", MAX, "7", None, "日", id="kagoshima-2025-service_standard_days"),
    case("60.3%以上", MIN, "60.3", None, "%", id="kagoshima-2025-lifestyle_checkup_rate"),
    case("9.3%以上", MIN, "9.3", None, "%", id="kagoshima-2025-employer_checkup_data_rate"),
    case("26.0%以上", MIN, "26.0", None, "%", id="kagoshima-2025-dependent_checkup_rate"),
    case("25.3%以上", MIN, "25.3", None, "%", id="kagoshima-2025-insured_guidance_rate"),
    case("11.2%以上", MIN, "11.2", None, "%", id="kagoshima-2025-dependent_guidance_rate"),
    case("1,310事業所以上", MIN, "1310", None, "事業所", id="kagoshima-2025-health_declaration_offices"),
    case("対前年度末以上", YOY_MIN, id="kagoshima-2025-generic_drug_share"),
    case("関係機関への働きかけ", DONE, id="kagoshima-2025-biosimilar_outreach"),
    case("54.7%以上", MIN, "54.7", None, "%", id="kagoshima-2025-health_committee_coverage"),
    case("毎月", FREQ, id="kagoshima-2025-sns_monthly_posts"),
    case("15.0%以下", MAX, "15.0", None, "%", id="kagoshima-2025-single_bid_ratio"),
    case("対前年度(93.3%)以上", YOY_MIN, None, "93.3", "%", id="kagoshima-2024-mail_application_rate"),
    case("対前年度(0.154%)以上", YOY_MIN, None, "0.154", "%", id="kagoshima-2024-receipt_assessment_rate"),
    case("対前年度(11,378円)以上", YOY_MIN, None, "11378", "円", id="kagoshima-2024-reexam_amount_per_claim"),
    case("対前年度(59.29%)以上", YOY_MIN, None, "59.29", "%", id="kagoshima-2024-refund_recovery_rate"),
    case("24.9%以上", MIN, "24.9", None, "%", id="kagoshima-2024-dependent_checkup_rate"),
    case("22.2%以上", MIN, "22.2", None, "%", id="kagoshima-2024-insured_guidance_rate"),
    case("7.3%以上", MIN, "7.3", None, "%", id="kagoshima-2024-dependent_guidance_rate"),
    case("対前年度(36.9%)以上", YOY_MIN, None, "36.9", "%", id="kagoshima-2024-medical_visit_rate"),
    case("1,050事業所以上", MIN, "1050", None, "事業所", id="kagoshima-2024-health_declaration_offices"),
    case("対前年度末(88.0%)以上", YOY_MIN, None, "88.0", "%", id="kagoshima-2024-generic_drug_share"),
    case("53.2%以上", MIN, "53.2", None, "%", id="kagoshima-2024-health_committee_coverage"),
    case("対前年度(2,955事業所)以上", YOY_MIN, None, "2955", "事業所", id="kagoshima-2024-health_committee_offices"),
    case("96.0%以上", MIN, "96.0", None, "%", id="kagoshima-2023-mail_application_rate"),
    case("対前年度(9,115円)以上", YOY_MIN, None, "9115", "円", id="kagoshima-2023-reexam_amount_per_claim"),
    case("61.1%以上", MIN, "61.1", None, "%", id="kagoshima-2023-lifestyle_checkup_rate"),
    case("13.8%以上", MIN, "13.8", None, "%", id="kagoshima-2023-employer_checkup_data_rate"),
    case("38.0%以上", MIN, "38.0", None, "%", id="kagoshima-2023-insured_guidance_rate"),
    case("19.4%以上", MIN, "19.4", None, "%", id="kagoshima-2023-dependent_guidance_rate"),
    case("770事業所以上", MIN, "770", None, "事業所", id="kagoshima-2023-health_declaration_offices"),
    case("対前年度(86.8%)以上", YOY_MIN, None, "86.8", "%", id="kagoshima-2023-generic_drug_share"),
    case("50.5%以上", MIN, "50.5", None, "%", id="kagoshima-2023-health_committee_coverage"),
    case("20.0%以下", MAX, "20.0", None, "%", id="kagoshima-2023-single_bid_ratio"),
    # 東京 Tokyo (FY2024)
    case("100％", EXACT, "100", None, "%", id="tokyo-2024-service_standard_rate"),
    case("対前年度（98.4％）以上", YOY_MIN, None, "98.4", "%", id="tokyo-2024-mail_application_rate"),
    case("前年度（0.087％）以上", YOY_MIN, None, "0.087", "%", id="tokyo-2024-receipt_assessment_rate"),
    case("前年度（9,109円）以上", YOY_MIN, None, "9109", "円", id="tokyo-2024-reexam_amount_per_claim"),
    case("前年度（50.35％）以上", YOY_MIN, None, "50.35", "%", id="tokyo-2024-refund_recovery_rate"),
    case("前年度（70.80％）以上", YOY_MIN, None, "70.80", "%", id="tokyo-2024-card_recovery_rate"),
    case("60.0％以上", MIN, "60.0", None, "%", id="tokyo-2024-lifestyle_checkup_rate"),
    case("3.8％以上", MIN, "3.8", None, "%", id="tokyo-2024-employer_checkup_data_rate"),
    case("32.0％以上", MIN, "32.0", None, "%", id="tokyo-2024-dependent_checkup_rate"),
    case("11.4％以上", MIN, "11.4", None, "%", id="tokyo-2024-insured_guidance_rate"),
    case("10.1％以上", MIN, "10.1", None, "%", id="tokyo-2024-dependent_guidance_rate"),
    case("対前年度（31.2％）以上", YOY_MIN, None, "31.2", "%", id="tokyo-2024-medical_visit_rate"),
    case("2,900事業所以上", MIN, "2900", None, "事業所", id="tokyo-2024-health_declaration_offices"),
    case("年度末時点で前年度末（82.6％）以上", YOY_MIN, None, "82.6", "%", id="tokyo-2024-generic_drug_share"),
    case("40％以上", MIN, "40", None, "%", id="tokyo-2024-health_committee_coverage"),
    case("前年度（10,263事業所）以上", YOY_MIN, None, "10263", "事業所", id="tokyo-2024-health_committee_offices"),
    case("15％以下", MAX, "15", None, "%", id="tokyo-2024-single_bid_ratio"),
    # 岐阜 Gifu (FY2024)
    case("設定なし", NONE, id="gifu-2024-mynumber_card_usage_rate"),
    case("95.6％", EXACT, "95.6", None, "%", id="gifu-2024-mail_application_rate"),
    case("122.4円以下", MAX, "122.4", None, "円", id="gifu-2024-judo_payment_per_member"),
    case("0.57％以下", MAX, "0.57", None, "%", id="gifu-2024-judo_multi_visit_rate"),
    case("0.121％以上", MIN, "0.121", None, "%", id="gifu-2024-receipt_assessment_rate"),
    case("8,889円以上", MIN, "8889", None, "円", id="gifu-2024-reexam_amount_per_claim"),
    case("73.92％以上", MIN, "73.92", None, "%", id="gifu-2024-refund_recovery_rate"),
    case("86.15％以上", MIN, "86.15", None, "%", id="gifu-2024-card_recovery_rate"),
    case("1,570事業所以上", MIN, "1570", None, "事業所", id="gifu-2024-health_declaration_offices"),
    case("83.5％以上", MIN, "83.5", None, "%", id="gifu-2024-generic_drug_share"),
    case("64.5％以上", MIN, "64.5", None, "%", id="gifu-2024-health_committee_coverage"),
    case("5,420以上", MIN, "5420", None, "", id="gifu-2024-health_committee_offices"),
    case("66.5％以上", MIN, "66.5", None, "%", id="gifu-2024-lifestyle_checkup_rate"),
    case("15.8％以上", MIN, "15.8", None, "%", id="gifu-2024-employer_checkup_data_rate"),
    case("32.1％以上", MIN, "32.1", None, "%", id="gifu-2024-dependent_checkup_rate"),
    case("32.9％以上", MIN, "32.9", None, "%", id="gifu-2024-insured_guidance_rate"),
    case("35.9％以上", MIN, "35.9", None, "%", id="gifu-2024-dependent_guidance_rate"),
    case("前年度以上", YOY_MIN, id="gifu-2024-medical_visit_rate"),
]


# Sentences and table cells as they appear in the documents (PDF text: full-width figures, stray spaces,
# line breaks inside words).
DOCUMENT_PHRASES = [
    # 栃木 Tochigi, 004: the KPI sentences of the FY2023 table
    case("【KPI】\n\nサービススタンダードの達成状況を100％とする", EXACT, "100", None, "%", id="tochigi-doc-1"),
    case("現金給付等の申請に係る郵送化率を96.0％以上とする", MIN, "96.0", None, "%", id="tochigi-doc-2"),
    case(
        "【KPI】柔道整復施術療養費の申請に占める、施術箇所３部位以上、かつ月15日以上の施術の\n\n"
        "申請の割合について対前年度以下とする",
        YOY_MAX,
        id="tochigi-doc-3-name-with-以上",
    ),
    case(
        "【KPI】\n\n社会保険診療報酬支払基金と合算したレセプト点検の査定率について対前年度以上とする",
        YOY_MIN,
        id="tochigi-doc-4",
    ),
    case("協会けんぽの再審査レセプト１件当たりの査定額を対前年度以上とする", YOY_MIN, id="tochigi-doc-5"),
    case(
        "【KPI】\n\n日本年金機構回収分も含めた資格喪失後1か月以内の保険証回収率を対前年度以上とする",
        YOY_MIN,
        id="tochigi-doc-6-name-with-以内",
    ),
    case(
        "返納金債権（資格喪失後受診に係るものに限る。）の回収率を対前年度以上とする",
        YOY_MIN,
        id="tochigi-doc-7-name-with-。",
    ),
    case(
        "【KPI】被扶養者資格の確認対象事業所からの確認書の提出率を94.0％以上とする",
        MIN,
        "94.0",
        None,
        "%",
        id="tochigi-doc-8",
    ),
    case("【KPI】\n\n生活習慣病予防健診実施率を71.7％以上とする", MIN, "71.7", None, "%", id="tochigi-doc-9"),
    case("事業者健診データ取得率を8.6％以上とする", MIN, "8.6", None, "%", id="tochigi-doc-10"),
    case("被扶養者の特定健診実施率を33.2％以上とする", MIN, "33.2", None, "%", id="tochigi-doc-11"),
    case("【KPI】\n\n被保険者の特定保健指導の実施率を34.5％以上とする", MIN, "34.5", None, "%", id="tochigi-doc-12"),
    case("被扶養者の特定保健指導の実施率を18.9％以上とする", MIN, "18.9", None, "%", id="tochigi-doc-13"),
    case(
        "【KPI】受診勧奨後、３か月以内に医療機関を受診した者の割合を13.1％以上とする",
        MIN,
        "13.1",
        None,
        "%",
        id="tochigi-doc-14-name-with-以内",
    ),
    case("【KPI】健康宣言事業所数を1,330事業所以上とする", MIN, "1330", None, "事業所", id="tochigi-doc-15"),
    case(
        "【KPI】全被保険者数に占める健康保険委員が委嘱されている事業所の被保険者数の割合を\n\n72.0％以上とする",
        MIN,
        "72.0",
        None,
        "%",
        id="tochigi-doc-16-line-break",
    ),
    case("【KPI】ジェネリック医薬品使用割合を年度末時点で対前年度以上とする", YOY_MIN, id="tochigi-doc-17-年度末時点"),
    case(
        "【KPI】効率的・効果的な医療提供体制の構築に向けて、地域医療構想調整会議や医療審議会\n\n"
        "等の場において、医療データ等を活用した効果的な意見発信を実施する",
        DONE,
        id="tochigi-doc-18-実施する",
    ),
    case(
        "【KPI】一般競争入札に占める一者応札案件の割合について、20％以下とする",
        MAX,
        "20",
        None,
        "%",
        id="tochigi-doc-19",
    ),
    # Tochigi table cells, split over lines by the PDF
    case("71.7%\n\n以上", MIN, "71.7", None, "%", id="tochigi-cell-split-fixed"),
    case("対前年度\n\n以上", YOY_MIN, id="tochigi-cell-split-yoy"),
    case("1,330事業所\n\n以上", MIN, "1330", None, "事業所", id="tochigi-cell-split-count"),
    case("20%\n\n以下", MAX, "20", None, "%", id="tochigi-cell-split-max"),
    # 鹿児島 Kagoshima, 001
    case("サービススタンダードの達成状況を 100%とする", EXACT, "100", None, "%", id="kagoshima-doc-100"),
    case("現金給付等の申請書類に係る窓口での受付率を対前年度以下とする。", YOY_MAX, id="kagoshima-doc-yoy-max-。"),
    case("協会のレセプト点検の査定率（※）について前年度以上とする", YOY_MIN, id="kagoshima-doc-footnote-in-name"),
    case("協会の再審査レセプト1件当たりの査定額を前年度以上とする", YOY_MIN, id="kagoshima-doc-前年度以上"),
    case(
        "返納金債権（診療報酬返還金（不当請求）を除く。）の回収率を前年度以上とする",
        YOY_MIN,
        id="kagoshima-doc-nested-parens-in-name",
    ),
    case("生活習慣病予防健診実施率を60.3%以上とする", MIN, "60.3", None, "%", id="kagoshima-doc-60.3"),
    case("被保険者の特定保健指導実施率を 25.3%以上とする", MIN, "25.3", None, "%", id="kagoshima-doc-space"),
    case(
        "血圧、血糖、脂質の未治療者において健診受診月から10か月以内に医療機関を受診した者の割合（※）を対前年度以上とする",
        YOY_MIN,
        id="kagoshima-doc-10か月以内-in-name",
    ),
    case(
        "健診受診月から10か月以内に医療機関を受診した者の割合を対前年度以上とする",
        YOY_MIN,
        id="kpi-name-with-以内",
    ),
    case(
        "ジェネリック医薬品使用割合（数量ベース）（※）を年度末時点で対前年度末以上とする",
        YOY_MIN,
        id="kagoshima-doc-対前年度末",
    ),
    case(
        "バイオシミラー使用促進事業を開始し、医療機関や関係者への働きかけを実施する。",
        DONE,
        id="kagoshima-doc-働きかけを実施する",
    ),
    case(
        "全被保険者数に占める健康保険委員が委嘱されている事業所の被保険者数の割合を 54.7%以上とする",
        MIN,
        "54.7",
        None,
        "%",
        id="kagoshima-doc-54.7",
    ),
    case("健康保険委員の委嘱事業所数を前年度以上とする", YOY_MIN, id="kagoshima-doc-委嘱事業所数"),
    case(
        "■ KPI : 一般競争入札に占める一者応札案件の割合について、15%以下とする",
        MAX,
        "15",
        None,
        "%",
        id="kagoshima-doc-について、",
    ),
    case("健康宣言事業所数を 1,310 事業所以上とする", MIN, "1310", None, "事業所", id="kagoshima-doc-spaced-count"),
    case("対前年度 (93.3%) 以上", YOY_MIN, None, "93.3", "%", id="kagoshima-cell-stated-baseline-spaces"),
    case("対前年度 (0.154%) 以上", YOY_MIN, None, "0.154", "%", id="kagoshima-cell-0.154"),
    case("対前年度 (11,378円) 以上", YOY_MIN, None, "11378", "円", id="kagoshima-cell-yen-baseline"),
    case("対前年度末 (88.0%) 以上", YOY_MIN, None, "88.0", "%", id="kagoshima-cell-対前年度末-baseline"),
    case("対前年度 (2,955事業所) 以上", YOY_MIN, None, "2955", "事業所", id="kagoshima-cell-office-baseline"),
    case("関係機関への 働きかけ", DONE, id="kagoshima-cell-働きかけ-space"),
    case("1,310事業所以上", MIN, "1310", None, "事業所", id="kagoshima-cell-1310"),
    case("15.0%以下", MAX, "15.0", None, "%", id="kagoshima-cell-15.0"),
    case("7日以内", MAX, "7", None, "日", id="kagoshima-cell-7日以内"),
    case("-", NONE, id="kagoshima-cell-hyphen"),
    case(
        "KPI：健康宣言事業所数を 1,310 事業所（※）以上とする",
        MIN,
        "1310",
        None,
        "事業所",
        id="kagoshima-doc-footnote-before-以上",
    ),
    case(
        "サービススタンダードの平均所要日数 7 日以内を維持する。",
        MAX,
        "7",
        None,
        "日",
        id="kagoshima-doc-維持する",
    ),
    case(
        "SNS（LINE 公式アカウント）を運用し、毎月情報発信を行う（月に 1 回以上）",
        FREQ,
        id="kagoshima-doc-毎月情報発信",
    ),
    # 東京 Tokyo, 002: two-column layout breaks lines mid-word
    case("サービススタンダードの達成状況を\n100％とする", EXACT, "100", None, "%", id="tokyo-doc-100"),
    case(
        "現金給付等の申請に係る郵送化率を対\n前年度（98.4％）以上とする",
        YOY_MIN,
        None,
        "98.4",
        "%",
        id="tokyo-doc-対-split",
    ),
    case(
        "協会のレセプト点検の査定率（※）に\nついて前年度（0.087％）以上とする",
        YOY_MIN,
        None,
        "0.087",
        "%",
        id="tokyo-doc-0.087",
    ),
    case(
        "協会の再審査レセプト1件当たりの査\n定額を前年度（9,109円）以上とする",
        YOY_MIN,
        None,
        "9109",
        "円",
        id="tokyo-doc-9109円",
    ),
    case(
        "返納金債権（診療報酬返還金（不当請\n求）を除く。）の回収率を前年度\n（50.35％）以上とする",
        YOY_MIN,
        None,
        "50.35",
        "%",
        id="tokyo-doc-50.35",
    ),
    case(
        "日本年金機構回収分も含めた資格喪失\n後1か月以内の健康保険証回収率を前年度\n（70.80％）以上とする。",
        YOY_MIN,
        None,
        "70.80",
        "%",
        id="tokyo-doc-70.80",
    ),
    case("生活習慣病予防健診実施率を60.0％以\n上とする", MIN, "60.0", None, "%", id="tokyo-doc-以-split"),
    case("事業者健診データ取得率を3.8％以上\nとする", MIN, "3.8", None, "%", id="tokyo-doc-3.8"),
    case("被保険者の特定保健指導実施率を\n11.4％以上とする", MIN, "11.4", None, "%", id="tokyo-doc-11.4"),
    case(
        "健診受診月から10か月以内に医療機関を受\n診した者の割合を対前年度（31.2％）以上\nとする",
        YOY_MIN,
        None,
        "31.2",
        "%",
        id="tokyo-doc-10か月以内-stated-baseline",
    ),
    case(
        "ジェネリック医薬品使用割合（※）を年度末\n時点で前年度末（82.6％）以上とする",
        YOY_MIN,
        None,
        "82.6",
        "%",
        id="tokyo-doc-年度末時点で前年度末",
    ),
    case(
        "全被保険者数に占める健康保険委\n員が委嘱されている事業所の被保険者数の\n割合を40％以上とする",
        MIN,
        "40",
        None,
        "%",
        id="tokyo-doc-40",
    ),
    case(
        "健康保険委員の委嘱事業所数を前\n年度（10,263事業所）以上とする",
        YOY_MIN,
        None,
        "10263",
        "事業所",
        id="tokyo-doc-10263事業所",
    ),
    case(
        "一般競争入札に占める一者応札案\n件の割合について、15％以下とする",
        MAX,
        "15",
        None,
        "%",
        id="tokyo-doc-15",
    ),
    case("－", NONE, id="tokyo-cell-fullwidth-hyphen"),
    case(
        "健康宣言事業所数を2,900事業所（※）以\n上とする",
        MIN,
        "2900",
        None,
        "事業所",
        id="tokyo-doc-footnote-before-以上",
    ),
    case(
        "協会のレセプト点検の査定率（※）に\nついて前年度（0.087％）以上とする（令\n和６年度新設）",
        YOY_MIN,
        None,
        "0.087",
        "%",
        id="tokyo-doc-trailing-note",
    ),
    # 岐阜 Gifu, 000: table cells
    case("設定なし", NONE, id="gifu-cell-設定なし"),
    case("100％", EXACT, "100", None, "%", id="gifu-cell-100"),
    case("122.4円以下", MAX, "122.4", None, "円", id="gifu-cell-yen-max"),
    case("0.121％以上", MIN, "0.121", None, "%", id="gifu-cell-0.121"),
    case("8,889円以上", MIN, "8889", None, "円", id="gifu-cell-yen-min"),
    case("5,420以上", MIN, "5420", None, "", id="gifu-cell-no-unit"),
    case("前年度以上", YOY_MIN, id="gifu-cell-前年度以上"),
    # Other spellings of the same rules
    case("１００％とする", EXACT, "100", None, "%", id="fullwidth-digits-exact"),
    case("７１．７％以上", MIN, "71.7", None, "%", id="fullwidth-digits-fixed"),
    case("１，３３０事業所以上", MIN, "1330", None, "事業所", id="fullwidth-comma"),
    case("７日以内", MAX, "7", None, "日", id="fullwidth-days"),
    case("対前年度（９３．３％）以上", YOY_MIN, None, "93.3", "%", id="fullwidth-baseline"),
    case(" 71.7 ％ 以上 ", MIN, "71.7", None, "%", id="stray-spaces"),
    case("71.7％\r\n以上", MIN, "71.7", None, "%", id="crlf"),
    case("71.7％以上とする。", MIN, "71.7", None, "%", id="sentence-end-。"),
    case("71.7％以上を目標とする", MIN, "71.7", None, "%", id="を目標とする"),
    case("0.0%以上", MIN, "0.0", None, "%", id="zero"),
    case("月に1回以上", FREQ, id="月に1回以上"),
    case("月1回以上", FREQ, id="月1回以上"),
    case("毎月実施", FREQ, id="毎月実施"),
    case("実施する", DONE, id="実施する"),
    case("働きかけ", DONE, id="働きかけ"),
    case("対前年度以下", YOY_MAX, id="対前年度以下"),
    case("対前年度実績以上", YOY_MIN, id="対前年度実績以上"),
    case("", NONE, id="empty"),
    case("なし", NONE, id="なし"),
    case("対象外", NONE, id="対象外"),
    case("【KPI】71.7％以上", MIN, "71.7", None, "%", id="KPI-prefix"),
]


@pytest.mark.parametrize(("phrase", "kind", "value", "baseline", "unit"), FIXTURE_PHRASES + DOCUMENT_PHRASES)
def test_it_parses_every_seed_target_phrase(
    phrase: str, kind: RuleKind, value: str | None, baseline: str | None, unit: str
) -> None:
    rule = parse_target(phrase)

    assert rule.kind is kind
    assert rule.value == (D(value) if value is not None else None)
    assert rule.baseline == (D(baseline) if baseline is not None else None)
    assert rule.unit == unit
    assert rule.text == phrase


def test_parsed_values_keep_the_printed_decimals() -> None:
    assert str(parse_target("96.0％以上").value) == "96.0"
    assert str(parse_target("前年度（70.80％）以上").baseline) == "70.80"
    assert str(parse_target("1,330事業所以上").value) == "1330"


def test_the_phrase_table_covers_every_fixture_target_text() -> None:
    table = {p.values[0] for p in FIXTURE_PHRASES}  # type: ignore[attr-defined]
    for path in sorted(SEED_DIR.glob("*.json")):
        if path.name == "catalog.json":
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        for plan in data["plans"]:
            for kpi in plan["kpis"]:
                text = kpi.get("target_text") or ""
                if text:
                    assert text in table, f"{path.name} {plan['fiscal_year']} {kpi['kpi']}: {text!r}"


def test_rule_flags() -> None:
    assert parse_target("対前年度以上").is_yoy
    assert not parse_target("71.7％以上").is_yoy


# --------------------------------------------------------------------------------------------------
# Parsing: malformed phrases
# --------------------------------------------------------------------------------------------------

MALFORMED = [
    pytest.param("以上", id="operator-only"),
    pytest.param("以下とする", id="operator-sentence-only"),
    pytest.param("とする", id="sentence-end-only"),
    pytest.param("。", id="full-stop-only"),
    pytest.param("71..7%以上", id="double-dot"),
    pytest.param("71.7.5%以上", id="two-dots"),
    pytest.param("71.7%以上以上", id="operator-twice"),
    pytest.param("対前年度(abc)以上", id="baseline-not-a-number"),
    pytest.param("対前年度", id="yoy-without-operator"),
    pytest.param("・72.2%以上・委嘱事業所数対前年度以上", id="two-targets-bulleted"),
    pytest.param("・72.2%以上\n\n・委嘱事業所数\n\n対前年度以上", id="two-targets-tochigi-cell"),
    pytest.param("72.2%以上・委嘱事業所数対前年度以上", id="two-targets-no-leading-bullet"),
    pytest.param("委嘱事業所数対前年度以上・72.2%以上", id="two-targets-yoy-first"),
    pytest.param("健診受診月から10か月以内に医療機関を受診した者の割合", id="bare-name-with-以内"),
    pytest.param("【KPI】受診勧奨後、３か月以内に医療機関を受診した者の割合", id="bare-name-with-か月以内"),
    pytest.param("健康宣言事業所数1,570事業所以上", id="name-glued-to-target"),
    pytest.param("100", id="number-without-unit-or-condition"),
    pytest.param("未定", id="未定"),
    pytest.param("未実施", id="未実施-is-an-actual-not-a-target"),
    pytest.param("abc", id="latin-text"),
    pytest.param("-5%以上", id="negative"),
]


@pytest.mark.parametrize("phrase", MALFORMED)
def test_it_rejects_malformed_phrases_naming_them(phrase: str) -> None:
    with pytest.raises(TargetParseError) as excinfo:
        parse_target(phrase)

    assert excinfo.value.text == phrase
    assert f"「{phrase}」" in str(excinfo.value)
    assert excinfo.value.reason
    assert isinstance(excinfo.value, ValueError)


def test_two_targets_are_reported_as_two_targets() -> None:
    with pytest.raises(TargetParseError, match="複数の目標"):
        parse_target("・72.2%以上・委嘱事業所数対前年度以上")


# --------------------------------------------------------------------------------------------------
# Judging: Tochigi's FY2023 table (004_92917589d574a77c.txt, the first table) against its printed marks
# --------------------------------------------------------------------------------------------------

# (code, 令和５年度目標 as printed in the cell, 令和５年度実績, 令和４年度実績 (baseline for yoy rules),
#  catalog precision, catalog direction, printed mark). Row (2)'s target cell prints a bare "96.0%" (the 以上 is
#  only in the KPI sentence), so that row uses the sentence.
TOCHIGI_FY2023 = [
    ("service_standard_rate", "100%", "100", "100", 2, "higher", PLANNED),
    ("mail_application_rate", "現金給付等の申請に係る郵送化率を96.0％以上とする", "93.9", "93.9", 1, "higher", BELOW),
    ("judo_multi_visit_rate", "対前年度\n\n以下", "0.94", "0.95", 2, "lower", PLANNED),
    ("receipt_assessment_rate", "対前年度\n\n以上", "0.418", "0.371", 3, "higher", PLANNED),
    ("reexam_amount_per_claim", "対前年度\n\n以上", "6535", "5684", 0, "higher", PLANNED),
    ("card_recovery_rate", "対前年度\n\n以上", "86.64", "89.48", 2, "higher", BELOW),
    ("refund_recovery_rate", "対前年度\n\n以上", "62.60", "67.68", 2, "higher", BELOW),
    ("dependent_confirmation_rate", "94.0％\n\n以上", "89.60", "90.50", 2, "higher", BELOW),
    ("lifestyle_checkup_rate", "71.7%\n\n以上", "72.2", "71.9", 1, "higher", ABOVE),
    ("employer_checkup_data_rate", "8.6%\n\n以上", "8.9", "9.4", 1, "higher", ABOVE),
    ("dependent_checkup_rate", "33.2%\n\n以上", "30.7", "30.9", 1, "higher", BELOW),
    ("insured_guidance_rate", "34.5％\n\n以上", "28.7", "25.0", 1, "higher", BELOW),
    ("dependent_guidance_rate", "18.9%\n\n以上", "19.9", "19.3", 1, "higher", ABOVE),
    ("medical_visit_rate", "13.1%\n\n以上", "13.1", "12.6", 1, "higher", PLANNED),
    ("health_declaration_offices", "1,330事業所\n\n以上", "1,529", "1,325", 0, "higher", ABOVE),
    ("health_committee_coverage", "72.0％\n\n以上", "72.0", "70.9", 1, "higher", PLANNED),
    ("generic_drug_share", "対前年度\n\n以上", "83.8", "82.0", 1, "higher", PLANNED),
    ("opinion_statements", "実施", "実施", "実施", 0, "none", PLANNED),
    ("single_bid_ratio", "20%\n\n以下", "0.0", "0.0", 1, "lower", ABOVE),
]


@pytest.mark.parametrize(
    ("target", "actual", "last_year", "precision", "direction", "printed"),
    [pytest.param(*row[1:], id=row[0]) for row in TOCHIGI_FY2023],
)
def test_it_gives_tochigi_fy2023_kpis_their_published_marks(
    target: str, actual: str, last_year: str, precision: int, direction: str, printed: Mark
) -> None:
    rule = parse_target(target)
    baseline = to_decimal(last_year) if rule.is_yoy else None

    mark = judge(rule, actual, baseline=baseline, precision=precision, direction=direction)

    assert mark is printed


def test_tochigi_table_has_all_19_rows() -> None:
    assert len(TOCHIGI_FY2023) == 19
    assert len({row[0] for row in TOCHIGI_FY2023}) == 19


# --------------------------------------------------------------------------------------------------
# Judging: edge cases
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("actual", [None, ""], ids=["none", "empty"])
def test_no_actual_has_no_mark(actual: object) -> None:
    assert judge(parse_target("71.7％以上"), actual, precision=1) is None  # type: ignore[arg-type]
    assert judge(parse_target("対前年度以上"), actual, baseline=D("82.0")) is None  # type: ignore[arg-type]
    assert judge(parse_target("実施"), actual) is None  # type: ignore[arg-type]


def test_yoy_without_a_baseline_has_no_mark() -> None:
    assert judge(parse_target("対前年度以上"), "83.8", precision=1) is None
    assert judge(parse_target("対前年度以下"), "0.94", precision=2) is None


def test_stated_baseline_wins_over_the_passed_baseline() -> None:
    rule = parse_target("対前年度 (93.3%) 以上")

    assert judge(rule, "93.5", baseline=D("94.0"), precision=1) is PLANNED  # 93.5 ≥ stated 93.3
    assert judge(rule, "93.2", baseline=D("90.0"), precision=1) is BELOW  # 93.2 < stated 93.3
    assert judge(rule, "93.3", precision=1) is PLANNED  # no baseline needed when stated
    assert reference_value(rule, D("94.0")) == D("93.3")


def test_yoy_met_or_beaten_is_as_planned_never_above() -> None:
    rule = parse_target("対前年度以上")
    assert judge(rule, "90.0", baseline=D("80.0"), precision=1) is PLANNED
    assert judge(rule, "80.0", baseline=D("80.0"), precision=1) is PLANNED
    assert judge(rule, "79.9", baseline=D("80.0"), precision=1) is BELOW
    lower = parse_target("対前年度以下")
    assert judge(lower, "0.94", baseline=D("0.95"), precision=2) is PLANNED
    assert judge(lower, "0.96", baseline=D("0.95"), precision=2) is BELOW


def test_it_compares_at_the_published_precision() -> None:
    rule = parse_target("13.1％以上")

    assert judge(rule, "13.07", precision=1) is PLANNED  # published as 13.1
    computed = D(1044) / D(7986) * 100  # 13.0729…
    assert judge(rule, computed, precision=1) is PLANNED
    assert judge(rule, computed) is BELOW  # unrounded, it misses
    assert judge(rule, "13.049", precision=1) is BELOW  # 13.0


def test_it_rounds_half_up_not_to_even() -> None:
    assert judge(parse_target("13.1％以上"), "13.05", precision=1) is PLANNED  # 13.05 → 13.1
    assert judge(parse_target("2%以上"), "2.5", precision=0) is ABOVE  # 2.5 → 3 (half-even would give 2)
    assert round_published(D("0.5"), 0) == 1
    assert round_published(D("2.5"), 0) == 3
    assert round_published(D("-2.5"), 0) == -3
    assert round_published(D("13.0729"), None) == D("13.0729")


def test_it_rounds_the_yoy_baseline_too() -> None:
    # Last year 82.04 is published as 82.0; this year's 82.0 meets it.
    assert judge(parse_target("対前年度以上"), "82.0", baseline=D("82.04"), precision=1) is PLANNED


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("実施", PLANNED),
        ("実施済み", PLANNED),
        ("〇", PLANNED),
        (True, PLANNED),
        ("未実施", BELOW),
        (False, BELOW),
        ("検討中", None),
    ],
    ids=["実施", "実施済み", "maru-kanji", "true", "未実施", "false", "unknown-word"],
)
def test_qualitative_done_is_as_planned(actual: object, expected: Mark | None) -> None:
    assert judge(parse_target("実施"), actual) is expected  # type: ignore[arg-type]
    assert judge(parse_target("関係機関への働きかけ"), actual) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("actual", "expected"),
    [(12, PLANNED), ("12", PLANNED), (11, BELOW), (0, BELOW), ("毎月実施", PLANNED), ("未実施", BELOW), ("?", None)],
    ids=["12-months", "12-text", "11-months", "0-months", "毎月実施", "未実施", "unreadable"],
)
def test_frequency_needs_every_month(actual: object, expected: Mark | None) -> None:
    assert judge(parse_target("毎月"), actual) is expected  # type: ignore[arg-type]


def test_exact_100_percent_target() -> None:
    rule = parse_target("100％とする")

    assert judge(rule, "100", precision=2) is PLANNED
    assert judge(rule, "100.00", precision=2) is PLANNED
    assert judge(rule, "99.99", precision=2) is BELOW
    assert judge(rule, "99.99", precision=2, direction="higher") is BELOW
    assert judge(rule, "99.995", precision=2) is PLANNED  # published as 100.00


def test_exact_target_passed_the_good_way_is_as_planned() -> None:
    rule = parse_target("95.6％")  # Gifu 郵送化率

    assert judge(rule, "96.0", precision=1, direction="higher") is PLANNED
    assert judge(rule, "96.0", precision=1, direction="lower") is BELOW
    assert judge(rule, "96.0", precision=1) is BELOW  # without a direction only the exact value is
    assert judge(rule, "95.6", precision=1) is PLANNED


@pytest.mark.parametrize(
    ("target", "actual", "expected"),
    [
        ("20％以下", "0.0", ABOVE),
        ("20％以下", "20.0", PLANNED),
        ("20％以下", "20.1", BELOW),
        ("7日以内", "5.08", ABOVE),
        ("7日以内", "7", PLANNED),
        ("122.4円以下", "121.8", ABOVE),
        ("71.7％以上", "72.2", ABOVE),
        ("71.7％以上", "71.7", PLANNED),
        ("71.7％以上", "71.6", BELOW),
    ],
)
def test_fixed_target_beaten_met_missed(target: str, actual: str, expected: Mark) -> None:
    assert judge(parse_target(target), actual, precision=1) is expected


@pytest.mark.parametrize("actual", ["72.0", 72, 72.0, D("72.0"), "７２．０％", "72.0%"])
def test_it_reads_actuals_of_any_numeric_shape(actual: object) -> None:
    assert judge(parse_target("72.0％以上"), actual, precision=1) is PLANNED  # type: ignore[arg-type]


def test_it_reads_thousands_separators_in_actuals() -> None:
    assert to_decimal("1,529") == 1529
    assert judge(parse_target("1,330事業所以上"), "1,529", precision=0) is ABOVE


def test_a_text_actual_on_a_numeric_rule_has_no_mark() -> None:
    assert judge(parse_target("71.7％以上"), "実施", precision=1) is None
    assert judge(parse_target("71.7％以上"), True, precision=1) is None


@pytest.mark.parametrize("actual", ["100", "実施", 12, None])
def test_rule_none_has_no_mark(actual: object) -> None:
    assert judge(parse_target("設定なし"), actual) is None  # type: ignore[arg-type]
    assert judge(parse_target("－"), actual) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("actual", ["NaN", float("nan"), "Infinity", float("inf")], ids=["NaN", "nan", "Inf", "inf"])
def test_a_non_finite_actual_has_no_mark(actual: object) -> None:
    assert judge(parse_target("71.7％以上"), actual, precision=1) is None  # type: ignore[arg-type]


def test_reference_value() -> None:
    assert reference_value(parse_target("71.7％以上")) == D("71.7")
    assert reference_value(parse_target("100％とする")) == D("100")
    assert reference_value(parse_target("対前年度以上"), D("82.0")) == D("82.0")
    assert reference_value(parse_target("対前年度以上")) is None
    assert reference_value(parse_target("実施")) is None
    assert reference_value(parse_target("設定なし"), D("1")) is None


def test_mark_labels_follow_the_tochigi_legend() -> None:
    assert ABOVE.label == "計画を上回る実施状況"
    assert PLANNED.label == "計画どおりの実施状況"
    assert BELOW.label == "計画を下回る実施状況"


def test_marks_carry_their_rank_css_class_and_choices() -> None:
    assert [m.rank for m in Mark] == [3, 2, 1]
    assert rules.mark_rank(None) == 0 < BELOW.rank
    assert [m.css for m in Mark] == ["mark-above", "mark-planned", "mark-below"]
    assert rules.mark_css(None) == "mark-none"
    assert Mark.choices() == [("◎", "◎ 計画を上回る"), ("○", "○ 計画どおり"), ("△", "△ 計画を下回る")]



# --------------------------------------------------------------------------------------------------
# Mid-year projection
# --------------------------------------------------------------------------------------------------


def test_cumulative_projection_follows_last_years_shape() -> None:
    projection = project_year_end(
        parse_target("71.7％以上"),
        basis=Basis.CUMULATIVE,
        latest=D("30.0"),
        months_elapsed=6,
        last_year_same_month=D("28.0"),
        last_year_end=D("70.0"),
        precision=1,
    )

    assert projection == Projection(
        value=D("75.0"), method=ProjectionMethod.LAST_YEAR_SHAPE, months_elapsed=6, mark_if_held=ABOVE
    )
    assert projection.on_track is True


def test_cumulative_projection_is_linear_without_last_year() -> None:
    # Gifu 生活習慣病予防健診 26.3% at the end of September (month 6) against 66.5%以上.
    projection = project_year_end(
        parse_target("66.5％以上"), basis="cumulative", latest=D("26.3"), months_elapsed=6, precision=1
    )

    assert projection.value == D("52.6")
    assert projection.method is ProjectionMethod.LINEAR
    assert projection.mark_if_held is BELOW
    assert projection.on_track is False


def test_cumulative_projection_with_zero_last_year_same_month_falls_back_to_linear() -> None:
    projection = project_year_end(
        parse_target("8.6％以上"),
        basis="cumulative",
        latest=D("1.0"),
        months_elapsed=3,
        last_year_same_month=D("0"),
        last_year_end=D("9.4"),
        precision=1,
    )

    assert projection.method is ProjectionMethod.LINEAR
    assert projection.value == D("4.0")  # 1.0 × 12 ÷ 3


def test_cumulative_percent_projection_is_capped_at_100() -> None:
    projection = project_year_end(
        parse_target("94.0％以上"), basis="cumulative", latest=D("60.0"), months_elapsed=6, precision=1
    )

    assert projection.value == D("100.0")
    assert projection.mark_if_held is ABOVE


def test_cumulative_count_projection_is_not_capped() -> None:
    projection = project_year_end(
        parse_target("1,330事業所以上"), basis="cumulative", latest=D("600"), months_elapsed=6, precision=0
    )

    assert projection.value == D("1200")


def test_cumulative_percent_projection_with_a_yoy_target_is_capped_at_100() -> None:
    # 「対前年度以上」 carries no unit, so the KPI's own unit is passed in.
    projection = project_year_end(
        parse_target("対前年度以上"),
        basis="cumulative",
        latest=D("60.0"),
        months_elapsed=6,
        baseline=D("90.50"),
        precision=1,
        unit="%",
    )

    assert projection.value == D("100.0")
    assert projection.mark_if_held == "○"


def test_year_to_date_projection_holds_its_level() -> None:
    # Gifu 郵送化率 96.0% (R6.9) against 95.6％: a level, held to the year end.
    projection = project_year_end(
        parse_target("95.6％"),
        basis="year_to_date",
        latest=D("96.0"),
        months_elapsed=6,
        precision=1,
        direction="higher",
    )

    assert projection == Projection(D("96.0"), ProjectionMethod.LEVEL, 6, PLANNED)


def test_year_to_date_projection_carries_last_years_drift() -> None:
    projection = project_year_end(
        parse_target("96.0％以上"),
        basis=Basis.YEAR_TO_DATE,
        latest=D("93.4"),
        months_elapsed=8,
        last_year_same_month=D("94.0"),
        last_year_end=D("93.9"),
        precision=1,
    )

    assert projection.value == D("93.3")
    assert projection.method is ProjectionMethod.LAST_YEAR_DRIFT
    assert projection.mark_if_held is BELOW


def test_single_month_projection_with_a_yoy_target() -> None:
    rule = parse_target("対前年度以上")
    held = project_year_end(
        rule, basis="single_month", latest=D("84.3"), months_elapsed=6, baseline=D("83.5"), precision=1
    )
    assert held == Projection(D("84.3"), ProjectionMethod.LEVEL, 6, PLANNED)
    assert held.on_track is True

    unknown = project_year_end(rule, basis="single_month", latest=D("84.3"), months_elapsed=6, precision=1)
    assert unknown.mark_if_held is None
    assert unknown.on_track is None


def test_running_total_projection_continues_this_years_pace() -> None:
    # Gifu 健康宣言事業所数: 1,240 at the end of FY2023, 1,481 at month 6 → +241 in 6 months → 1,722.
    projection = project_year_end(
        parse_target("1,570事業所以上"),
        basis="running_total",
        latest=D("1481"),
        months_elapsed=6,
        last_year_end=D("1240"),
        precision=0,
    )

    assert projection == Projection(D("1722"), ProjectionMethod.TREND, 6, ABOVE)


def test_running_total_projection_without_last_year_is_none() -> None:
    # No year-end to measure this year's pace from: holding 1,481 would call a growing count short.
    projection = project_year_end(
        parse_target("1,570事業所以上"), basis="running_total", latest=D("1481"), months_elapsed=6, precision=0
    )

    assert projection is None


@pytest.mark.parametrize("basis", list(Basis))
def test_month_12_projection_is_the_level(basis: Basis) -> None:
    projection = project_year_end(
        parse_target("71.7％以上"),
        basis=basis,
        latest=D("71.7"),
        months_elapsed=12,
        last_year_same_month=D("70.0"),
        last_year_end=D("71.9"),
        precision=1,
    )

    assert projection == Projection(D("71.7"), ProjectionMethod.LEVEL, 12, PLANNED)


def test_projection_without_precision_keeps_full_value() -> None:
    projection = project_year_end(parse_target("10％以上"), basis="cumulative", latest=D("1"), months_elapsed=8)
    assert projection.value == D("1.5")


@pytest.mark.parametrize("months", [0, -1, 13])
def test_months_elapsed_out_of_range_raises(months: int) -> None:
    with pytest.raises(ValueError, match="months_elapsed"):
        project_year_end(parse_target("71.7％以上"), basis="cumulative", latest=D("30"), months_elapsed=months)


def test_unknown_basis_raises() -> None:
    with pytest.raises(ValueError):
        project_year_end(parse_target("71.7％以上"), basis="weekly", latest=D("30"), months_elapsed=6)


def test_target_rule_is_immutable() -> None:
    rule = TargetRule(RuleKind.FIXED_MIN, "71.7％以上", value=D("71.7"), unit="%")
    with pytest.raises(AttributeError):
        rule.value = D("1")  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# Parsing: phrasings the seeds do not contain, each read right or refused (issue 10)
# --------------------------------------------------------------------------------------------------

LIST_MARKED = [
    pytest.param("① 65.0％以上", "65.0", "%", id="circled-space"),
    pytest.param("①65.0％以上", "65.0", "%", id="circled-glued"),
    pytest.param("②　2,100事業所以上", "2100", "事業所", id="circled-ideographic-space"),
    pytest.param("⑳ 65.0％以上", "65.0", "%", id="circled-20"),
    pytest.param("❶65.0％以上", "65.0", "%", id="dingbat-negative-circled"),
    pytest.param("⑴65.0％以上", "65.0", "%", id="parenthesized-digit-char"),
    pytest.param("⒈ 65.0％以上", "65.0", "%", id="digit-full-stop-char"),
    pytest.param("（１）65.0％以上", "65.0", "%", id="full-width-bracketed"),
    pytest.param("(1) 65.0%以上", "65.0", "%", id="half-width-bracketed"),
    pytest.param("(12)65.0%以上", "65.0", "%", id="bracketed-two-digits"),
    pytest.param("1) 65.0%以上", "65.0", "%", id="digit-paren"),
    pytest.param("１）65.0％以上", "65.0", "%", id="full-width-digit-paren"),
    pytest.param("1. 65.0%以上", "65.0", "%", id="digit-dot"),
    pytest.param("ア 65.0%以上", "65.0", "%", id="katakana"),
    pytest.param("（イ）65.0％以上", "65.0", "%", id="bracketed-katakana"),
    pytest.param("・65.0%以上", "65.0", "%", id="bullet"),
    pytest.param("Ⅱ 65.0%以上", "65.0", "%", id="roman"),
    pytest.param("【KPI】① 生活習慣病予防健診実施率を65.0%以上とする", "65.0", "%", id="kpi-label-then-marker"),
    pytest.param("③ 健康宣言事業所数を2,100事業所以上とする", "2100", "事業所", id="marker-before-sentence"),
]


@pytest.mark.parametrize(("phrase", "value", "unit"), LIST_MARKED)
def test_a_leading_list_marker_never_joins_the_figure(phrase: str, value: str, unit: str) -> None:
    rule = parse_target(phrase)

    assert (rule.kind, rule.value, rule.unit) == (MIN, D(value), unit)
    assert str(rule.value) == value


@pytest.mark.parametrize(
    "phrase",
    [
        pytest.param("健康宣言事業所数②2,100事業所以上", id="circled-inside"),
        pytest.param("65.0①％以上", id="circled-inside-figure"),
    ],
)
def test_a_list_marker_inside_the_phrase_is_refused(phrase: str) -> None:
    with pytest.raises(TargetParseError) as excinfo:
        parse_target(phrase)

    assert excinfo.value.reason == rules.REASON_MARKER_INSIDE


@pytest.mark.parametrize(
    "phrase",
    [
        pytest.param("1 65.0%以上", id="bare-digit-marker"),
        pytest.param("71 .7%以上", id="space-before-point"),
        pytest.param("１　６５．０％以上", id="full-width-spaced"),
    ],
)
def test_digits_apart_by_a_space_are_refused_not_joined(phrase: str) -> None:
    with pytest.raises(TargetParseError) as excinfo:
        parse_target(phrase)

    assert excinfo.value.reason == rules.REASON_SPACED_DIGITS


def test_a_digit_dot_glued_to_the_figure_is_refused() -> None:
    with pytest.raises(TargetParseError):
        parse_target("１．65.0％以上")


@pytest.mark.parametrize(
    "phrase",
    [
        pytest.param("健康宣言事業所数を2,000事業所以上とする 1,600事業所以上", id="sentence-then-last-year-cell"),
        pytest.param("健康宣言事業所数を2,000事業所以上とする1,600事業所以上", id="glued"),
        pytest.param("2,000事業所以上 1,600事業所以上", id="two-cells"),
        pytest.param("2,000事業所 1,600事業所以上", id="first-without-operator"),
        pytest.param("71.7％以上 対前年度以上", id="fixed-then-yoy"),
        pytest.param("対前年度以上とする 71.7％以上", id="yoy-sentence-then-fixed"),
        pytest.param("71.7%以上※2,000事業所以上", id="after-a-footnote"),
    ],
)
def test_two_targets_in_one_row_are_refused_never_one_picked(phrase: str) -> None:
    with pytest.raises(TargetParseError) as excinfo:
        parse_target(phrase)

    assert excinfo.value.reason == rules.REASON_TWO_TARGETS


@pytest.mark.parametrize(
    "phrase",
    [
        pytest.param("71.7％以上※", id="mark"),
        pytest.param("71.7％以上※1", id="numbered"),
        pytest.param("71.7％以上\n※", id="next-line"),
        pytest.param("71.7％以上\n\n※2", id="numbered-next-line"),
        pytest.param("71.7％以上（※1）", id="bracketed"),
        pytest.param("71.7％以上¹", id="superscript"),
        pytest.param("生活習慣病予防健診実施率を71.7％以上とする※1", id="sentence-numbered"),
        pytest.param("生活習慣病予防健診実施率を71.7％以上とする。※", id="sentence-full-stop"),
        pytest.param("71.7％※以上", id="before-operator"),
    ],
)
def test_footnote_marks_after_the_target_are_ignored(phrase: str) -> None:
    rule = parse_target(phrase)

    assert (rule.kind, rule.value, rule.unit) == (MIN, D("71.7"), "%")


@pytest.mark.parametrize("phrase", ["※KPIは削除", "KPIは削除", "※削除", "削除", "（削除）", "※ＫＰＩは削除"])
def test_a_deleted_kpi_raises_kpi_deleted(phrase: str) -> None:
    with pytest.raises(rules.KpiDeleted) as excinfo:
        parse_target(phrase)

    assert isinstance(excinfo.value, TargetParseError)  # callers that do not know it refuse it
    assert excinfo.value.reason == rules.REASON_KPI_DELETED
    assert excinfo.value.text == phrase


@pytest.mark.parametrize(
    ("phrase", "kind", "year"),
    [
        ("令和5年度実績以上", YOY_MIN, 2023),
        ("令和５年度実績以上", YOY_MIN, 2023),
        ("令和5年度末実績以下", YOY_MAX, 2023),
        ("R5年度実績以上", YOY_MIN, 2023),
        ("令和元年度実績以上", YOY_MIN, 2019),
        ("健康宣言事業所数を令和5年度実績以上とする", YOY_MIN, 2023),
    ],
)
def test_a_yoy_rule_naming_its_year_keeps_the_year(phrase: str, kind: RuleKind, year: int) -> None:
    rule = parse_target(phrase)

    assert (rule.kind, rule.value, rule.baseline, rule.baseline_year) == (kind, None, None, year)
    assert parse_target(phrase, fiscal_year=year + 1).kind is kind


def test_a_yoy_rule_naming_another_year_than_last_is_refused() -> None:
    with pytest.raises(TargetParseError) as excinfo:
        parse_target("令和4年度実績以上", fiscal_year=2024)

    assert excinfo.value.reason == rules.REASON_NOT_LAST_YEAR.format(named=2022, previous=2023)
    assert excinfo.value.reason == "基準の年度（2022年度）が前年度（2023年度）ではありません"


def test_a_plain_yoy_rule_has_no_named_year() -> None:
    assert parse_target("対前年度以上", fiscal_year=2024).baseline_year is None


@pytest.mark.parametrize("phrase", ["毎月1回以上", "毎月１回以上", "毎月1回以上実施", "広報を毎月1回以上実施する"])
def test_monthly_once_or_more_is_frequency(phrase: str) -> None:
    assert parse_target(phrase).kind is FREQ


@pytest.mark.parametrize(
    ("phrase", "kind", "value"),
    [
        ("12回以上", MIN, "12"),
        ("セミナーの開催回数を４回以上とする", MIN, "4"),
        ("2回以下", MAX, "2"),
        ("6回", EXACT, "6"),
    ],
)
def test_counts_in_回_carry_their_unit(phrase: str, kind: RuleKind, value: str) -> None:
    rule = parse_target(phrase)

    assert (rule.kind, rule.value, rule.unit) == (kind, D(value), "回")


@pytest.mark.parametrize("phrase", ["月2回以上", "٣٣%以上"])
def test_other_counts_per_month_and_non_ascii_digits_are_refused(phrase: str) -> None:
    with pytest.raises(TargetParseError):
        parse_target(phrase)


# --------------------------------------------------------------------------------------------------
# Judging: a baseline or actual of any numeric shape
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("baseline", [D("82.0"), 82, 82.0, "82.0", "８２．０", "82.0%"], ids=repr)
@pytest.mark.parametrize(
    ("actual", "expected"), [(D("82.04"), PLANNED), ("81.94", BELOW), (83, PLANNED), (81.9, BELOW)]
)
def test_a_yoy_baseline_of_any_numeric_shape_judges_like_a_decimal(
    baseline: object, actual: object, expected: Mark
) -> None:
    rule = parse_target("対前年度以上")

    assert judge(rule, actual, baseline=baseline, precision=1) is expected
    assert judge(rule, actual, baseline=baseline) is judge(rule, actual, baseline=D("82.0"))


def test_an_unreadable_baseline_gives_no_mark() -> None:
    assert judge(parse_target("対前年度以上"), "90", baseline="未集計", precision=1) is None


@pytest.mark.parametrize("phrase", ["0.00%以上(1) 2.", "71.7％以上（１）　３", "20％以下 ② 5"])
def test_a_bare_figure_after_a_written_target_is_refused_not_read(phrase: str) -> None:
    """Found by the property test: a list marker and a figure after a target must never become the value."""
    with pytest.raises(TargetParseError):
        parse_target(phrase)
