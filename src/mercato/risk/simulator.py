"""A seeded, **synthetic** e-commerce order stream with known fraud patterns.

Nothing here is real data: the simulator exists to exercise the velocity features end to end
and to say how well each kind of fraud is caught, which no public dataset allows (the ULB
creditcard-fraud set has no entity identifiers). Legitimate customers buy at their own pace
with their own card, device, IP and address (a few travel, change devices or send gifts, so
"new device" alone is not fraud). Four fraud patterns are mixed in (issue 6):

- ``card_testing``: a bot tries many stolen cards with small amounts from one device and IP
  within minutes;
- ``account_takeover``: an established account suddenly pays from a new device and IP in
  another country, ships to a new address, and spends several times its usual amount;
- ``fraud_ring``: freshly created accounts share a couple of devices and drop addresses and
  pay with different stolen cards over a few days;
- ``friendly_fraud``: a real customer buys as usual and later disputes the charge — by
  construction nearly indistinguishable from a legitimate order at payment time.

Every fraudulent payment gets a chargeback 7–60 days later, the delay labels really have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mercato.risk.features import DAY_S, Transaction

PATTERNS = ("card_testing", "account_takeover", "fraud_ring", "friendly_fraud")
START_S = 1_704_067_200.0  # 2024-01-01T00:00:00Z
COUNTRIES = ("DE", "FR", "NL", "IT", "ES")
FAR_COUNTRIES = ("RU", "NG", "BR", "VN", "US")


@dataclass
class SimulatedStream:
    transactions: list[Transaction]  # in time order
    is_fraud: np.ndarray  # (n,) int8
    pattern: np.ndarray  # (n,) str: "legit" or one of PATTERNS
    chargeback_at_s: np.ndarray  # (n,) float, NaN when no chargeback

    def __len__(self) -> int:
        return len(self.transactions)


def simulate(*, n_users: int = 3000, days: int = 180, seed: int = 0, purchases_per_user_per_day: float = 0.1,
             card_testing_bursts: int = 100, takeovers: int = 300, rings: int = 40, friendly_frauds: int = 400) -> SimulatedStream:
    rng = np.random.default_rng(seed)
    horizon_s = days * DAY_S
    rows: list[tuple[Transaction, str]] = []
    counter = iter(range(10**9))

    def tx(t: float, user: str, amount_minor: int, **kw) -> Transaction:
        return Transaction(transaction_id=f"sim-{next(counter)}", occurred_at_s=float(t), user_id=user,
                           amount_minor=int(max(amount_minor, 50)), currency="EUR", **kw)

    # Legitimate customers: a home country, card, device, IP, address; a spending level.
    users = []
    for u in range(n_users):
        country = COUNTRIES[rng.integers(len(COUNTRIES))]
        address = f"addr-{u}"
        # A quarter sign up during the stream, so a young account alone does not mean fraud.
        joins = rng.random() < 0.25
        created = START_S + rng.uniform(0, horizon_s) if joins else START_S - rng.uniform(30, 800) * DAY_S
        profile = {
            "user": f"u{u}", "country": country, "card": f"card-{u}", "device": f"dev-{u}", "ip": f"ip-{u}",
            "email": f"u{u}@mail.example", "address": address, "created": created,
            "level": rng.lognormal(np.log(4000), 0.6), "times": [],
        }
        users.append(profile)
        active_from = max(created, START_S)
        n = rng.poisson(purchases_per_user_per_day * (START_S + horizon_s - active_from) / DAY_S)
        for t in np.sort(rng.uniform(active_from, START_S + horizon_s, n)):
            travel = rng.random() < 0.03  # abroad: another IP and country, same device and card
            new_device = rng.random() < 0.04
            gift = rng.random() < 0.04
            ship = f"gift-{u}-{rng.integers(1000)}" if gift else address
            small = rng.random() < 0.05  # gift cards, digital goods: as small as a card test
            amount = rng.integers(100, 500) if small else rng.lognormal(np.log(profile["level"]), 0.5)
            rows.append((tx(t, profile["user"], amount,
                            card_id=profile["card"], device_id=f"dev-{u}-{rng.integers(1000)}" if new_device else profile["device"],
                            ip=f"ip-travel-{rng.integers(10**6)}" if travel else profile["ip"], email=profile["email"],
                            billing_address=address, shipping_address=ship, billing_country=country,
                            shipping_country=country, ip_country=FAR_COUNTRIES[rng.integers(5)] if travel else country,
                            account_created_at_s=profile["created"]), "legit"))
            profile["times"].append(t)

    # Card testing: one bot device and IP (an in-country proxy), an aged account, many stolen
    # cards, tiny amounts. Only the velocity of cards per device gives it away.
    for b in range(card_testing_bursts):
        t0 = START_S + rng.uniform(0, horizon_s)
        country = COUNTRIES[rng.integers(5)]
        account = f"ct-{b}"
        for k in range(rng.integers(8, 30)):
            t = t0 + k * rng.uniform(5, 40)
            rows.append((tx(t, account, rng.integers(100, 400), card_id=f"stolen-ct-{b}-{k}", device_id=f"bot-{b}",
                            ip=f"ip-bot-{b}", email=f"ct{b}@mail.example", billing_address=f"ct-bill-{b}",
                            shipping_address=f"ct-bill-{b}", billing_country=country, shipping_country=country,
                            ip_country=country, account_created_at_s=t0 - rng.uniform(1, 60) * DAY_S), "card_testing"))

    # Account takeover: a customer with history pays from a new device/IP abroad, to a new address, big.
    victims = [p for p in users if p["times"]]
    for a, i in enumerate(rng.choice(len(victims), size=min(takeovers, len(victims)), replace=False)):
        profile = victims[i]
        t0 = rng.uniform(min(profile["times"]), START_S + horizon_s)
        # Half come through a proxy in the victim's own country.
        country = FAR_COUNTRIES[rng.integers(5)] if rng.random() < 0.5 else profile["country"]
        for k in range(rng.integers(1, 4)):
            rows.append((tx(t0 + k * rng.uniform(60, 1800), profile["user"], profile["level"] * rng.uniform(3, 10),
                            card_id=profile["card"], device_id=f"ato-dev-{a}", ip=f"ato-ip-{a}", email=profile["email"],
                            billing_address=profile["address"], shipping_address=f"ato-drop-{a}",
                            billing_country=profile["country"], shipping_country=profile["country"], ip_country=country,
                            account_created_at_s=profile["created"]), "account_takeover"))

    # Fraud rings: new accounts sharing two devices and two drop addresses, a stolen card each.
    for r in range(rings):
        t0 = START_S + rng.uniform(0, horizon_s - 5 * DAY_S)
        devices, drops = [f"ring-{r}-dev-{d}" for d in range(2)], [f"ring-{r}-drop-{d}" for d in range(2)]
        country = COUNTRIES[rng.integers(5)]
        for m in range(rng.integers(5, 15)):
            created = t0 + rng.uniform(0, 3 * DAY_S)
            for k in range(rng.integers(1, 4)):
                rows.append((tx(created + rng.uniform(600, 2 * DAY_S), f"ring-{r}-{m}", rng.lognormal(np.log(15000), 0.4),
                                card_id=f"stolen-ring-{r}-{m}", device_id=devices[rng.integers(2)], ip=f"ring-ip-{r}-{rng.integers(3)}",
                                email=f"ring{r}.{m}@mail.example", billing_address=f"ring-bill-{r}-{m}",
                                shipping_address=drops[rng.integers(2)], billing_country=country, shipping_country=country,
                                ip_country=country, account_created_at_s=created), "fraud_ring"))

    # Friendly fraud: a real customer's ordinary order, disputed later.
    legit_rows = [i for i, (_, p) in enumerate(rows) if p == "legit"]
    for i in rng.choice(legit_rows, size=min(friendly_frauds, len(legit_rows)), replace=False):
        rows[i] = (rows[i][0], "friendly_fraud")

    rows.sort(key=lambda r: r[0].occurred_at_s)
    pattern = np.array([p for _, p in rows], dtype=object)
    is_fraud = (pattern != "legit").astype(np.int8)
    delay_days = rng.uniform(7, 60, len(rows))
    chargeback = np.where(is_fraud == 1, np.array([t.occurred_at_s for t, _ in rows]) + delay_days * DAY_S, np.nan)
    return SimulatedStream([t for t, _ in rows], is_fraud, pattern, chargeback)
