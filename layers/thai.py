"""Thai text helpers: dictionary order and digits."""
from __future__ import annotations

import re

LEADING_VOWELS = "เแโใไ"
# Tone marks and a few diacritics weigh nothing at the first level of Thai dictionary order.
DIACRITICS = re.compile("[\u0e47-\u0e4e]")
_LEADING = re.compile(f"([{LEADING_VOWELS}])([\u0e01-\u0e2e])")


def thai_sort_key(text: str) -> tuple[str, str]:
    """Order Thai words as a Thai dictionary does.

    Leading vowels (เ แ โ ใ ไ) are written before the consonant but sort after it,
    and tone marks only break ties: so ไก่ sorts with ก, before ขาย.
    """
    text = str(text or "")
    primary = DIACRITICS.sub("", _LEADING.sub(r"\2\1", text))
    return primary.casefold(), text
