"""When Python's cyclic garbage collector may run, for both faces.

Start-up (Textual, an SDK's import) creates about a million objects that live as long as the
process. Each full collection walks all of them again: a quarter of an `ask`'s CPU, and in the TUI
a 50-180 ms pause once or twice per streamed reply, which is what made its last token
arrive late. So: no collections during start-up, its objects frozen out of later ones, and no full
collection while a reply streams (young garbage is still collected).
"""

from __future__ import annotations

import gc

NO_FULL_COLLECTION = 1 << 30  # a third threshold no count reaches
_saved_full: int | None = None  # the third threshold while full collections are postponed


def pause_for_startup() -> None:
    gc.disable()


def startup_done() -> None:
    """Freeze everything alive now out of later collections. The TUI calls it again once its
    first provider SDK is imported in the background; not later, when it would also freeze the
    garbage-to-be of an open conversation (frozen objects are never collected)."""
    gc.freeze()
    gc.enable()


def postpone_full_collections() -> None:
    """No full (oldest-generation) collection until `allow_full_collections`; young garbage is
    still collected. For the length of a streamed reply."""
    global _saved_full
    if _saved_full is None:
        young, middle, _saved_full = gc.get_threshold()
        gc.set_threshold(young, middle, NO_FULL_COLLECTION)


def allow_full_collections() -> None:
    """The next full collection catches up; call it when a pause no longer shows (the reply's
    last frame is out)."""
    global _saved_full
    if _saved_full is not None:
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, _saved_full)
        _saved_full = None
