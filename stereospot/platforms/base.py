"""What every platform container provides (each module in this package defines all of it).

Ports (stereospot.domain.ports):
    jobs, completions, progress, reassembly_lock, invocations, push_subscriptions
                     the stores
    storage          ObjectStorage (its writes fire the object-created routing)
    queues           Queues, one per QueueName
    events           JobEvents
    decoder          MessageDecoder: a queue body -> the messages it carries
    scratch          ScratchSpace for the workers

What else differs by platform:
    secret_key       bytes signing sessions and CSRF tokens (and local links)
    max_upload_bytes the most one upload may carry (the settings', capped by the storage)
    storage_origins  origins the page may PUT to and play from (its CSP)
    file_server      LocalFileServer when this web app serves the storage's links itself,
                     else None (the browser talks to the storage directly)
    vapid_key        the Web Push VAPID private key (PEM or base64), or None: push is off
    data_location    a line for people: where the data lives
    loopback_hosts   whether the web app also answers to localhost/127.0.0.1/[::1]
    console_links    whether job pages link to the cloud console (logs, cost)
"""

from __future__ import annotations

from typing import Any

from dependency_injector import containers, providers

from stereospot.config import Settings
from stereospot.domain.messages import parse_message


def decode_own_messages(body: str) -> list[object]:
    """MessageDecoder for platforms whose queues carry our own message bodies."""
    return [parse_message(body)]


def configured_vapid_key(settings: Settings) -> str | None:
    key = settings.vapid_private_key
    return key.get_secret_value() if key is not None else None


class PlatformProviders(containers.DeclarativeContainer):
    settings: providers.Dependency[Settings] = providers.Dependency(instance_of=Settings)

    jobs: providers.Provider[Any] = providers.Dependency()
    completions: providers.Provider[Any] = providers.Dependency()
    progress: providers.Provider[Any] = providers.Dependency()
    reassembly_lock: providers.Provider[Any] = providers.Dependency()
    invocations: providers.Provider[Any] = providers.Dependency()
    push_subscriptions: providers.Provider[Any] = providers.Dependency()
    storage: providers.Provider[Any] = providers.Dependency()
    queues: providers.Provider[Any] = providers.Dependency()
    events: providers.Provider[Any] = providers.Dependency()
    decoder: providers.Provider[Any] = providers.Dependency()
    scratch: providers.Provider[Any] = providers.Dependency()

    secret_key: providers.Provider[Any] = providers.Dependency(instance_of=bytes)
    max_upload_bytes: providers.Provider[Any] = providers.Dependency(instance_of=int)
    storage_origins: providers.Provider[Any] = providers.Dependency(instance_of=tuple)
    file_server: providers.Provider[Any] = providers.Dependency()
    vapid_key: providers.Provider[Any] = providers.Dependency()
    data_location: providers.Provider[Any] = providers.Dependency(instance_of=str)
    loopback_hosts: providers.Provider[Any] = providers.Dependency(instance_of=bool)
    console_links: providers.Provider[Any] = providers.Dependency(instance_of=bool)


PROVIDED = tuple(name for name in PlatformProviders.providers if name != "settings")
