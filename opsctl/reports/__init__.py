"""Pages people look at in a review: ``report --html``, ``opsctl review`` and ``opsctl maturity``.

Charts are hand-written inline SVG (:mod:`~opsctl.reports.svg`) inside one
self-contained HTML page (:mod:`~opsctl.reports.page`): no charting
dependency, no script, nothing fetched when the page is opened. Only the
commands that draw these pages import this package.
"""
