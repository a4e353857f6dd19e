"""Realistic sample business events and click-ID captures.

The demo, `produce-sample`, the tests and the benchmark all need believable traffic: varied
identifiers, some events with click IDs and some without, qualified leads that refer to earlier
leads. One deterministic generator (seeded) serves them all, so a failing test can be replayed.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from consumer.enrich.model import CLICK_ID_KINDS

FIRST_NAMES = ("Mary", "John", "Valéry", "Aiko", "Lars", "Fatima", "José", "Chloé", "Ngozi", "Piotr")
LAST_NAMES = ("Smith", "O'Neil", "García", "Müller", "Tanaka", "Nowak", "Dubois", "Okafor", "Rossi")
DOMAINS = ("gmail.com", "example.com", "googlemail.com", "outlook.com", "shop.example.org")
CITIES = (
    ("Menlo Park", "CA", "94025", "US", "+1 650-555-{:04d}"),
    ("Austin", "TX", "73301", "US", "(512) 555-{:04d}"),
    ("Berlin", "BE", "10115", "DE", "+49 30 5555{:04d}"),
    ("Paris", "IDF", "75001", "FR", "+33 1 45 55 {:04d}"),
    ("London", "LND", "SW1A 1AA", "GB", "+44 20 7946 {:04d}"),
)
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)
STAGES = ("Marketing Qualified Lead", "Sales Qualified Lead", "Sales Accepted Lead")


def _token(
    rng: random.Random,
    n: int,
    alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def empty_click_ids() -> dict[str, str | None]:
    """A ClickIds record with every identifier absent."""
    return dict.fromkeys(CLICK_ID_KINDS)


def random_click_ids(rng: random.Random, now_ms: int) -> dict[str, str | None]:
    """A plausible set of click IDs and cookies, as a landing page would capture them."""
    ids = empty_click_ids()
    landed_ms = now_ms - rng.randint(60_000, 3 * 86_400_000)
    fbclid = "IwAR" + _token(rng, 40)
    ids["fbclid"] = fbclid
    ids["fbc"] = f"fb.1.{landed_ms}.{fbclid}"
    ids["fbp"] = f"fb.1.{landed_ms - 86_400_000}.{rng.randint(10**9, 2 * 10**9)}"
    if rng.random() < 0.8:
        ids["gclid"] = "Cj0KCQ" + _token(rng, 60)
    else:
        ids["gbraid"] = "0AAAAA" + _token(rng, 30)
    ids["ttclid"] = "E.C.P." + _token(rng, 50)
    ids["ttp"] = _token(rng, 27)
    ids["li_fat_id"] = str(uuid.UUID(int=rng.getrandbits(128)))
    ids["sc_click_id"] = str(uuid.UUID(int=rng.getrandbits(128)))
    ids["epik"] = "dj0yJnU9" + _token(rng, 30)
    ids["rdt_cid"] = str(rng.randint(10**17, 10**18))
    ids["msclkid"] = _token(rng, 32, "0123456789abcdef")
    return ids


@dataclass
class SampleGenerator:
    """Deterministic stream of purchase, lead and qualified events (as schema dicts + "type").

    ``click_id_share`` of events carry click IDs themselves; ``known_user_share`` of events use a
    user id from a small pool so that enrichment by user id has something to find.
    """

    seed: int = 7
    click_id_share: float = 0.5
    known_user_share: float = 0.3
    user_pool: int = 1000
    rng: random.Random = field(init=False)
    _leads: list[dict[str, Any]] = field(init=False, default_factory=list)
    _counter: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def user_id(self, n: int) -> str:
        """The pooled user id number ``n`` (shared with captures from `captures`)."""
        return f"user-{self.seed}-{n}"

    def _user(self) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, state, zip_code, country, phone_fmt = rng.choice(CITIES)
        local = f"{first}.{last}".replace("'", "").replace(" ", "")
        email = f"  {local}{rng.randint(1, 999)}@{rng.choice(DOMAINS)} " if rng.random() < 0.9 else None
        if email and rng.random() < 0.1:
            email = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        known = rng.random() < self.known_user_share
        return {
            "external_id": self.user_id(rng.randrange(self.user_pool))
            if known
            else f"anon-{uuid.UUID(int=rng.getrandbits(128))}",
            "anonymous_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "session_id": None,
            "email": email,
            "phone": phone_fmt.format(rng.randint(0, 9999)) if rng.random() < 0.7 else None,
            "first_name": first,
            "last_name": last,
            "date_of_birth": f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            if rng.random() < 0.3
            else None,
            "gender": rng.choice(("f", "m", None)),
            "street": None,
            "city": city,
            "state": state,
            "postal_code": zip_code,
            "country": country,
            "maid": None,
        }

    def _common(self, now_ms: int) -> dict[str, Any]:
        rng = self.rng
        self._counter += 1
        click_ids = random_click_ids(rng, now_ms) if rng.random() < self.click_id_share else empty_click_ids()
        return {
            "event_time": now_ms - rng.randint(0, 3_600_000),
            "user": self._user(),
            "click_ids": click_ids,
            "consent": {
                "ad_user_data": "GRANTED",
                "ad_personalization": rng.choice(("GRANTED", "UNSPECIFIED")),
                "ad_storage": "GRANTED",
                "limited_data_use": rng.random() < 0.05,
                "ldu_country": None,
                "ldu_state": None,
            },
            "context": {
                "action_source": "WEBSITE",
                "page_url": "https://shop.example.com/checkout/success",
                "referrer_url": None,
                "ip_address": f"203.0.113.{rng.randint(1, 254)}",
                "user_agent": rng.choice(USER_AGENTS),
                "site_id": None,
                "locale": "en-US",
            },
        }

    def purchase(self, now_ms: int) -> dict[str, Any]:
        """One purchase event."""
        rng = self.rng
        event = self._common(now_ms)
        order_id = f"ORD-{self.seed}-{self._counter}"
        items: list[dict[str, Any]] = [
            {
                "id": f"SKU-{rng.randint(1, 500)}",
                "quantity": rng.randint(1, 3),
                "price": round(rng.uniform(5, 200), 2),
                "name": None,
                "category": None,
            }
            for _ in range(rng.randint(1, 3))
        ]
        event.update(
            type="purchase",
            event_id=order_id,
            order_id=order_id,
            value=round(sum(i["price"] * i["quantity"] for i in items), 2),
            currency=rng.choice(("EUR", "USD", "GBP")),
            items=items,
        )
        return event

    def lead(self, now_ms: int) -> dict[str, Any]:
        """One lead event; remembered so later qualified events can refer to it."""
        event = self._common(now_ms)
        event["context"]["page_url"] = "https://www.example.com/contact"
        lead_id = f"LEAD-{self.seed}-{self._counter}"
        event.update(
            type="lead",
            event_id=lead_id,
            lead_id=lead_id,
            form_id="contact-form",
            platform_lead_id=None,
            value=None,
            currency=None,
        )
        self._leads.append(event)
        if len(self._leads) > 5000:
            del self._leads[:1000]
        return event

    def qualified(self, now_ms: int) -> dict[str, Any]:
        """A qualified event for an earlier lead (same person and identifiers), or a fresh one."""
        rng = self.rng
        lead = rng.choice(self._leads) if self._leads else self.lead(now_ms - 86_400_000)
        event = self._common(now_ms)
        event["user"] = dict(lead["user"])
        event["click_ids"] = dict(lead["click_ids"])
        event["context"] = dict(lead["context"], action_source="SYSTEM_GENERATED", page_url=None)
        stage = rng.choice(STAGES)
        event.update(
            type="qualified",
            event_id=f"{lead['lead_id']}-{stage.split()[0].lower()}-{self._counter}",
            lead_id=lead["lead_id"],
            stage=stage,
            lead_created_time=lead["event_time"],
            crm_name="Salesforce",
            platform_lead_id=None,
            value=round(rng.uniform(50, 500), 2),
            currency="EUR",
        )
        event["event_time"] = max(event["event_time"], lead["event_time"] + 1)
        return event

    def events(self, n: int, now_ms: int) -> Iterator[dict[str, Any]]:
        """``n`` events mixed roughly 40% purchase, 40% lead, 20% qualified."""
        for _ in range(n):
            r = self.rng.random()
            if r < 0.4:
                yield self.purchase(now_ms)
            elif r < 0.8:
                yield self.lead(now_ms)
            else:
                yield self.qualified(now_ms)

    def capture_for_user(self, n: int, now_ms: int) -> dict[str, Any]:
        """A ClickIdCapture record for pooled user ``n`` (what the landing page publishes)."""
        rng = self.rng
        ids = random_click_ids(rng, now_ms)
        return {
            "capture_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "capture_time": now_ms - rng.randint(60_000, 86_400_000),
            "external_id": self.user_id(n),
            "anonymous_id": None,
            "session_id": None,
            "lead_id": None,
            "email_sha256": None,
            "click_ids": ids,
            "landing_url": f"https://shop.example.com/?fbclid={ids['fbclid']}",
            "referrer_url": None,
            "cookie_domain": "example.com",
            "ip_address": "198.51.100.7",
            "user_agent": USER_AGENTS[0],
            "site_id": None,
        }
