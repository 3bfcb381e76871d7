"""Object-created notifications, locally: what S3 event notifications do on AWS.

The filesystem storage calls `on_created(key, size)` after each write; the router sends
ObjectCreated to the queue the domain's routing table names (none if no route matches),
with the bucket the key would live in on AWS.
"""

from __future__ import annotations

from stereospot.domain.ports import Queues
from stereospot.domain.services.object_events import notify_created


class ObjectEventRouter:
    def __init__(self, queues: Queues) -> None:
        self._queues = queues

    def on_created(self, key: str, size: int) -> None:
        notify_created(self._queues, key, size)
