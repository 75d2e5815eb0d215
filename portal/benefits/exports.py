"""财政's funding export (.xlsx): a cycle's totals by level of government and part, and
by standard. The bank file and its results are in `portal.benefits.bank`.
"""

from __future__ import annotations

import io
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook

from portal.benefits.models import PaymentCycle
from portal.benefits.operations import step_event
from portal.benefits.rules import can_export
from portal.kernel.rules import NotAllowed
from portal.register.excel import neutralise


def funding_file(user: Any, cycle: PaymentCycle) -> bytes:
    """财政's export: the cycle's totals by government level and part, and by standard."""
    from portal.benefits import queries

    if not can_export(user):
        raise NotAllowed(_l("You do not have permission to do this."))
    wb = Workbook()
    ws = wb.active
    ws.title = "资金分担"
    ws.append(["部分", "承担层级", "金额（元）"])
    for (part, level), amount in sorted(queries.funding_totals(cycle).items()):
        ws.append([queries.PART_WORDS.get(part, part), level or "未载明", float(amount)])
    ws2 = wb.create_sheet("按扶助项目")
    ws2.append(["措施", "扶助项目", "类型", "笔数", "金额（元）"])
    for row in queries.totals_by_standard(cycle):
        ws2.append([neutralise(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    step_event("benefit_funding_exported", cycle)
    return out.getvalue()
