"""``__anext__`` of ``AsyncSubscription`` and ``AsyncConsumer``, losing nothing on cancellation.

A native awaitable that completes just as its task is cancelled (``asyncio.wait_for`` timing
out, say) has its result dropped with the cancelled future. So the native side only waits
(``_fetch``) and keeps what came; it is taken (``_take``) with nothing awaited in between, as
``asyncio.Queue.get`` does: a task cancelled during the wait leaves the message for the next
``__anext__``.
"""

from __future__ import annotations

from typing import Awaitable, Optional, Protocol, TypeVar

T = TypeVar("T", covariant=True)


class _Source(Protocol[T]):
    def _fetch(self) -> Awaitable[bool]: ...
    def _take(self) -> Optional[T]: ...


async def anext(source: _Source[T]) -> T:
    """The next item of ``source``; ``StopAsyncIteration`` at its end."""
    while await source._fetch():
        item = source._take()
        if item is not None:
            return item
    raise StopAsyncIteration
