"""Errors of the store that ``bot/`` acts on, whatever the database engine.

A write that waits for a lock held by another connection is not an error here: the writer
waits and retries (``db/database.py``). A full disk is: nothing can be saved until an
operator frees space, and the caller decides what to do in the meantime.
"""

from __future__ import annotations


class StorageFull(Exception):
    """The database cannot grow (disk full, or a size cap): the write was not made.

    Nothing of it was committed; the same write can be tried again once there is room."""
