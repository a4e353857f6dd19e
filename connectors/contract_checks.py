"""Contract-level value checks, made once for every platform before any connector maps an event.

A negative order value or a currency that is not an ISO 4217 code is a producer's mistake, not a
platform's preference: it used to be refused by some connectors and delivered by others (a
currency ``XXXX`` went to Google; a negative value to Meta, Google and TikTok). `contract_reject`
says why such an event cannot be sent, in one reason and code shared by every routed platform;
`contract_checked` extends each connector class so the relay and ``dlq replay`` (which build connectors
the same way) both apply it. A value of 0 stays allowed (a free order is still a conversion).

The currency list is ISO 4217's List One of current currency codes (maintained by SIX Group for
ISO: https://www.six-group.com/en/products-services/financial-information/data-standards.html),
plus codes withdrawn recently enough that producers may still send them (ANG, CUC, HRK, SLL,
VEF, ZWL) — refusing those is left to the platforms. The X-codes for precious metals, SDR-like
units, testing (XTS) and "no currency" (XXX) are not money and are refused.
"""

from __future__ import annotations

import math
from typing import TypeVar, cast

from connectors.base import Event, Item, Reject
from connectors.normalize import currency as normalized_currency

# fmt: off
ISO_4217 = frozenset(
    {
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
        "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
        "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF",
        "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD",
        "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
        "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP",
        "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
        "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
        "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG",
        "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS",
        "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW",
        "UZS", "VED", "VEF", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR",
        "ZMW", "ZWG", "ZWL",
    }
)
# fmt: on

C = TypeVar("C")


def contract_reject(event: Event) -> Reject | None:
    """Why the event's value or currency cannot be sent to any platform, or None."""
    value = event.get("value")
    if value is not None:
        if not isinstance(value, int | float) or not math.isfinite(value):
            return Reject("value is not a finite number", code="invalid_value")
        if value < 0:
            return Reject("value is negative", code="invalid_value")
    raw = event.get("currency")
    if raw is not None:
        code = normalized_currency(raw) if isinstance(raw, str) else None
        if code is None or code not in ISO_4217:
            return Reject("currency is not an ISO 4217 code", code="invalid_currency")
    return None


class _ContractCheckedMixin:
    """Runs `contract_reject` before the connector's own ``map_event``."""

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """The contract check, then the connector's own mapping."""
        return contract_reject(event) or super().map_event(event, now_ms)  # type: ignore[misc]


_CHECKED: dict[type, type] = {}


def contract_checked(cls: type[C]) -> type[C]:
    """A subclass of the connector class whose ``map_event`` applies the contract check first
    (same slug, limits and settings model: the registry, dispatchers and tests see no difference)."""
    checked = _CHECKED.get(cls)
    if checked is None:
        checked = _CHECKED[cls] = type(cls.__name__, (_ContractCheckedMixin, cls), {})
    return cast("type[C]", checked)
