"""Sample payloads as the sources send them: what `make demo` posts."""

from __future__ import annotations

import time
import uuid
from typing import Any


def sample_events() -> list[tuple[str, Any]]:
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
