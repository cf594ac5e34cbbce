"""Keep freed tensor memory in the process for reuse while a network trains on the CPU.

glibc hands every allocation above its mmap threshold (128 KiB to 32 MiB, adapting) straight
to the kernel and unmaps it on free. A training step allocates and frees the same large
buffers each batch (catalog-wide logits and their gradient: tens of MB), so every batch maps
fresh pages and takes a page fault per 4 KiB page. On a 17k-item catalog that is hundreds of
thousands of faults a second; the kernel's share of the CPU time reached 40 % and a softmax
step ran about twice as slow as with the memory kept (benchmarks/results/allocator.json).

Raising the thresholds makes glibc serve those buffers from its heap, which keeps what was
freed: memory stays at the peak the process reached, which a training job reaches anyway.
Without glibc (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger("mercato.train")

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_KEEP_BELOW = 1 << 30  # bytes: buffers up to 1 GiB come from (and return to) the heap

_applied = False


def keep_freed_memory_for_reuse() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if they are raised."""
    global _applied
    if _applied:
        return True
    try:
        # The process's own symbols: the C library it runs on is loaded already (find_library
        # would spawn ldconfig to look for it, on every fit where it is not glibc).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no glibc here: nothing to tune
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    if mallopt(_M_MMAP_THRESHOLD, _KEEP_BELOW) and mallopt(_M_TRIM_THRESHOLD, _KEEP_BELOW):
        _applied = True
        log.debug("malloc keeps freed buffers below %d bytes for reuse", _KEEP_BELOW)
    return _applied
