"""MovieLens 1M (Harper & Konstan 2015), the original ``::``-separated ml-1m files.

``path`` is the ml-1m folder or its ``ratings.dat``; ``movies.dat`` and ``users.dat`` are
read from the same folder when there.

- ``ratings.dat`` ``UserID::MovieID::Rating::Timestamp``: one ``rating`` event per line,
  ``attrs={"rating": int}``, at the unix time given; event id ``movielens:{user}:{movie}``
  (ml-1m has at most one rating per user and movie).
- ``movies.dat`` (latin-1) ``MovieID::Title::Genres``: items with the title and
  ``category`` = the genres split on ``|``. Every movie is listed, rated or not; a rated
  movie missing from the file still gets a bare item.
- ``users.dat`` ``UserID::Gender::Age::Occupation::Zip``: users with those attributes;
  ``age_group`` and ``occupation`` are ml-1m's codes (see its README), not years or names.

pandas parses ``sep="::"`` only with its slow python engine; since every ratings field is
numeric, replacing ``::`` by a tab lets the C parser read the million lines in about a second.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput, NotFound
from mercato.events.schema import Item, User
from mercato.importers.batch import (
    ImportBatch,
    check_limit,
    finish,
    first_lines,
    ids_with_prefix,
    read_bytes,
    read_lines,
)

RATING_FIELDS = ("user", "movie", "rating", "timestamp")
MOVIES_ENCODING = "latin-1"  # ml-1m titles such as "Misérables, Les (1995)" are latin-1 bytes


def read_movielens(path: str | Path, *, limit: int | None = None) -> ImportBatch:
    """Read ml-1m ratings (+ movies and users); ``limit`` reads only the first N ratings."""
    check_limit(limit)
    ratings_path = _ratings_path(Path(path))
    ratings = _read_ratings(ratings_path, limit)
    lines = np.arange(1, len(ratings) + 1)
    bad_rating = ~ratings["rating"].between(1, 5)
    if bad_rating.any():
        row = int(np.argmax(bad_rating.to_numpy()))
        raise InvalidInput(f"{ratings_path} line {lines[row]}: rating {ratings['rating'].iat[row]} is not 1..5")

    # Plain lists of str: the event frame holds Python strings (object dtype) in the end anyway.
    users = list(map(str, ratings["user"].tolist()))
    movies = list(map(str, ratings["movie"].tolist()))
    events = pd.DataFrame(
        {
            "event_id": ids_with_prefix("movielens:", ratings["user"], ratings["movie"]),
            "type": "rating",
            "occurred_at": pd.to_datetime(ratings["timestamp"], unit="s", utc=True),
            "user_id": users,
            "item_id": movies,
            "attrs": [{"rating": rating} for rating in ratings["rating"].tolist()],
        }
    )
    folder = ratings_path.parent
    items = _movies(folder / "movies.dat")
    known = {item.item_id for item in items}
    items += [Item(item_id=movie) for movie in dict.fromkeys(movies) if movie not in known]
    user_table = _users(folder / "users.dat")
    listed = {user.user_id for user in user_table}
    user_table += [User(user_id=user) for user in dict.fromkeys(users) if user not in listed]
    return finish(events, source=ratings_path, source_lines=lines, items=items, users=user_table)


def _ratings_path(path: Path) -> Path:
    ratings_path = path / "ratings.dat" if path.is_dir() else path
    if not ratings_path.is_file():
        raise NotFound(f"MovieLens ratings not found at {ratings_path}; give the ml-1m folder or its ratings.dat")
    return ratings_path


def _read_ratings(path: Path, limit: int | None) -> pd.DataFrame:
    data = first_lines(read_bytes(path), limit)
    try:
        ratings = pd.read_csv(
            io.BytesIO(data.replace(b"::", b"\t")),
            sep="\t",
            header=None,
            names=list(RATING_FIELDS),
            dtype="int64",
            engine="c",
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame({name: pd.Series(dtype="int64") for name in RATING_FIELDS})
    except (ValueError, pd.errors.ParserError):
        # Too many fields is a ParserError; too few leaves NaN, which the int dtype refuses.
        _raise_first_bad_rating_line(path, data)
        raise InvalidInput(f"{path}: not in the ml-1m format UserID::MovieID::Rating::Timestamp") from None
    return ratings


def _raise_first_bad_rating_line(path: Path, data: bytes) -> None:
    """The slow path, only on failure: find the first line that is not four integers."""
    for number, line in enumerate(data.decode("utf-8", errors="replace").split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line:
            continue
        fields = line.split("::")
        if len(fields) != len(RATING_FIELDS) or not all(_is_integer(field) for field in fields):
            raise InvalidInput(
                f"{path} line {number}: {line[:80]!r} is not UserID::MovieID::Rating::Timestamp (four integers)"
            )


def _is_integer(text: str) -> bool:
    return text.strip().lstrip("-").isdigit()


def _movies(path: Path) -> list[Item]:
    if not path.is_file():
        return []
    items = []
    for number, line in enumerate(read_lines(path, encoding=MOVIES_ENCODING), start=1):
        if not line:
            continue
        fields = line.split("::")
        if len(fields) != 3:
            raise InvalidInput(f"{path} line {number}: expected MovieID::Title::Genres, got {line[:80]!r}")
        movie_id, title, genres = fields
        items.append(Item(item_id=movie_id, title=title, category=tuple(g for g in genres.split("|") if g)))
    return items


def _users(path: Path) -> list[User]:
    if not path.is_file():
        return []
    users = []
    for number, line in enumerate(read_lines(path), start=1):
        if not line:
            continue
        fields = line.split("::")
        if len(fields) != 5 or not (fields[2].isdigit() and fields[3].isdigit()):
            raise InvalidInput(
                f"{path} line {number}: expected UserID::Gender::Age::Occupation::Zip, got {line[:80]!r}"
            )
        user_id, gender, age_group, occupation, zip_code = fields
        attributes = {"gender": gender, "age_group": int(age_group), "occupation": int(occupation), "zip": zip_code}
        users.append(User(user_id=user_id, attributes=attributes))
    return users
