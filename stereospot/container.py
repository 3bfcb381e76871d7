"""Composition root: the only place that knows which adapter serves which port.

One platform container per place we run (memory, local, aws) provides the stores, storage,
queues and events; `Application` adds what every platform shares (clock, scratch, media
toolkit, inference backend, push, fetcher) and bundles it all into `Deps` for the use cases.
Platform modules are imported only when selected, so a local install never needs boto3.
"""

from __future__ import annotations

import importlib
import logging
import secrets
from typing import Any

from dependency_injector import containers, providers

from stereospot.config import InferenceBackendKind, Platform, Settings
from stereospot.domain.services.deps import Deps, Policy

logger = logging.getLogger(__name__)

_PLATFORM_MODULES: dict[Platform, str] = {
    Platform.MEMORY: "stereospot.platforms.memory",
    Platform.LOCAL: "stereospot.platforms.local",
    Platform.AWS: "stereospot.platforms.aws",
}

_INFERENCE_BACKENDS: dict[InferenceBackendKind, str] = {
    InferenceBackendKind.LOCAL: "stereospot.adapters.inference.local.LocalInferenceBackend",
    InferenceBackendKind.HTTP: "stereospot.adapters.inference.http.HttpInferenceBackend",
    InferenceBackendKind.TRITON: "stereospot.adapters.inference.triton.TritonInferenceBackend",
    InferenceBackendKind.SAGEMAKER: "stereospot.adapters.inference.sagemaker.SageMakerBackend",
}


def _import(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


# One presigned PUT carries at most 5 GiB on S3.
_S3_SINGLE_PUT_LIMIT = 5 * 1024**3


def policy_from(settings: Settings) -> Policy:
    return Policy(
        segment_seconds=settings.segment_seconds,
        max_upload_bytes=min(settings.max_upload_bytes, _S3_SINGLE_PUT_LIMIT)
        if settings.platform is Platform.AWS
        else settings.max_upload_bytes,
        upload_url_expiry_s=settings.upload_url_expiry_s,
        download_url_expiry_s=settings.download_url_expiry_s,
        reassembly_lock_ttl_s=settings.reassembly_lock_ttl_s,
        reassembly_lease_s=settings.reassembly_lease_s,
        abandoned_upload_s=settings.abandoned_upload_s,
        invocation_ttl_s=settings.inference_invocation_timeout_s,
        max_in_flight=settings.inference_max_in_flight,
        slot_wait_s=settings.inference_slot_wait_s,
    )


class _Lazy:
    """Stands in for an adapter until its first use, so Deps can be built where an optional
    part (torch, pywebpush, yt-dlp) is not installed or not needed by this process."""

    def __init__(self, provider: Any) -> None:
        self._provider = provider

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider(), name)


def _inference_backend(settings: Settings, storage: Any, scratch: Any) -> Any:
    backend_class = _import(_INFERENCE_BACKENDS[settings.inference_backend])
    return backend_class.from_settings(settings, storage=storage, scratch=scratch)


def _secret_key(settings: Settings) -> bytes:
    """Signs sessions and CSRF tokens (and local URLs): configured, kept on local disk, or
    random per process as a last resort (then sessions end with the process)."""
    if settings.platform is Platform.LOCAL or settings.secret_key is not None:
        return bytes(_import("stereospot.adapters.local.secret.secret_key")(settings))
    logger.warning("STEREOSPOT_SECRET_KEY is not set: sessions last until this process exits")
    return secrets.token_bytes(32)


class Application(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    platform = providers.DependenciesContainer()

    clock = providers.Singleton(
        lambda cls: cls(),
        providers.Callable(_import, "stereospot.adapters.local.system.SystemClock"),
    )
    scratch = providers.Singleton(
        lambda cls, settings: (
            cls(settings.resolved_data_dir() / "tmp")
            if settings.platform is Platform.LOCAL
            else cls()
        ),
        providers.Callable(_import, "stereospot.adapters.local.system.TempScratch"),
        settings,
    )
    toolkit = providers.Singleton(
        lambda cls: cls(),
        providers.Callable(_import, "stereospot.adapters.media.pyav_toolkit.PyAVToolkit"),
    )
    inference = providers.Singleton(_inference_backend, settings, platform.storage, scratch)
    push_sender = providers.Singleton(
        lambda cls, settings: cls.from_settings(settings),
        providers.Callable(_import, "stereospot.adapters.push.webpush.WebPushSender"),
        settings,
    )
    fetcher = providers.Singleton(
        lambda cls, settings: cls(allow_private=settings.fetch_allow_private),
        providers.Callable(_import, "stereospot.adapters.ingest.ytdlp.YtDlpFetcher"),
        settings,
    )
    # Previews of one frame for the create form: the engine on this process's CPU.
    previewer = providers.Singleton(
        lambda cls: cls(),
        providers.Callable(_import, "stereospot.adapters.inference.preview.StillPreviewer"),
    )
    policy = providers.Singleton(policy_from, settings)
    secret_key = providers.Singleton(_secret_key, settings)

    deps = providers.Singleton(
        Deps,
        jobs=platform.jobs,
        completions=platform.completions,
        progress=platform.progress,
        reassembly_lock=platform.reassembly_lock,
        invocations=platform.invocations,
        storage=platform.storage,
        queues=platform.queues,
        events=platform.events,
        push_subscriptions=platform.push_subscriptions,
        push_sender=providers.Factory(_Lazy, push_sender.provider),
        clock=clock,
        scratch=scratch,
        toolkit=providers.Factory(_Lazy, toolkit.provider),
        inference=providers.Factory(_Lazy, inference.provider),
        fetcher=providers.Factory(_Lazy, fetcher.provider),
        policy=policy,
    )


def build_container(settings: Settings | None = None) -> Application:
    """The application container for `settings` (from the environment when None).

    A platform module defines `PlatformContainer`, a DeclarativeContainer taking `settings`
    and providing: jobs, completions, progress, reassembly_lock, invocations, storage, queues,
    events, push_subscriptions, decoder (MessageDecoder).
    """
    settings = settings or Settings()
    platform_module = importlib.import_module(_PLATFORM_MODULES[settings.platform])
    platform = platform_module.PlatformContainer(settings=settings)
    return Application(settings=settings, platform=platform)
