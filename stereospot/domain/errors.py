"""Errors the domain raises. Messages are sentences a person can read."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""


class IllegalTransition(DomainError):
    """A job was asked to move to a status the transition table forbids."""


class InvalidKey(DomainError):
    """An object key that no key pattern accepts (or that tries to escape its prefix)."""


class InvalidJobId(DomainError):
    """A job id that is not a UUID."""


class MalformedMessage(DomainError):
    """A queue message body that is not a valid message of any known type."""


class ObjectNotFound(DomainError):
    """The storage holds no object under this key (every ObjectStorage adapter raises it)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"a stored file is missing: {key}")
        self.key = key


class SignatureInvalid(DomainError):
    """A signed link that was not signed by us, was altered, or does not grant this request."""


class SignatureExpired(SignatureInvalid):
    """A signed link whose expiry has passed."""


class InvalidIdentity(DomainError):
    """A sign-in identity (the load balancer's signed header) that does not check out."""


class ObjectTooLarge(DomainError):
    """An upload went past the size its link allows."""


class JobNotFound(DomainError):
    """No job (or only a deleted one) has this id."""


class JobNotRemovable(DomainError):
    """Only completed or failed jobs may be removed."""


class ConditionFailed(DomainError):
    """A conditional write lost: the stored record was not in the expected state.

    Adapters raise it the way DynamoDB raises ConditionalCheckFailedException.
    """


class AlreadyExists(ConditionFailed):
    """A create-if-absent found the record already there."""


class MediaError(DomainError):
    """The input is not a video we can convert. The message is shown to the user."""


class FetchError(DomainError):
    """A source URL could not be downloaded. The message is shown to the user."""


class InferenceError(DomainError):
    """The inference backend could not convert a segment."""


class BackendMisconfigured(Exception):
    """The configured inference backend cannot work at all (no URL, unknown endpoint or
    model). Not a DomainError: no job is at fault; the worker stops with this message."""
