"""Plans in: read a branch's plan document (PDF or its extracted text) into a draft for review.

- ``pdf.extract_text``: the text of a PDF (pdfplumber), line order kept; text files are read as they are.
- ``matcher.KpiMatcher``: a KPI name as written → catalog code (tolerant of spacing, full-width characters,
  ① markers and small wording changes; never forced).
- ``reader.read_plan``: measures and KPI targets of one fiscal year → ``draft.Draft``.
- ``draft``: the draft's JSON (a machine interface), its fixture form and saving it as a plan.
"""
