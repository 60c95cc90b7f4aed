"""User-facing errors.

Every problem a user can cause (a bad scenario file, flag, override or results
file) is raised as :class:`DialogueError` with a one-line message that names the
problem and, where possible, the fix. The CLI prints it and exits with code 2.
"""


class DialogueError(ValueError):
    """A problem with user input, reported as one line without a traceback."""

    def __init__(self, message: str):
        # Collapse to one line: the CLI and dashboard show this verbatim.
        super().__init__(" ".join(str(message).split()))


def number(v: float) -> str:
    """``v`` as briefly as ``:g`` writes it, unless that would hide its difference from a
    nearby number: 0.30000001 is refused for being above 0.3, so it must not read "0.3"."""
    short = f"{v:g}"
    return short if float(short) == v else repr(float(v))
