"""Redaction of personal data in text that is logged or stored: emails, card numbers, phone numbers.

Card numbers are 13–19 digits (spaces or dashes allowed between groups) that pass the Luhn
check, so an order number that happens to be long is left alone unless it could be a card.
Phone numbers need 7–15 digits and either a leading ``+``, separators between digit groups or
at least 10 digits — a bare 6-digit order number (as in Online Retail invoices) stays readable.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CARD_CANDIDATE = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
PHONE_CANDIDATE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{5,}\d(?![\d])")

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

EMAIL_MASK = "[email]"
CARD_MASK = "[card]"
PHONE_MASK = "[phone]"


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return CARD_MASK if 13 <= len(digits) <= 19 and luhn_ok(digits) else match.group()


def _phone(match: re.Match) -> str:
    text = match.group()
    digits = re.sub(r"\D", "", text)
    if ISO_DATE.fullmatch(text.strip()) or not 7 <= len(digits) <= 15:
        return text
    separated = bool(re.search(r"\d[\s().-]+\d", text))
    if text.startswith("+") or separated or len(digits) >= 10:
        return PHONE_MASK
    return text


def redact(text: str) -> str:
    """``text`` with emails, card numbers and phone numbers replaced by ``[email]``, ``[card]``, ``[phone]``."""
    text = EMAIL.sub(EMAIL_MASK, text)
    text = CARD_CANDIDATE.sub(_card, text)  # before phones: a card number also looks like a long phone number
    return PHONE_CANDIDATE.sub(_phone, text)
