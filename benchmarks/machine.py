"""What the benchmark ran on, recorded beside every result: numbers mean little without it."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime


def machine() -> dict:
    load_1m = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_avg_1m_at_start": load_1m,  # other work on the machine makes latencies noisy
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
    }
