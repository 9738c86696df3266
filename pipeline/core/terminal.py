"""Text for the terminal: what comes from a workbook or a file name is shown without control characters."""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls (U+009B is a one-character CSI), and the bidirectional
# overrides and isolates that make a line read other than it is.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """text without the characters that a terminal would act on (escape sequences, bell, carriage return)."""
    return _CONTROL.sub("", text)
