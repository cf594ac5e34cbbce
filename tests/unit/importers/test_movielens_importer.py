"""MovieLens ml-1m: ratings as events, movies and users from the sibling files."""

from __future__ import annotations

import pandas as pd
import pytest

from mercato import importers
from mercato.errors import InvalidInput, NotFound


def write_ml(tmp_path, ratings, movies=None, users=None):
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text(ratings)
    if movies is not None:
        (folder / "movies.dat").write_bytes(movies.encode("latin-1"))
    if users is not None:
        (folder / "users.dat").write_text(users)
    return folder


RATINGS = "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n"
MOVIES = "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n73::Misérables, Les (1995)::Drama|Musical\n"
USERS = "1::F::1::10::48067\n2::M::56::16::70072\n"


def test_ratings_movies_and_users(tmp_path):
    folder = write_ml(tmp_path, RATINGS, MOVIES, USERS)
    batch = importers.read("movielens", folder)
    events = batch.events
    assert list(events["event_id"]) == ["movielens:1:1193", "movielens:1:661", "movielens:2:1193"]
    assert (events["type"] == "rating").all()
    assert list(events["attrs"]) == [{"rating": 5}, {"rating": 3}, {"rating": 4}]
    assert type(events["attrs"].iat[0]["rating"]) is int
    assert events["occurred_at"].iat[0] == pd.Timestamp(978300760, unit="s", tz="UTC")
    items = {item.item_id: item for item in batch.items}
    assert items["73"].title == "Misérables, Les (1995)"  # latin-1 decoded
    assert items["73"].category == ("Drama", "Musical")
    assert items["661"].title == ""  # rated but not in movies.dat
    users = {user.user_id: user for user in batch.users}
    assert users["1"].attributes == {"gender": "F", "age_group": 1, "occupation": 10, "zip": "48067"}


def test_ratings_file_path_and_crlf_work_too(tmp_path):
    folder = write_ml(tmp_path, RATINGS.replace("\n", "\r\n"), MOVIES)
    by_file = importers.read("movielens", folder / "ratings.dat")
    assert len(by_file.events) == 3 and len(by_file.items) == 3
    assert by_file.users[0].attributes == {}  # no users.dat


def test_limit_reads_the_first_ratings(tmp_path):
    batch = importers.read("movielens", write_ml(tmp_path, RATINGS), limit=2)
    assert list(batch.events["event_id"]) == ["movielens:1:1193", "movielens:1:661"]


def test_folder_without_ratings_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="ratings.dat"):
        importers.read("movielens", tmp_path)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("3::10::four::978300760", "line 3: '3::10::four::978300760' is not UserID::MovieID"),
        ("3::10::4", "line 3: '3::10::4' is not"),
        ("3::10::4::978300760::9", "line 3:"),
        ("3::10::9::978300760", "line 3: rating 9 is not 1..5"),
    ],
)
def test_malformed_rating_names_file_and_line(tmp_path, bad_line, message):
    folder = write_ml(tmp_path, "1::1193::5::978300760\n2::1193::4::978298413\n" + bad_line + "\n")
    with pytest.raises(InvalidInput) as caught:
        importers.read("movielens", folder)
    assert str(folder / "ratings.dat") in str(caught.value) and message in str(caught.value)


def test_repeated_rating_is_reported(tmp_path):
    folder = write_ml(tmp_path, "1::1193::5::978300760\n1::1193::4::978300761\n")
    with pytest.raises(InvalidInput, match=r"line 2: event id 'movielens:1:1193' repeats"):
        importers.read("movielens", folder)


def test_malformed_movie_line(tmp_path):
    folder = write_ml(tmp_path, RATINGS, movies="1193::Title only\n")
    with pytest.raises(InvalidInput, match=r"movies.dat line 1: expected MovieID::Title::Genres"):
        importers.read("movielens", folder)


@pytest.mark.datasets
def test_real_first_ratings(dataset):
    batch = importers.read("movielens", dataset("movielens-1m"), limit=100)
    first = batch.events.iloc[0]
    assert first["event_id"] == "movielens:1:1193" and first["user_id"] == "1" and first["item_id"] == "1193"
    assert first["attrs"] == {"rating": 5}
    assert first["occurred_at"] == pd.Timestamp("2000-12-31T22:12:40Z")  # 978300760
    assert len(batch.events) == 100
    items = {item.item_id: item for item in batch.items}
    assert len(items) == 3_883  # the whole catalog, rated or not
    assert items["1193"].title == "One Flew Over the Cuckoo's Nest (1975)" and items["1193"].category == ("Drama",)
    assert items["73"].title == "Misérables, Les (1995)"
    assert len(batch.users) == 6_040
