"""The shared page frame of the printed documents (fpdf2, US Letter, core fonts)."""

from __future__ import annotations

from fpdf import FPDF

_REPLACEMENTS = {
    "\u2013": "-",
    "\u2014": "-",
    "\u2012": "-",
    "\u2212": "-",
    "\u00b7": "-",
    "\u2022": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u2192": "->",
    "\u2744": "*",
}


def latin1(text: object) -> str:
    """Text the PDF core fonts can print (they are Latin-1 only)."""
    s = str(text)
    for bad, good in _REPLACEMENTS.items():
        s = s.replace(bad, good)
    return s.encode("latin-1", "replace").decode("latin-1")


class LetterPdf(FPDF):
    """Portrait US Letter with a running footer ``title - page x of y``.

    Several documents can share one PDF (the day's manifests in one file): set :attr:`footer_text`
    before a document's first :meth:`add_page`; each page keeps the footer it started with.
    While :attr:`continued` is set, a page that starts in the middle of a section (a table running
    onto the next page) repeats it at the top, so the page says which stop or batch it continues.
    """

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.footer_text = latin1(footer_text)
        self._page_footer = self.footer_text
        #: heading repeated at the top of a page a section runs onto (``None``: nothing to repeat)
        self.continued: str | None = None
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(auto=True, margin=16)
        self.set_title(self.footer_text)
        self.set_creator("LTC Scheduler")

    def header(self) -> None:
        self._page_footer = self.footer_text
        if self.continued:
            family, style, size = self.font_family, self.font_style, self.font_size_pt
            self.set_font("helvetica", "B", 10)
            self.cell(0, 5.5, latin1(self.continued), new_x="LMARGIN", new_y="NEXT")
            self.ln(1)
            self.set_font(family, style, size)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self._page_footer} - page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def heading(self, text: str, size: int = 12) -> None:
        self.set_font("helvetica", "B", size)
        self.cell(0, size * 0.55, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def text_line(self, text: str, *, size: int = 9, style: str = "") -> None:
        self.set_font("helvetica", style, size)
        self.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def signature_line(self, label: str, width: float) -> None:
        """``label ____________`` of total ``width`` mm, on the current line."""
        self.set_font("helvetica", "", 9)
        label = latin1(label)
        lw = self.get_string_width(label) + 2
        self.cell(lw, 8, label)
        x, y = self.get_x(), self.get_y()
        self.line(x, y + 6.5, x + width - lw - 4, y + 6.5)
        self.set_x(x + width - lw)
