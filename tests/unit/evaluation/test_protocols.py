import numpy as np
import pandas as pd
import pytest

from mercato.errors import InvalidInput
from mercato.evaluation import protocols
from mercato.recommend.interactions import Interactions


def _ids(split, indices):
    return [split.train.item_ids[i] if i >= 0 else None for i in indices]


def test_leave_one_out_holds_out_last_item_and_trains_on_the_rest():
    data = Interactions.from_sequences([["a", "b", "c", "d"], ["b", "c"], ["x"]], ["u1", "u2", "u3"])
    split = protocols.leave_one_out(data)
    assert split.n_cases == 2
    assert [list(_ids(split, h)) for h in split.histories] == [["a", "b", "c"], ["b"]]
    # "d" only ever occurs as a test target: the model cannot know it, so it is a certain miss.
    assert [_ids(split, t) for t in split.targets] == [[None], ["c"]]
    assert sorted(split.train.user_ids) == ["u1", "u2", "u3"]  # u3 still trains
    assert [sorted(_ids(split, e)) for e in split.excluded] == [["a", "b", "c"], ["b"]]


def test_leave_one_out_validation_holds_out_second_to_last():
    data = Interactions.from_sequences([["a", "b", "c", "d"], ["b", "c"]], ["u1", "u2"])
    split = protocols.leave_one_out(data, split="valid")
    assert split.n_cases == 1
    assert _ids(split, split.histories[0]) == ["a", "b"]
    assert _ids(split, split.targets[0]) == ["c"]
    assert "d" not in split.train.item_ids


def test_leave_one_out_keeps_real_timestamps_for_training():
    frame = pd.DataFrame(
        {
            "user_id": ["u", "u", "u"],
            "item_id": ["a", "b", "c"],
            "occurred_at": pd.to_datetime([100, 200, 300], unit="s", utc=True),
        }
    )
    split = protocols.leave_one_out(Interactions.from_frame(frame))
    assert split.train.timestamps.tolist() == [100, 200]


def test_temporal_targets_are_new_known_items_after_the_cut():
    t = pd.Timestamp("2024-01-10", tz="UTC")
    frame = pd.DataFrame(
        {
            "user_id": ["u", "u", "v", "u", "u", "u", "w"],
            "item_id": ["a", "b", "c", "a", "c", "z", "a"],
            "occurred_at": [t - pd.Timedelta(days=d) for d in (3, 2, 1)] + [t + pd.Timedelta(days=d) for d in (1, 2, 3, 4)],
        }
    )
    split = protocols.temporal(frame, cut_at=t)
    assert split.n_cases == 1  # w is cold (no history), v bought nothing after the cut
    assert _ids(split, split.targets[0]) == ["c"]  # "a" is a re-purchase, "z" is unknown to the model
    assert split.info["unknown_target_items_dropped"] == 1
    assert sorted(_ids(split, split.excluded[0])) == ["a", "b"]


def test_temporal_rejects_naive_cut_and_empty_sides():
    frame = pd.DataFrame({"user_id": ["u"], "item_id": ["a"], "occurred_at": [pd.Timestamp("2024-01-01", tz="UTC")]})
    with pytest.raises(InvalidInput, match="timezone"):
        protocols.temporal(frame, cut_at=pd.Timestamp("2024-01-01"))
    with pytest.raises(InvalidInput, match="no training"):
        protocols.temporal(frame, cut_at=pd.Timestamp("2023-01-01", tz="UTC"))


def test_session_maps_prefixes_and_marks_unknown_targets():
    split = protocols.session([["a", "b"], ["b", "c"]], [["a", "q"], ["b"]], ["b", "q"])
    assert [_ids(split, h) for h in split.histories] == [["a"], ["b"]]
    assert [_ids(split, t) for t in split.targets] == [["b"], [None]]
    assert (split.users == -1).all()
    assert split.info["unknown_targets"] == 1
    assert all(len(e) == 0 for e in split.excluded)


def test_session_validation_holds_out_the_last_training_sessions():
    train = [["a", "b"], ["b", "c"], ["c", "d"], ["d", "c", "b"]]
    split = protocols.session(train, [["a"]], ["b"], split="valid", valid_fraction=0.25)
    # The last session (d c b) becomes the cases [d c] -> b and [d] -> c; it is not trained on.
    assert [_ids(split, h) for h in split.histories] == [["d", "c"], ["d"]]
    assert [_ids(split, t) for t in split.targets] == [["b"], ["c"]]
    assert len(split.train) == 6
    assert split.info["split"] == "valid"


def test_temporal_validation_never_sees_events_after_the_test_cut():
    t = pd.Timestamp("2024-01-10", tz="UTC")
    days = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    frame = pd.DataFrame(
        {
            "user_id": ["u"] * 6 + ["v"] * 6,
            "item_id": list("abcdef") + list("abcdef"),
            "occurred_at": [t + pd.Timedelta(days=d) for d in days],
        }
    )
    test_cut = t + pd.Timedelta(days=11)
    split = protocols.temporal(frame, cut_at=test_cut, split="valid")
    assert pd.Timestamp(split.info["cut_at"]) < test_cut
    assert split.train.timestamps.max() < test_cut.timestamp()
    assert split.info["split"] == "valid"
