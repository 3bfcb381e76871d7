"""The loop's MessageHandler on the use cases (dispatch)."""

from __future__ import annotations

from stereospot.domain.messages import Message
from stereospot.domain.ports import ProgressCallback
from stereospot.domain.routing import QueueName
from stereospot.domain.services import dispatch
from stereospot.domain.services.roles import Working


class UseCaseHandler:
    def __init__(self, deps: Working) -> None:
        self._deps = deps

    def handle(
        self,
        queue: QueueName,
        message: Message,
        message_id: str,
        on_progress: ProgressCallback | None,
    ) -> None:
        dispatch.handle_message(self._deps, queue, message, message_id, on_progress)

    def dead_letter(self, message: Message, attempts: int) -> None:
        dispatch.handle_dead_letter(self._deps, message, attempts)
