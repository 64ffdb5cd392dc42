"""The self-contained HTML report of an analysis, in English or French.

:func:`write_report` renders an :class:`jalon.analysis.Analysis` into one
HTML file with inline CSS and SVG charts, so it opens offline and can be
mailed as an attachment.
"""

from jalon.report.render import render_report, write_report

__all__ = ["render_report", "write_report"]
