"""puremagic's signature tables, matched by window: the candidates of ``puremagic.magic_string(head)``, cheaply.

puremagic compares the head with each of its ~1,400 header signatures in turn (a slice and a comparison each, in
Python): ~3.2 million instructions per call, more than a whole ``GET /media/{id}`` (``benchmarks/instructions.py``).
Those signatures sit in ~140 distinct windows (offset, length); here each window of the head is sliced once and
looked up in a dictionary of the signatures of that window. Footer signatures (8), the multi-part follow-ups and
the confidence rule are puremagic's own, in puremagic's order, so :func:`candidates` answers what
``magic_string(head)`` does (``tests/unit/test_sniff.py`` compares them signature by signature).
"""

from __future__ import annotations

from collections import defaultdict

import puremagic
from puremagic import PureMagic, PureMagicWithConfidence

__all__ = ("candidates",)

_HEAD, _FOOT = puremagic.main.max_head, puremagic.main.max_foot


def _windows() -> list[tuple[int, int, dict[bytes, list[tuple[int, PureMagic]]]]]:
    """``(offset, end, {signature: [(table index, row)]})`` per window of the header table, by ``end``."""
    by_window: dict[tuple[int, int], dict[bytes, list[tuple[int, PureMagic]]]] = defaultdict(lambda: defaultdict(list))
    for index, row in enumerate(puremagic.magic_header_array):
        by_window[row.offset, row.offset + len(row.byte_match)][row.byte_match].append((index, row))
    return sorted((offset, end, dict(rows)) for (offset, end), rows in by_window.items())


_WINDOWS = _windows()


def _confidence(match: PureMagic) -> PureMagicWithConfidence:
    length = len(match.byte_match)  # puremagic's rule without a file name: 0.<length>, 0.8 from 9 bytes on
    return PureMagicWithConfidence(*match, confidence=0.8 if length >= 9 else float(f"0.{length}"))


def candidates(data: bytes) -> list[PureMagicWithConfidence]:
    """What ``puremagic.magic_string(data)`` answers (the file name left out), without its ``PureError`` when
    nothing matches (``[]``): the matching signatures, most confident (then longest) first.

    Raises:
        ValueError: ``data`` is empty (as puremagic).
    """
    if not data:
        raise ValueError("Input was empty")
    header, footer = data[:_HEAD], data[-_FOOT:]
    size = len(header)
    found: list[tuple[int, PureMagic]] = []
    for offset, end, table in _WINDOWS:
        if end <= size and (rows := table.get(header[offset:end])):
            found.extend(rows)
    found.sort(key=lambda item: item[0])  # puremagic's table order
    matches = [row for _, row in found]
    for row in puremagic.magic_footer_array:
        end = row.offset + len(row.byte_match)
        if (footer[row.offset : end] if end != 0 else footer[row.offset :]) == row.byte_match:
            matches.append(row)
    follow_ups: set[PureMagic] = set()
    for matched in matches:
        for row in puremagic.multi_part_dict.get(matched.byte_match, ()):
            end = row.offset + len(row.byte_match)
            if row.offset < 0:
                if (footer[row.offset : end] if end != 0 else footer[row.offset :]) == row.byte_match:
                    follow_ups.add(row._replace(byte_match=matched.byte_match + row.byte_match))
            elif end <= size and header[row.offset : end] == row.byte_match:
                follow_ups.add(row._replace(byte_match=header[matched.offset : end]))
    matches.extend(follow_ups)
    scored = sorted(map(_confidence, matches), key=lambda c: (c.confidence, len(c.byte_match)), reverse=True)
    scored.sort(key=lambda c: c.confidence, reverse=True)
    return scored
