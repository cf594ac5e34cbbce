import pytest

from mercato.serving.lazy import Lazy


class Resource:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_opens_once_retries_a_failed_open_and_reopens_after_close():
    attempts = []

    def opener() -> Resource:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("not yet")
        return Resource()

    lazy = Lazy(opener)
    with pytest.raises(OSError):
        lazy.get()
    first = lazy.get()
    assert lazy.get() is first and len(attempts) == 2
    lazy.close()
    assert first.closed
    lazy.close()  # closing twice is harmless
    assert lazy.get() is not first and len(attempts) == 3
