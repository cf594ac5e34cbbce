"""UCI Online Retail (Chen, Sain & Guo 2012): invoice lines of a UK gift-ware web shop.

Columns ``InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country``,
csv or csv.gz. What each line becomes:

- a line of a normal invoice (all digits) with a positive quantity: a ``purchase``;
- a line of a cancellation invoice (``C`` + digits): a ``return`` of ``|Quantity|``, since
  its quantities are negative;
- skipped and counted by reason: a negative unit price (``negative_price``, the "adjust bad
  debt" entries), other invoice numbers such as ``A563185`` (``accounting_adjustment``),
  and non-positive quantities on normal invoices (``non_positive_quantity``: stock write-offs
  such as "damaged", none of them a sale).

Lines without a CustomerID are guest checkouts; they are kept, with user ``guest:{InvoiceNo}``,
because demand forecasting needs every sale. The event id ``online-retail:{InvoiceNo}:{line}``
uses the file line (the header is line 1; the data has no multi-line fields), so importing the
same file twice yields the same ids. ``InvoiceDate`` is UK wall-clock time: it is localized to
Europe/London and stored in UTC.

The whole file (541,909 lines) is read with vectorized pandas; the only per-row Python is
building the ``attrs`` dicts, which the event frame holds as Python objects anyway.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.events.schema import Item, User
from mercato.importers.batch import (
    ImportBatch,
    check_limit,
    finish,
    ids_with_prefix,
    raise_on_bad_rows,
    require_file,
)

COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
CURRENCY = "GBP"
SHOP_TIMEZONE = "Europe/London"
# The converted file writes ISO dates; the UCI spreadsheet's own CSV export writes US-style ones.
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M")
FIRST_DATA_LINE = 2  # line 1 is the header


def read_online_retail(path: str | Path, *, limit: int | None = None) -> ImportBatch:
    """Read the Online Retail csv (or csv.gz); ``limit`` reads only the first N invoice lines."""
    check_limit(limit)
    path = require_file(path)
    raw = _read_table(path, limit)
    lines = np.arange(len(raw), dtype=np.int64) + FIRST_DATA_LINE

    invoice = raw["InvoiceNo"].str.strip()
    stock_code = raw["StockCode"].str.strip()
    raise_on_bad_rows(path, (invoice == "").to_numpy(), lines, "InvoiceNo is empty")
    raise_on_bad_rows(path, (stock_code == "").to_numpy(), lines, "StockCode is empty")
    quantity = _numbers(path, raw["Quantity"], lines, "Quantity", required=True)
    raise_on_bad_rows(
        path, (quantity != np.round(quantity)).to_numpy(), lines, "Quantity is not a whole number", raw["Quantity"]
    )
    unit_price = _numbers(path, raw["UnitPrice"], lines, "UnitPrice", required=True)
    customer = _numbers(path, raw["CustomerID"], lines, "CustomerID", required=False)
    raise_on_bad_rows(
        path,
        (customer.notna() & (customer != np.round(customer))).to_numpy(),
        lines,
        "CustomerID is not a whole number",
        raw["CustomerID"],
    )
    occurred_at = _uk_times_as_utc(path, raw["InvoiceDate"], lines)

    is_cancellation = invoice.str.startswith("C")
    is_regular_number = invoice.str.removeprefix("C").str.isdigit()
    skip_reason = pd.Series(
        np.select(
            [
                (unit_price < 0).to_numpy(),
                ~is_regular_number.to_numpy(dtype=bool),
                ((quantity <= 0) & ~is_cancellation).to_numpy(),
                ((quantity >= 0) & is_cancellation).to_numpy(),
            ],
            ["negative_price", "accounting_adjustment", "non_positive_quantity", "non_negative_cancellation"],
            default="",
        )
    )
    keep = (skip_reason == "").to_numpy()
    skipped = skip_reason[~keep].value_counts().to_dict()

    kept = pd.DataFrame(
        {
            "invoice": invoice[keep].to_numpy(dtype=object),
            "stock_code": stock_code[keep].to_numpy(dtype=object),
            "description": raw["Description"][keep].str.strip().to_numpy(dtype=object),
            "quantity": np.abs(quantity[keep].to_numpy()).astype(np.int64),
            "unit_price": unit_price[keep].to_numpy(),
            "customer": customer[keep].to_numpy(),
            "country": raw["Country"][keep].str.strip().to_numpy(dtype=object),
            "occurred_at": occurred_at[keep].reset_index(drop=True),
            "line": lines[keep],
            "is_return": is_cancellation[keep].to_numpy(dtype=bool),
        }
    )
    # Some lines price in fractions of a penny; the unit price is rounded, the line total is
    # computed from the exact price so that totals match the shop's own.
    unit_price_minor = np.rint(kept["unit_price"].to_numpy() * 100).astype(np.int64)
    amount_minor = np.rint(kept["unit_price"].to_numpy() * 100 * kept["quantity"].to_numpy()).astype(np.int64)
    has_customer = kept["customer"].notna().to_numpy()
    customer_ids = pd.Series(np.where(has_customer, kept["customer"].fillna(0).to_numpy(), 0).astype(np.int64))
    user_id = np.where(has_customer, customer_ids.astype(str).to_numpy(), ("guest:" + kept["invoice"]).to_numpy())
    kept["user_id"] = user_id.astype(object)
    kept["unit_price_minor"] = unit_price_minor

    events = pd.DataFrame(
        {
            "event_id": ids_with_prefix("online-retail:", kept["invoice"], kept["line"]),
            "type": np.where(kept["is_return"], "return", "purchase").astype(object),
            "occurred_at": kept["occurred_at"],
            "user_id": kept["user_id"],
            "session_id": kept["invoice"],
            "item_id": kept["stock_code"],
            "quantity": kept["quantity"],
            "amount_minor": amount_minor,
            "currency": CURRENCY,
            "order_id": kept["invoice"],
            "attrs": [
                {"country": country, "unit_price_minor": price}
                for country, price in zip(kept["country"].tolist(), unit_price_minor.tolist(), strict=True)
            ],
        }
    )
    return finish(
        events,
        source=path,
        source_lines=kept["line"].to_numpy(),
        items=_items(kept),
        users=_users(kept[has_customer]),
        skipped=skipped,
    )


def _read_table(path: Path, limit: int | None) -> pd.DataFrame:
    try:
        # Everything as text: numbers are parsed below, where a bad value can be traced to its line.
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=limit)
    except pd.errors.EmptyDataError:
        raise InvalidInput(f"{path}: empty file; expected a header {','.join(COLUMNS)}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise InvalidInput(f"{path}: not a readable Online Retail CSV ({exc})") from None
    missing = [name for name in COLUMNS if name not in raw.columns]
    if missing:
        raise InvalidInput(
            f"{path}: missing column(s) {missing}; an Online Retail file has the header {','.join(COLUMNS)}"
        )
    return raw


def _numbers(path: Path, text: pd.Series, lines: np.ndarray, column: str, *, required: bool) -> pd.Series:
    text = text.str.strip()
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    blank = (text == "").to_numpy()
    raise_on_bad_rows(path, values.isna().to_numpy() & ~blank, lines, f"{column} is not a number", text)
    if required:
        raise_on_bad_rows(path, blank, lines, f"{column} is empty")
    return values


def _uk_times_as_utc(path: Path, text: pd.Series, lines: np.ndarray) -> pd.Series:
    text = text.str.strip()
    local = None
    for date_format in DATE_FORMATS:
        local = pd.to_datetime(text, format=date_format, errors="coerce")
        if local.notna().any() or len(text) == 0:
            break
    raise_on_bad_rows(
        path,
        local.isna().to_numpy(),
        lines,
        "InvoiceDate is not a date-time like '2010-12-01 08:26:00' or '12/1/2010 8:26'",
        text,
    )
    # The autumn hour that happens twice is read as its first (summer-time) occurrence; a
    # spring time that never happened moves forward to the first valid instant. Neither
    # occurs in the UCI data, whose invoices are all placed during the day.
    ambiguous_as_summer_time = np.ones(len(local), dtype=bool)
    return local.dt.tz_localize(
        SHOP_TIMEZONE, ambiguous=ambiguous_as_summer_time, nonexistent="shift_forward"
    ).dt.tz_convert("UTC")


def _items(kept: pd.DataFrame) -> list[Item]:
    """One item per stock code: its most frequent description (ties: alphabetical), median price, first sale."""
    described = kept[kept["description"] != ""]
    counts = described.groupby(["stock_code", "description"], sort=False).size().rename("n").reset_index()
    titles = (
        counts.sort_values(["stock_code", "n", "description"], ascending=[True, False, True])
        .drop_duplicates("stock_code")
        .set_index("stock_code")["description"]
    )
    # Free lines (price 0: samples, gifts) would pull the median down; they are not the price.
    priced = kept[kept["unit_price_minor"] > 0]
    prices = priced.groupby("stock_code")["unit_price_minor"].median()
    first_seen = kept.groupby("stock_code")["occurred_at"].min()
    items = []
    for stock_code, created_at in first_seen.items():
        price = prices.get(stock_code)
        items.append(
            Item(
                item_id=stock_code,
                title=titles.get(stock_code, ""),
                price_minor=None if price is None or np.isnan(price) else int(np.rint(price)),
                currency=CURRENCY,
                created_at=created_at.to_pydatetime(),
            )
        )
    return items


def _users(with_customer: pd.DataFrame) -> list[User]:
    """One user per customer: the country of their first invoice line, created at their first invoice."""
    first = with_customer.sort_values(["occurred_at", "line"]).drop_duplicates("user_id")
    return [
        User(user_id=user_id, attributes={"country": country}, created_at=created_at.to_pydatetime())
        for user_id, country, created_at in zip(
            first["user_id"].tolist(), first["country"].tolist(), first["occurred_at"].tolist(), strict=True
        )
    ]
