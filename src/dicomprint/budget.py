"""A pixel memory budget shared by every association of a server.

Each print session (and each store-to-film collector) reports the pixel bytes
it holds; an update that would take the total over the limit is refused, so
memory stays bounded however many associations send large images at once.
The per-session limit of the printer profile still applies on its own.
"""

from __future__ import annotations

import threading


class BudgetExceededError(Exception):
    """Holding ``requested`` more bytes would exceed the limit."""

    def __init__(self, requested: int, held: int, limit: int) -> None:
        self.requested = requested
        self.held = held
        self.limit = limit
        super().__init__(
            f"{requested} more pixel bytes would exceed the server's budget: "
            f"{held} of {limit} bytes are held"
        )


class PixelBudget:
    """Bytes held per owner, under one limit (thread-safe)."""

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError("the pixel budget must be positive")
        self.limit = limit
        self._held: dict[object, int] = {}
        self._lock = threading.Lock()

    @property
    def held(self) -> int:
        with self._lock:
            return sum(self._held.values())

    def check(self, owner: object, nbytes: int) -> None:
        """Raise BudgetExceededError if ``owner`` could not hold ``nbytes`` now (no change)."""
        with self._lock:
            self._refuse_overflow(owner, nbytes)

    def update(self, owner: object, nbytes: int) -> None:
        """Set what ``owner`` holds; raise BudgetExceededError (changing nothing) on overflow."""
        with self._lock:
            self._refuse_overflow(owner, nbytes)
            if nbytes:
                self._held[owner] = nbytes
            else:
                self._held.pop(owner, None)

    def release(self, owner: object) -> None:
        self.update(owner, 0)

    def _refuse_overflow(self, owner: object, nbytes: int) -> None:
        """Raise if ``owner`` growing to ``nbytes`` would exceed the limit (lock held)."""
        others = sum(held for key, held in self._held.items() if key is not owner)
        current = self._held.get(owner, 0)
        if nbytes > current and others + nbytes > self.limit:
            raise BudgetExceededError(nbytes - current, others + current, self.limit)
