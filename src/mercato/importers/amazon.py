"""Amazon review sequences in the S3-Rec format (Zhou et al., CIKM 2020; e.g. ``Beauty.txt``).

One line per user: ``user_id item_1 item_2 … item_n``, items in chronological order. The
files carry no timestamps, so each interaction becomes a ``purchase`` of quantity 1 at a
synthetic time that only preserves the order: ``SYNTHETIC_EPOCH`` (2000-01-01T00:00:00Z)
plus the item's position in the user's sequence (0, 1, 2 …) in seconds. Positions are not
comparable across users and these are not the dates of the reviews.

Ids are kept exactly as written (strings). The event id is ``amazon:{user}:{position}``.
A sibling ``<Name>_item2attributes.json`` (``{item_id: [attribute ids]}``, categories and
brand in S3-Rec) is picked up when present and becomes ``Item.attributes["attribute_ids"]``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.events.schema import Item, User
from mercato.importers.batch import (
    SYNTHETIC_EPOCH,
    ImportBatch,
    check_limit,
    finish,
    ids_with_prefix,
    read_lines,
    require_file,
)

ATTRIBUTES_SUFFIX = "_item2attributes.json"


def read_amazon(path: str | Path, *, limit: int | None = None) -> ImportBatch:
    """Read an S3-Rec sequence file; ``limit`` reads only its first N lines (users)."""
    check_limit(limit)
    path = require_file(path)
    users: list[str] = []
    user_of_event: list[str] = []
    items_of_event: list[str] = []
    position_of_event: list[int] = []
    line_of_event: list[int] = []
    line_of_user: dict[str, int] = {}
    skipped = {"empty_line": 0}
    for line_number, line in enumerate(read_lines(path, limit=limit), start=1):
        tokens = line.split()
        if not tokens:
            skipped["empty_line"] += 1
            continue
        user, sequence = tokens[0], tokens[1:]
        if not sequence:
            raise InvalidInput(
                f"{path} line {line_number}: user {user!r} has no items; expected 'user_id item_1 … item_n'"
            )
        if user in line_of_user:
            raise InvalidInput(
                f"{path} line {line_number}: user {user!r} already has a sequence on line {line_of_user[user]}; "
                "each user must appear on one line"
            )
        line_of_user[user] = line_number
        users.append(user)
        user_of_event.extend([user] * len(sequence))
        items_of_event.extend(sequence)
        position_of_event.extend(range(len(sequence)))
        line_of_event.extend([line_number] * len(sequence))

    positions = np.asarray(position_of_event, dtype=np.int64)
    events = pd.DataFrame(
        {
            "event_id": ids_with_prefix("amazon:", user_of_event, positions),
            "type": "purchase",
            "occurred_at": SYNTHETIC_EPOCH + pd.to_timedelta(positions, unit="s"),
            "user_id": user_of_event,
            "item_id": items_of_event,
            "quantity": 1,
        }
    )
    attributes = _item_attributes(path)
    items = [
        Item(item_id=item_id, attributes={"attribute_ids": attributes[item_id]} if item_id in attributes else {})
        for item_id in dict.fromkeys(items_of_event)
    ]
    return finish(
        events,
        source=path,
        source_lines=line_of_event,
        items=items,
        users=[User(user_id=user) for user in users],
        skipped=skipped,
    )


def attributes_path_for(path: Path) -> Path:
    """``Beauty.txt`` -> ``Beauty_item2attributes.json`` in the same folder."""
    return path.with_name(path.name.split(".", 1)[0] + ATTRIBUTES_SUFFIX)


def _item_attributes(path: Path) -> dict[str, list]:
    attributes_path = attributes_path_for(path)
    if not attributes_path.is_file():
        return {}
    try:
        mapping = json.loads(attributes_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{attributes_path}: not valid JSON ({exc})") from None
    if not isinstance(mapping, dict) or not all(isinstance(ids, list) for ids in mapping.values()):
        raise InvalidInput(f"{attributes_path}: expected a JSON object mapping item ids to lists of attribute ids")
    return {str(item_id): ids for item_id, ids in mapping.items()}
