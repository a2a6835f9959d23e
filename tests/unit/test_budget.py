"""The processors' memory budget (mediavault.processing.budget): reservations never exceed it together, one that
alone would is refused."""

from __future__ import annotations

import threading

import pytest

from mediavault.processing.base import ProcessingError
from mediavault.processing.budget import MemoryBudget, decoded_size


def test_concurrent_reservations_never_exceed_the_budget_together() -> None:
    budget = MemoryBudget(100)
    seen: list[int] = []
    start = threading.Barrier(8)

    def decode() -> None:
        start.wait()
        for _ in range(50):
            with budget.reserve(40, "an image"):
                seen.append(budget.used)

    threads = [threading.Thread(target=decode) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 400 and max(seen) <= 80 and budget.used == 0  # at most two 40-byte decodes at once


def test_a_reservation_over_the_whole_budget_is_refused() -> None:
    budget = MemoryBudget(3 * 2**20)
    refused = pytest.raises(ProcessingError, match=r"a\.png needs about 4 MiB to decode, over the processing memory")
    with refused, budget.reserve(4 * 2**20, "a.png"):
        pass
    assert budget.used == 0


@pytest.mark.parametrize(("mode", "size"), [("L", 100), ("P", 100), ("I;16", 200), ("RGB", 400), ("RGBA", 400)])
def test_decoded_size_is_what_pillow_allocates(mode: str, size: int) -> None:
    assert decoded_size(10, 10, mode) == size
