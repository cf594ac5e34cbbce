"""Freed training buffers are reused by the process, not mapped afresh on every batch."""

import platform
import resource

import pytest
import torch

from mercato.recommend.allocator import keep_freed_memory_for_reuse

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc only")
BUFFER_BYTES = 64 * 2**20  # a catalog-wide logits buffer: above glibc's default mmap threshold
PAGE_BYTES = resource.getpagesize()


def faults_of_a_fresh_buffer() -> int:
    """Page faults taken while allocating, filling and freeing one large buffer."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    buffer = torch.empty(BUFFER_BYTES // 4, dtype=torch.float32)
    buffer.fill_(1.0)
    del buffer
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@glibc_only
def test_a_large_buffer_freed_and_allocated_again_takes_no_new_page_faults():
    assert keep_freed_memory_for_reuse() is True
    assert keep_freed_memory_for_reuse() is True  # once per process; calling again is harmless
    faults_of_a_fresh_buffer()  # the first one grows the heap: its pages are new
    # Mapped afresh, the buffer would fault on each of its pages again (16,384 of 4 KiB).
    again = [faults_of_a_fresh_buffer() for _ in range(3)]
    assert min(again) < (BUFFER_BYTES // PAGE_BYTES) // 10
