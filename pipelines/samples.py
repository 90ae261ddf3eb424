"""Sample payloads as the sources send them: what `make demo` posts, per source kind.

Each kind's samples are shaped like that source's real payloads and carry the fields its
example spec maps (examples/<kind>.yaml): two good events of one person or device, so a
Profile pipeline shows them stitched, and one that the run fails, so the demo shows AEP's
error. The Pendo ones also fit the repository's pipelines.yaml.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any, Callable

Samples = list[tuple[str, Any]]


def _iso(offset_s: float = 0.0) -> str:
    """Now (plus `offset_s`), as the ISO-8601 UTC time most JSON producers send."""
    t = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset_s)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sample_events() -> Samples:
    """Pendo webhook events as Pendo posts them: two good ones and one the schema rejects."""
    now = int(time.time() * 1000)
    base = {"accountId": "acme-corp", "visitorId": "visitor-42", "remoteIp": "203.0.113.7",
            "browserTime": now, "subscriptionId": "6591622502678528", "appId": "-323232"}
    return [
        ("guideDisplayed", {**base, "type": "guideDisplayed", "uniqueId": str(uuid.uuid4()), "timestamp": now,
                            "properties": {"guideProperties": {"id": "guide-onboarding", "name": "Welcome tour"},
                                           "stepProperties": {"id": "step-1", "index": 0}}}),
        ("pollDisplayed", {**base, "type": "pollDisplayed", "uniqueId": str(uuid.uuid4()), "timestamp": now + 1,
                           "properties": {"guideProperties": {"id": "guide-nps", "name": "NPS survey"},
                                          "pollProperties": {"id": "poll-nps", "question": "How likely..."}}}),
        # Malformed: a timestamp that is no time at all. The inlet accepts it (200), as AEP
        # does; mapping/validation then fails it, and the run shows it as failed.
        ("malformed (bad timestamp)", {**base, "type": "guideDisplayed", "uniqueId": str(uuid.uuid4()),
                                       "timestamp": "yesterday at noon",
                                       "properties": {"guideProperties": {"name": "Broken guide"}}}),
    ]


def chatlio_events() -> Samples:
    """Chatlio webhook bodies (the shape of Adobe's Chatlio sample JSON): a conversation that starts,
    the visitor's next message, and one without the visitor's UUID (the primary identity)."""
    visitor = {"email": "ada@example.com", "UUID": "2d3f4260-2235-903b-0a82-a23d326cc257"}
    slack = {"channelId": "C04J7M7LCMQ", "slackChannelName": "aep", "slackChannelId": "C04JVR71WKS"}
    return [
        ("new conversation", {"visitor": visitor, "message": "Hi, is the Pro plan billed yearly?", **slack}),
        ("visitor message", {"visitor": visitor, "message": "Thanks, that helps!", **slack}),
        # No visitor UUID: the schema's primary identity is empty, so the run fails the record.
        ("malformed (no visitor UUID)", {"visitor": {"email": "anon@example.com"}, "message": "Hello?", **slack}),
    ]


def customerio_events() -> Samples:
    """Customer.io reporting-webhook bodies (the shape of Adobe's Customer.io sample JSON): a
    customer subscribing, an email sent to them, and one whose timestamp is not a time."""
    now = int(time.time())
    ids = {"id": "42", "email": "ada@example.com", "cio_id": "d9c106000001"}
    return [
        ("customer subscribed", {"event_id": "01E4C4CT6YDC7Y5M7FE1GWWPQJ", "object_type": "customer",
                                 "metric": "subscribed", "timestamp": now,
                                 "data": {"customer_id": "42", "email_address": "ada@example.com",
                                          "identifiers": ids}}),
        ("email sent", {"event_id": "01E4C4CT6YDC7Y5M7FE1GWWPQK", "object_type": "email", "metric": "sent",
                        "timestamp": now + 1,
                        "data": {"customer_id": "42", "email_address": "ada@example.com", "identifiers": ids,
                                 "delivery_id": "RMehBAAAAXE7r_ONUGXly9DBGkpq1JS31w==", "action_id": 36,
                                 "broadcast_id": 9, "subject": "Welcome aboard"}}),
        ("malformed (bad timestamp)", {"event_id": "01E4C4CT6YDC7Y5M7FE1GWWPQM", "object_type": "email",
                                       "metric": "opened", "timestamp": "last tuesday",
                                       "data": {"customer_id": "42", "identifiers": ids}}),
    ]


def order_events() -> Samples:
    """Checkout-service orders posted to the HTTP API (examples/http-streaming.yaml)."""
    customer = {"id": "cust-42", "email": "Ada@Example.com"}
    return [
        ("order placed", {"orderId": "ord-1001", "status": "placed", "placedAt": _iso(), "customer": customer,
                          "total": {"amount": 59.9, "currency": "EUR"}, "itemCount": 2, "channel": "web"}),
        ("order shipped", {"orderId": "ord-1001", "status": "shipped", "placedAt": _iso(1), "customer": customer,
                           "total": {"amount": 59.9, "currency": "EUR"}, "itemCount": 2, "channel": "web"}),
        ("malformed (item count)", {"orderId": "ord-1002", "status": "placed", "placedAt": _iso(2),
                                    "customer": customer, "total": {"amount": 10, "currency": "EUR"},
                                    "itemCount": "two", "channel": "web"}),
    ]


def ticket_events() -> Samples:
    """Help-desk tickets posted to the authenticated HTTP API (examples/http-authenticated.yaml)."""
    requester = {"id": "cust-42", "email": "ada@example.com"}
    return [
        ("ticket opened", {"ticket": {"id": "T-5812", "subject": "Cannot log in", "priority": "high",
                                      "status": "open"}, "requester": requester, "createdAt": _iso(),
                           "tags": ["login", "web"]}),
        ("ticket solved", {"ticket": {"id": "T-5812", "subject": "Cannot log in", "priority": "high",
                                      "status": "solved"}, "requester": requester, "createdAt": _iso(1)}),
        ("malformed (bad createdAt)", {"ticket": {"id": "T-5813", "subject": "Refund", "priority": "low",
                                                  "status": "open"}, "requester": requester,
                                       "createdAt": "soon"}),
    ]


def clickstream_records() -> Samples:
    """Clickstream records as a producer puts them on the Kinesis stream (examples/kinesis.yaml)."""
    base = {"sessionId": "s-77", "userId": "u-42", "device": {"type": "mobile"}}
    return [
        ("page_view", {**base, "eventId": str(uuid.uuid4()), "eventType": "page_view", "occurredAt": _iso(),
                       "page": {"url": "https://shop.example.com/", "title": "Home",
                                "referrer": "https://www.example.com/"}}),
        ("add_to_cart", {**base, "eventId": str(uuid.uuid4()), "eventType": "add_to_cart", "occurredAt": _iso(1),
                         "page": {"url": "https://shop.example.com/cart", "title": "Cart"}}),
        ("malformed (bad occurredAt)", {**base, "eventId": str(uuid.uuid4()), "eventType": "page_view",
                                        "occurredAt": "n/a", "page": {"url": "https://shop.example.com/x"}}),
    ]


def telemetry_records() -> Samples:
    """Device readings as the devices send them to the Event Hub (examples/eventhubs.yaml)."""
    device = {"deviceId": "thermo-0042", "model": "TX-200", "firmware": "2.4.1"}
    return [
        ("reading", {**device, "recordedAt": _iso(), "readings": {"temperatureC": 21.5, "humidityPct": 40},
                     "batteryPct": 87}),
        ("reading", {**device, "recordedAt": _iso(60), "readings": {"temperatureC": 21.9, "humidityPct": 41},
                     "batteryPct": 86}),
        # No deviceId: the schema's primary identity is empty, so the run fails the record.
        ("malformed (no deviceId)", {"model": "TX-200", "recordedAt": _iso(61),
                                     "readings": {"temperatureC": 19.0}}),
    ]


def purchase_messages() -> Samples:
    """Purchase messages' data as the app backend publishes them to Pub/Sub (examples/pubsub.yaml)."""
    base = {"userId": "u-42", "currency": "USD", "platform": "ios", "appVersion": "5.2.0"}
    return [
        ("purchase", {**base, "purchaseId": "p-9001", "product": {"sku": "SKU-123", "name": "Pro plan"},
                      "amount": 9.99, "purchasedAt": _iso()}),
        ("purchase", {**base, "purchaseId": "p-9002", "product": {"sku": "SKU-456", "name": "Extra storage"},
                      "amount": 1.99, "purchasedAt": _iso(1)}),
        ("malformed (amount)", {**base, "purchaseId": "p-9003", "product": {"sku": "SKU-789"},
                                "amount": "free", "purchasedAt": _iso(2)}),
    ]


SAMPLES: dict[str, Callable[[], Samples]] = {
    "pendo": sample_events,
    "chatlio": chatlio_events,
    "customerio": customerio_events,
    "http-streaming": order_events,
    "http-authenticated": ticket_events,
    "kinesis": clickstream_records,
    "eventhubs": telemetry_records,
    "pubsub": purchase_messages,
}


def samples_for(kind: str) -> Samples:
    """The sample payloads of source kind `kind` (a kind of the source catalog)."""
    try:
        return SAMPLES[kind]()
    except KeyError:
        raise ValueError(f"no sample payloads for source kind {kind!r}; known: {', '.join(SAMPLES)}") from None
