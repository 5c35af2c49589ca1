"""Rendering of the committee report: HTML from a Jinja2 template, PDF with WeasyPrint.

The page is self-contained (inline CSS and SVG, no fonts or images fetched), so a saved copy
reads the same offline and WeasyPrint never reaches for the network.
"""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.metrics.report_view import ReportView
from shared.problems import Problem

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class PdfUnavailable(Problem):
    status, title, slug = 503, "PDF rendering unavailable", "pdf-unavailable"


def render_html(view: ReportView) -> str:
    """The report as one HTML page."""
    return TEMPLATES.get_template("report.html").render(v=view)


def render_pdf(html: str) -> bytes:
    """The page as PDF (slow: call it in a worker thread)."""
    try:
        import weasyprint  # imported here: it loads Pango, which only the PDF needs
    except OSError as error:  # the Python package is there but the system library is not
        raise PdfUnavailable(f"WeasyPrint cannot load its system libraries: {error}") from error
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf
