"""Progress of a long run: a bar with records/s and ETA on a terminal, log lines elsewhere."""
import sys
import time
from typing import Optional, TextIO


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class Progress:
    """Counts records as they are written.

    On a terminal (``stream.isatty()``), a tqdm bar shows records/s and the ETA;
    otherwise a plain line is logged every ``interval`` seconds (and at the end),
    which reads well in log files and CI. ``enabled=False`` shows nothing.
    """

    def __init__(
        self,
        total: Optional[int],
        *,
        stream: TextIO = sys.stderr,
        interval: float = 30.0,
        enabled: bool = True,
    ):
        self.total = total
        self.stream = stream
        self.interval = interval
        self.enabled = enabled
        self.done = 0
        self.failed = 0
        self.skipped = 0
        self.started = time.perf_counter()
        self._last_log = self.started
        self._bar = None

    def start(self, skipped: int = 0) -> None:
        """Start counting; ``skipped`` records were already in the output (``--resume``)."""
        self.skipped = skipped
        self.started = self._last_log = time.perf_counter()
        if self.enabled and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.total,
                initial=skipped,
                unit="rec",
                file=self.stream,
                dynamic_ncols=True,
                smoothing=0.1,
            )

    def advance(self, n: int = 1, *, failed: int = 0) -> None:
        self.done += n
        self.failed += failed
        if self._bar is not None:
            self._bar.update(n)
            if failed:
                self._bar.set_postfix(failed=self.failed, refresh=False)
        elif self.enabled:
            now = time.perf_counter()
            if now - self._last_log >= self.interval:
                self._last_log = now
                self.log()

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        position = self.skipped + self.done
        parts = [f"{position:,}" + (f"/{self.total:,}" if self.total else "") + " records"]
        if self.total:
            parts[0] += f" ({100.0 * position / self.total:.1f}%)"
        parts.append(f"{self.rate:.1f} records/s")
        if self.total and self.rate > 0 and position < self.total:
            parts.append(f"ETA {_duration((self.total - position) / self.rate)}")
        parts.append(f"{self.failed:,} failed")
        return "scicls annotate: " + ", ".join(parts)

    def log(self) -> None:
        print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
