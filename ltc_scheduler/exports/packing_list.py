"""Packing lists for the packaging technicians: one section per batch with its order lines.

The technician labels cards per resident, so rows carry the resident's **id** (never a name);
cold and controlled lines are flagged.
"""

from __future__ import annotations

import io

from fpdf.fonts import FontFace

from ltc_scheduler.exports.common import RunTag, facility_name, orders_by_id
from ltc_scheduler.exports.pdf_base import LetterPdf, latin1
from ltc_scheduler.exports.safe import SafeCsvWriter
from ltc_scheduler.plan.model import Batch, Plan
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PlanningProblem

PACKING_COLUMNS: tuple[str, ...] = (
    "batch",
    "line",
    "start",
    "end",
    "verify_end",
    "deadline",
    "facility",
    "unit",
    "kind",
    "order_class",
    "order",
    "resident_id",
    "medication",
    "cards",
    "doses",
    "cold",
    "controlled",
    "plan_run",
    "planned_at",
)

_HEAD = FontFace(emphasis="BOLD", fill_color=(226, 232, 240))


def _line_name(problem: PlanningProblem, line_id: int | None) -> str:
    if line_id is None:
        return "unscheduled"
    return next((p.name for p in problem.lines if p.id == line_id), f"Line {line_id}")


def _batches(plan: Plan, batch_keys: list[str] | None) -> list[Batch]:
    if batch_keys is None:
        return sorted(plan.batches, key=lambda b: (b.line_id or 0, b.start_min or 0, b.key))
    return [plan.batch(k) for k in batch_keys]


def packing_list_csv(
    plan: Plan, problem: PlanningProblem, batch_keys: list[str] | None = None, *, run: RunTag | None = None
) -> str:
    """One row per order line of the chosen batches (all batches when ``None``), by line and start;
    ``run`` fills the ``plan_run`` and ``planned_at`` columns."""
    by_id = orders_by_id(problem)
    run_cells = [run.run_id, f"{run.made_at:%Y-%m-%d %H:%M}"] if run is not None else ["", ""]
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(PACKING_COLUMNS)
    for b in _batches(plan, batch_keys):
        for oid in b.order_line_ids:
            o = by_id.get(oid)
            writer.writerow(
                [
                    b.key,
                    _line_name(problem, b.line_id),
                    clock(b.start_min),
                    clock(b.end_min),
                    clock(b.verify_end_min),
                    clock(b.deadline_min),
                    facility_name(problem, b.facility_id),
                    b.unit,
                    b.kind.value,
                    b.order_class.value,
                    o.external_id if o else oid,
                    o.resident_id if o else "",
                    o.medication_name if o else "",
                    o.cards if o else "",
                    o.doses if o else "",
                    "yes" if (o.cold if o else b.cold) else "no",
                    "yes" if (o.controlled if o else b.controlled) else "no",
                    *run_cells,
                ]
            )
    return out.getvalue()


def packing_list_pdf(
    plan: Plan,
    problem: PlanningProblem,
    batch_keys: list[str] | None = None,
    *,
    run: RunTag | None = None,
    page_per_batch: bool = False,
) -> bytes:
    """A printable packing list: one block per batch (line, times, facility, flags, order lines);
    the header names the plan run (``run``). ``page_per_batch``: every batch starts on a page of
    its own (the day's packing lists in one file, one sheet per batch to hand out)."""
    by_id = orders_by_id(problem)
    pdf = LetterPdf(f"{problem.depot.name} - packing list {plan.date.isoformat()}")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 15)
    pdf.cell(0, 8, latin1(f"{problem.depot.name} - packing list"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    pdf.cell(0, 5, latin1(plan.date.strftime("%A %B %d, %Y")), new_x="LMARGIN", new_y="NEXT")
    if run is not None:
        pdf.cell(0, 5, latin1(run.text().capitalize()), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for i, b in enumerate(_batches(plan, batch_keys)):
        if (page_per_batch and i > 0) or pdf.get_y() > pdf.h - 60:
            pdf.add_page()
        flags = [f for f, on in (("COLD", b.cold), ("CONTROLLED", b.controlled), ("STAT", b.stat)) if on]
        where = f"{b.key}  {facility_name(problem, b.facility_id)}{' / ' + b.unit if b.unit else ''}"
        pdf.heading(where + (f"  [{', '.join(flags)}]" if flags else ""), 11)
        pdf.text_line(
            f"{_line_name(problem, b.line_id)}: pack {clock(b.start_min)}-{clock(b.end_min)}, verified by "
            f"{clock(b.verify_end_min)}, deadline {clock(b.deadline_min)}. "
            f"{b.kind.value.replace('_', ' ')}, "
            f"{b.cards} cards, {b.totes} tote(s)",
            size=9,
        )
        pdf.ln(1)
        pdf.set_font("helvetica", "", 8)
        pdf.continued = f"{where} (continued)"
        with pdf.table(
            col_widths=(28, 22, 78, 14, 14, 14, 20),
            text_align=("LEFT", "CENTER", "LEFT", "CENTER", "CENTER", "CENTER", "CENTER"),
            headings_style=_HEAD,
            line_height=4.2,
            padding=1,
        ) as table:
            head = table.row()
            for text in ("Order #", "Resident id", "Medication", "Cards", "Doses", "Cold", "Controlled"):
                head.cell(text)
            for oid in b.order_line_ids:
                o = by_id.get(oid)
                row = table.row()
                row.cell(latin1(o.external_id if o else oid))
                row.cell(str(o.resident_id) if o else "")
                row.cell(latin1(o.medication_name) if o else "")
                row.cell(str(o.cards) if o else "")
                row.cell(str(o.doses) if o else "")
                row.cell("yes" if o and o.cold else "")
                row.cell("yes" if o and o.controlled else "")
        pdf.continued = None
        pdf.ln(4)
    return bytes(pdf.output())
