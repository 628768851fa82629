"""py-spy over the gunicorn workers while bench/webhooks.py loads them."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from bench.webhooks_procs import BIN, Gunicorn


class Profiler:
    """py-spy on every worker for the duration of the load; prints where time goes."""

    def __init__(self, server: Gunicorn, prefix: Path):
        self.files = []
        self.procs = []
        for pid in server.workers():
            out = Path(f"{prefix}-{pid}.txt")
            self.files.append(out)
            self.procs.append(
                subprocess.Popen(
                    [
                        str(BIN / "py-spy"),
                        "record",
                        "-p",
                        str(pid),
                        "-r",
                        "250",
                        "-f",
                        "raw",
                        "--gil",  # only the thread holding the GIL: where CPU goes
                        "-o",
                        str(out),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(1.0)  # py-spy attaches asynchronously; nothing to poll

    def finish(self, top: int = 14) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        own, inclusive, total = Counter(), Counter(), 0
        for path in self.files:
            for line in path.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                frames = stack.split(";")
                n = int(count)
                total += n
                own[_short(frames[-1])] += n
                for frame in {_short(f) for f in frames}:
                    inclusive[frame] += n
        print(f"  py-spy: {total} samples of the workers' busy threads holding the GIL")
        print("  most samples in (self):")
        for frame, n in own.most_common(top):
            print(f"    {100 * n / total:5.1f}%  {frame}")
        print("  inclusive, this project's code:")
        ours = [(f, n) for f, n in inclusive.items() if any(p in f for p in _OURS)]
        for frame, n in sorted(ours, key=lambda x: -x[1])[:top]:
            print(f"    {100 * n / total:5.1f}%  {frame}")


_OURS = ("sync/", "views/", "models/", "app.py")


def _short(frame: str) -> str:
    """``func (path/to/file.py:123)`` -> ``func (file-relative path)``, line dropped."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def profile_workers(server: Gunicorn, enabled: bool, prefix: Path) -> Profiler | None:
    return Profiler(server, prefix) if enabled else None
