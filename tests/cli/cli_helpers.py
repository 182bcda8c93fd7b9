"""Helpers of the console-output tests."""

from __future__ import annotations


def lines_fit(text: str, width: int) -> bool:
    """Every line of ``text`` is at most ``width`` characters (trailing spaces ignored)."""
    return all(len(line.rstrip()) <= width for line in text.splitlines())
