"""The collector policy that keeps full collections (50-180 ms pauses with an SDK and Textual
loaded) out of a streaming reply: checked against the interpreter's real collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from agentchat import gc_policy


@pytest.fixture
def full_collections() -> Iterator[list[int]]:
    """Generations of the collections that run while the test does, oldest = 2."""
    seen: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc_policy.allow_full_collections()  # whatever an earlier test left postponed
    thresholds = gc.get_threshold()
    # A full collection runs only once the objects promoted since the last one exceed a quarter
    # of those it left: with the suite's objects frozen and collected away, a little churn does.
    gc.freeze()
    gc.collect()
    gc.callbacks.append(note)
    gc.set_threshold(100, 2, 2)  # small, so that a few thousand objects reach every generation
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)
        gc.set_threshold(*thresholds)
        gc_policy.allow_full_collections()
        gc.unfreeze()


def churn() -> None:
    """Long-lived cyclic objects, as a growing reply and its widgets are."""
    kept = []
    for _ in range(20_000):
        node: list[object] = []
        node.append(node)
        kept.append(node)


def test_no_full_collection_while_postponed_then_it_catches_up(full_collections: list[int]) -> None:
    gc_policy.postpone_full_collections()
    full_collections.clear()  # what ran between the fixture and here does not count
    churn()
    assert 1 in full_collections and 2 not in full_collections  # young garbage is still collected
    gc_policy.allow_full_collections()
    churn()
    assert 2 in full_collections


def test_postponing_twice_keeps_the_original_threshold(full_collections: list[int]) -> None:
    gc_policy.postpone_full_collections()
    gc_policy.postpone_full_collections()
    gc_policy.allow_full_collections()
    assert gc.get_threshold() == (100, 2, 2)
