"""The one-page brief: ``dialogue brief`` and :func:`build_brief`.

``content`` computes every number and sentence from results Datasets, ``render``
lays them out as a one-page PDF and a self-contained HTML page, ``build`` writes
the pack (charts in each format, ``brief.pdf``, ``brief.html``) atomically.
"""

from model.brief.build import build_brief

__all__ = ["build_brief"]
