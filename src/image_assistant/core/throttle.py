"""Per-client limits kept in this process's memory: a request rate, and a backoff after failures.

They are per process: `serve --workers N` gives each API process its own counts (N times the
limit at most). The lasting, shared limit of pairing (wrong codes per account) is in the
database (core/devices.py).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from image_assistant.errors import TooManyAttempts

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_KEYS = 100_000  # the oldest keys are forgotten past this: memory stays bounded under a flood


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`30/10m`: 30 in any 10 minutes; `5/s`, `100/1h`."""
        match = _RATE.match(text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"not a rate: {text!r} (use e.g. 30/10m, 5/s)")
        return cls(int(match.group(1)), int(match.group(2) or 1) * _UNIT_SECONDS[match.group(3)])


class _Windows:
    """Timestamps of recent events per key (a sliding window), bounded in keys and in events."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._events: OrderedDict[Hashable, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def recent(self, key: Hashable, seconds: float, keep: int) -> deque[float]:
        """The key's events of the last `seconds` (at most `keep` newest); call under `lock`."""
        now = self._clock()
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque(maxlen=keep)
            if len(self._events) > MAX_KEYS:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        while events and events[0] <= now - seconds:
            events.popleft()
        return events

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._events.pop(key, None)


class RateLimit(_Windows):
    """At most `rate.count` requests per key in any `rate.seconds`; 429 with Retry-After past it."""

    def __init__(self, rate: Rate, *, what: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.rate = rate
        self.what = what

    def hit(self, key: Hashable) -> None:
        with self._lock:
            events = self.recent(key, self.rate.seconds, self.rate.count)
            now = self._clock()
            if len(events) >= self.rate.count:
                wait = events[0] + self.rate.seconds - now
                raise TooManyAttempts(
                    f"too many {self.what} from this address; wait and retry",
                    code="rate_limited",
                    retry_after=max(1, math.ceil(wait)),
                )
            events.append(now)


class Backoff(_Windows):
    """After `free` failures of a key within `window` seconds, each try waits for the last failure
    plus a delay that doubles with each failure (1 s, 2 s, 4 s…) up to `longest` seconds."""

    def __init__(
        self,
        *,
        free: int,
        window: float,
        longest: float,
        what: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self.free = free
        self.window = window
        self.longest = longest
        self.what = what

    def attempt(self, key: Hashable) -> None:
        """Count a try as failed before it is judged (so tries sent at once cannot all slip past),
        or raise TooManyAttempts (with the seconds to wait) while the key must wait."""
        with self._lock:
            events = self.recent(key, self.window, self.free + 32)
            extra = len(events) - self.free
            now = self._clock()
            wait = events[-1] + min(self.longest, 2.0**extra) - now if extra >= 0 else 0.0
            if wait <= 0:
                events.append(now)
                return
        raise TooManyAttempts(
            f"too many {self.what}; wait and retry", code="too_many_attempts", retry_after=math.ceil(wait)
        )

    def failed(self, key: Hashable) -> None:
        """The try `attempt` counted was wrong: its wait starts now, when its answer leaves."""
        with self._lock:
            events = self._events.get(key)
            if events:
                events[-1] = self._clock()

    def succeeded(self, key: Hashable) -> None:
        """The try `attempt` counted was right after all: it is not a failure."""
        with self._lock:
            events = self._events.get(key)
            if events:
                events.pop()
