"""Consumers in handler form: :meth:`Namespace.consume` runs a handler in a background thread and
returns a :class:`ConsumerHandle`; :meth:`AsyncNamespace.consume` runs it in an asyncio task and
returns an :class:`AsyncConsumerHandle`. Both drive the pull form (``Consumer`` /
``AsyncConsumer``): each message goes to the handler, then is acknowledged, or, when the handler
raises an ``Exception``, reported as failed (retried, then parked or stopped, as the consumer's
``on_error`` says).

Stopping is clean: the message being handled is finished and acknowledged first, then the position
is recorded and the identity let go, so a restart hands out nothing twice. Running handler-form
consumers of this process are stopped that way at interpreter exit too (``atexit``).
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Generator, List, Literal, Optional, Set, Tuple, Type

if TYPE_CHECKING:
    from messagedb._native import (
        AsyncConsumer,
        AsyncConsumerMessage,
        AsyncNamespace,
        Consumer,
        ConsumerInfo,
        ConsumerMessage,
        Message,
        ParkedMessage,
        ReplayResult,
    )

__all__ = ["AsyncConsumerHandle", "ConsumerHandle"]

#: How long the exit hook waits for each running consumer to stop.
EXIT_TIMEOUT = 10.0

_running: Set["ConsumerHandle"] = set()
_running_lock = threading.Lock()


def _failure_text(error: BaseException) -> str:
    """An exception as a parked message records it (as ``nack`` does)."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class ConsumerHandle:
    """A consumer running a handler in a background thread (from ``Namespace.consume``).

    It first waits as a standby until it is the one active instance of its identity, then hands
    each message to the handler, in order. ``stop()`` (or leaving the ``with`` block) lets the
    message being handled finish, records the position and lets go of the identity. A store error
    ends the consumer; ``join()`` and ``stop()`` raise it. The handler must not ``ack()`` or
    ``nack()`` itself: returning acknowledges, raising an ``Exception`` fails the message.

    Examples
    --------
    >>> with ns.consume("account", "projector", print):  # doctest: +SKIP
    ...     input("running; press enter to stop")
    """

    def __init__(self, consumer: Consumer, handler: Callable[[ConsumerMessage], object]) -> None:
        self._consumer = consumer
        self._handler = handler
        # Held while a message is handled: stop() closes the consumer between messages only.
        self._busy = threading.Lock()
        self._stopping = False
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="messagedb-consumer", daemon=True)
        with _running_lock:
            _running.add(self)
        self._thread.start()

    def _run(self) -> None:
        try:
            for message in self._consumer:
                with self._busy:
                    if self._stopping:
                        break  # not handled: it is handed out again at the next start
                    try:
                        self._handler(message)
                    except Exception as error:
                        message.nack(error)
                    else:
                        message.ack()
                    if self._stopping:
                        break
        except BaseException as error:
            self._error = error
        finally:
            try:
                self._consumer.close()
            except BaseException as error:
                self._error = self._error or error
            with _running_lock:
                _running.discard(self)

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stop the consumer cleanly: the message being handled is finished, the position is
        recorded, and a standby can take over. Also ends a consumer still waiting as a standby.

        Called from the handler itself, it only asks: the consumer stops after that message.

        Parameters
        ----------
        timeout : float, optional
            How many seconds to wait at most (``None``: as long as the handler takes).

        Raises
        ------
        TimeoutError
            The handler did not finish in time; the consumer stops when it does.
        MessageDBError
            The store error that ended the consumer, or that kept the position from being recorded.
        """
        self._stopping = True
        if threading.current_thread() is self._thread:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._busy.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            raise TimeoutError(f"the consumer's handler did not finish within {timeout} s")
        try:
            self._consumer.close()  # ends a waiting iteration (or standby) and records
        except BaseException as error:
            self._error = self._error or error
        finally:
            self._busy.release()
        self.join(None if deadline is None else max(deadline - time.monotonic(), 0.0))

    def join(self, timeout: Optional[float] = None) -> None:
        """Wait until the consumer ends (stopped, its store closed, or ``on_error="stop"``).

        Raises
        ------
        TimeoutError
            It is still running after ``timeout`` seconds.
        MessageDBError
            The store error that ended it.
        """
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the consumer is still running after {timeout} s")
        if self._error is not None:
            raise self._error

    def info(self) -> ConsumerInfo:
        """The consumer's progress (``ConsumerInfo``)."""
        return self._consumer.info()

    @property
    def active(self) -> bool:
        """Whether this is the active instance of its identity (``False`` while a standby)."""
        return self._consumer.active

    @property
    def done(self) -> bool:
        """Whether the consumer has ended."""
        return not self._thread.is_alive()

    def __enter__(self) -> "ConsumerHandle":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "done" if self.done else "active" if self.active else "standby"
        return f"<ConsumerHandle {state}>"


def _stop_running() -> None:
    """At interpreter exit: stops the consumers still running, recording their positions."""
    with _running_lock:
        handles = list(_running)
    for handle in handles:
        try:
            handle.stop(timeout=EXIT_TIMEOUT)
        except BaseException as error:
            print(f"messagedb: a consumer did not stop cleanly at exit: {error!r}", file=sys.stderr)


atexit.register(_stop_running)


class AsyncConsumerHandle:
    """A consumer running a handler in an asyncio task (from ``await AsyncNamespace.consume``).

    The handler may be a coroutine function, or a plain function, which then runs on the event
    loop. ``await handle.stop()`` (or leaving the ``async with`` block) lets the message being
    handled finish, records the position and lets go of the identity; so does the task's
    cancellation (as when ``asyncio.run`` ends). ``await handle`` waits until it ends and raises
    the store error that ended it, if any.
    """

    def __init__(
        self, consumer: AsyncConsumer, handler: Callable[[AsyncConsumerMessage], object]
    ) -> None:
        self._consumer = consumer
        self._handler = handler
        self._busy = asyncio.Lock()
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            async for message in self._consumer:
                async with self._busy:
                    if self._stopping:
                        break
                    try:
                        result = self._handler(message)
                        if inspect.isawaitable(result):
                            await result
                    except Exception as error:
                        await message.nack(error)
                    else:
                        await message.ack()
                    if self._stopping:
                        break
        finally:
            await self._consumer.aclose()

    async def stop(self) -> None:
        """Stop the consumer cleanly (see ``ConsumerHandle.stop``); raises the store error that
        ended it, if any. Called from the handler itself, it only asks."""
        self._stopping = True
        if asyncio.current_task() is self._task:
            return
        async with self._busy:
            await self._consumer.aclose()
        await self

    async def info(self) -> ConsumerInfo:
        """The consumer's progress (``ConsumerInfo``)."""
        return await self._consumer.info()

    @property
    def active(self) -> bool:
        """Whether this is the active instance of its identity (``False`` while a standby)."""
        return self._consumer.active

    @property
    def done(self) -> bool:
        """Whether the consumer has ended."""
        return self._task.done()

    def __await__(self) -> Generator[Any, None, None]:
        # Shielded: cancelling a waiter does not stop the consumer.
        return asyncio.shield(self._task).__await__()

    async def __aenter__(self) -> "AsyncConsumerHandle":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.stop()

    def __repr__(self) -> str:
        state = "done" if self.done else "active" if self.active else "standby"
        return f"<AsyncConsumerHandle {state}>"


async def _start_async(
    consumer: AsyncConsumer, handler: Callable[[AsyncConsumerMessage], object]
) -> AsyncConsumerHandle:
    """``AsyncNamespace.consume``: the task is made on the running loop."""
    return AsyncConsumerHandle(consumer, handler)


async def _replay_parked_async(
    ns: AsyncNamespace,
    category: str,
    name: str,
    handler: Callable[[Message], object],
    consumer_group: Optional[Tuple[int, int]],
) -> ReplayResult:
    """``AsyncNamespace.replay_parked``: the loop of ``Namespace.replay_parked``, awaiting a
    coroutine handler on the caller's event loop."""
    from messagedb._native import ReplayResult

    replayed = 0
    failed: List[Tuple[ParkedMessage, str]] = []
    for parked in await ns.parked(category, name, consumer_group=consumer_group):
        message = await ns.parked_message(parked)
        outcome: Literal["replayed", "discarded"] = "discarded"
        if message is not None:
            try:
                result = handler(message)
                if inspect.isawaitable(result):
                    await result
            except Exception as error:
                failed.append((parked, _failure_text(error)))
                continue
            outcome = "replayed"
            replayed += 1
        await ns.settle_parked(
            category, name, parked.global_position, outcome, consumer_group=consumer_group
        )
    return ReplayResult(replayed, failed)
