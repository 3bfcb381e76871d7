"""Object-created events: tell the queue that the routing table names about a new object.

Pure glue (the queue is a port), shared by every platform whose storage notifies in-process
(memory, local). On AWS, S3 notifications do the same from the same table.
"""

from __future__ import annotations

import logging

from stereospot.domain.messages import ObjectCreated
from stereospot.domain.ports import Queues
from stereospot.domain.routing import bucket_for_key, route

log = logging.getLogger(__name__)


def notify_created(queues: Queues, key: str, size: int | None = None) -> str | None:
    """Send ObjectCreated for `key` to its routed queue; the message id, or None if unrouted."""
    queue = route(key)
    if queue is None:
        return None
    message = ObjectCreated(bucket=bucket_for_key(key).value, key=key, size=size)
    message_id = queues[queue].send(message.to_body())
    log.debug("object %s -> %s", key, queue.value)
    return message_id
