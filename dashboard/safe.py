"""Showing user-supplied text in Streamlit without letting it become markup.

Streamlit renders most text (alerts, captions, widget labels, help) as Markdown, so a
query string, a file name or an uploaded scenario's name could carry a link, an image
(fetched by the browser: a tracking pixel) or a bare URL (auto-linked by GitHub-flavoured
Markdown). Every string that did not come from this code goes through :func:`plain`,
usually via :func:`md`, which escapes the arguments of a trusted template::

    st.error(md("Upload rejected: {}", message))

``tests/test_dashboard_security.py`` checks that no Streamlit call in ``dashboard/``
is handed an f-string, ``%``/``+``/``.format`` text: they must use :func:`md`.
"""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation character; escaping all of
# them leaves no link, image, emphasis, heading, table, HTML or math syntax.
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
# GFM turns bare URLs (http://, https://, www.) and e-mail addresses into links after
# parsing, so escapes do not stop it: a word joiner (U+2060, invisible) breaks the pattern.
_WJ = "\u2060"
_AUTOLINK = re.compile(r"(?i):(?=/)|(?<=www)(?=\.)|@")
_SPACE = re.compile(r"\s+")
MAX_SHOWN = 300   # characters of one user-supplied string shown (a 5,000-character name is not read)


class Markdown(str):
    """Markdown built by :func:`md`: the template is trusted, the arguments are escaped."""


def plain(text: object, limit: int = MAX_SHOWN) -> Markdown:
    """``text`` as Markdown that renders as exactly these characters, on one line
    (whitespace runs become one space; longer than ``limit`` is cut with an ellipsis)."""
    s = _SPACE.sub(" ", str(text)).strip()
    if len(s) > limit:
        s = s[:limit - 1] + "…"
    s = _AUTOLINK.sub(lambda m: m.group(0) + _WJ, s)  # before escaping: the patterns are on raw text
    return Markdown(_PUNCT.sub(r"\\\1", s))


def md(template: str, *args: object, limit: int = MAX_SHOWN) -> Markdown:
    """``template.format(*args)`` with every argument passed through :func:`plain`
    (each cut at ``limit`` characters; the model's own sentences pass a larger one).
    Formatting in the template itself (``**{}**``) is kept; use ``{}`` placeholders only."""
    return Markdown(template.format(*(plain(a, limit) for a in args)))


def file_stem(name: str) -> str:
    """A download file name stem from a scenario name: letters, digits, ``-`` and ``_``."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:60]
    return stem or "scenario"


def checked(text: Markdown) -> Markdown:
    """Pass on Markdown built elsewhere by :func:`md` or :func:`plain`; a plain ``str``
    (possibly holding user text) is refused, so it cannot slip through a variable."""
    if not isinstance(text, Markdown):
        raise TypeError(f"expected safe.md(...) text, got {type(text).__name__}: build it with safe.md")
    return text
