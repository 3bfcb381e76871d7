"""Composition root: the only place that knows which adapter serves which port.

    settings ─▶ platform container (memory | local | aws: stores, storage, queues, events,
                and everything else that differs by platform; see platforms/base.py)
             ─▶ Application: what every platform shares (clock, media toolkit, inference
                backend, push sender, source fetcher, policy) and `Deps` for the use cases

A platform's module is imported only when it is selected (a local install needs no boto3),
and so is an inference backend's (the http, triton and sagemaker clients are optional).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dependency_injector import containers, providers

from stereospot import platforms
from stereospot.adapters.auth.passwords import PasswordCredentials
from stereospot.adapters.inference.local import LocalInferenceBackend
from stereospot.adapters.inference.preview import StillPreviewer
from stereospot.adapters.local.signing import UrlSigner
from stereospot.adapters.local.storage import FilesystemObjectStorage
from stereospot.adapters.local.system import SystemClock, pid_alive
from stereospot.adapters.media.pyav_toolkit import PyAVToolkit
from stereospot.config import AuthMode, AwsSettings, InferenceBackendKind, Settings
from stereospot.domain.ports import (
    InferenceBackend,
    ObjectStorage,
    PushSender,
    ScratchSpace,
    SourceFetcher,
)
from stereospot.domain.routing import Bucket
from stereospot.domain.services.deps import Deps, Policy
from stereospot.platforms.base import PlatformProviders

if TYPE_CHECKING:
    from inference_server.service import ServiceOptions, UriStorage
    from stereospot.adapters.auth.alb_oidc import AlbOidcVerifier
    from stereospot.adapters.aws.s3_storage import S3ObjectStorage
    from stereospot.platforms.base import PlatformProviders


class MissingComponent(RuntimeError):
    """The settings select a part this installation does not have."""


def policy_from(settings: Settings, max_upload_bytes: int) -> Policy:
    return Policy(
        segment_seconds=settings.segment_seconds,
        max_upload_bytes=max_upload_bytes,
        upload_url_expiry_s=settings.upload_url_expiry_s,
        download_url_expiry_s=settings.download_url_expiry_s,
        reassembly_lock_ttl_s=settings.reassembly_lock_ttl_s,
        reassembly_lease_s=settings.reassembly_lease_s,
        abandoned_upload_s=settings.abandoned_upload_s,
        invocation_ttl_s=settings.inference_invocation_timeout_s,
        max_in_flight=settings.inference_max_in_flight,
        slot_wait_s=settings.inference_slot_wait_s,
    )


# ------------------------------------------------------------------ inference backends
# One class per STEREOSPOT_INFERENCE_BACKEND value, each with
# from_settings(settings, storage=, scratch=). The remote ones' modules (and their client
# libraries) are imported only when selected.


class BackendClass(Protocol):
    def from_settings(
        self, settings: Settings, *, storage: ObjectStorage, scratch: ScratchSpace
    ) -> InferenceBackend: ...


def _local() -> BackendClass:
    return LocalInferenceBackend


def _http() -> BackendClass:
    from stereospot.adapters.inference.http import HttpInferenceBackend

    return HttpInferenceBackend


def _triton() -> BackendClass:
    from stereospot.adapters.inference.triton import TritonInferenceBackend

    return TritonInferenceBackend


def _sagemaker() -> BackendClass:
    from stereospot.adapters.inference.sagemaker import SageMakerBackend

    return SageMakerBackend


def inference_backend(
    kind: InferenceBackendKind,
    backend_class: Callable[[], BackendClass],
    settings: Settings,
    storage: ObjectStorage,
    scratch: ScratchSpace,
) -> InferenceBackend:
    try:
        chosen = backend_class()
    except ModuleNotFoundError as exc:
        raise MissingComponent(
            f"STEREOSPOT_INFERENCE_BACKEND={kind.value} needs {exc.name}, which this"
            " installation lacks (install the matching extra, or choose another backend)"
        ) from exc
    return chosen.from_settings(settings, storage=storage, scratch=scratch)


_BACKEND_CLASSES: dict[InferenceBackendKind, Callable[[], BackendClass]] = {
    InferenceBackendKind.LOCAL: _local,
    InferenceBackendKind.HTTP: _http,
    InferenceBackendKind.TRITON: _triton,
    InferenceBackendKind.SAGEMAKER: _sagemaker,
}


def _backend_branches(settings: Any, platform: Any) -> dict[str, Any]:
    """The Selector's branches: one backend singleton per kind."""
    return {
        kind.value: providers.Singleton(
            inference_backend, kind, backend_class, settings, platform.storage, platform.scratch
        )
        for kind, backend_class in _BACKEND_CLASSES.items()
    }


# ------------------------------------------------------------------ optional parts
# pywebpush and yt-dlp are imported when first built (the web app and the workers that
# never push or fetch start faster).


def make_push_sender(vapid_key: str | None, settings: Settings) -> PushSender:
    from stereospot.adapters.push.webpush import PushRetry, push_sender

    retry = PushRetry(
        retries=settings.push_retries,
        base_s=settings.push_retry_base_s,
        max_wait_s=settings.push_retry_max_wait_s,
    )
    return push_sender(
        vapid_key, settings.vapid_subject, allow_private=settings.fetch_allow_private, retry=retry
    )


def make_fetcher(settings: Settings) -> SourceFetcher:
    from stereospot.adapters.ingest.ytdlp import YtDlpFetcher

    return YtDlpFetcher(allow_private=settings.fetch_allow_private)


def make_oidc_verifier(settings: Settings) -> AlbOidcVerifier | None:
    """The load balancer's identity check, on STEREOSPOT_AUTH=oidc-header only."""
    if settings.auth is not AuthMode.OIDC_HEADER:
        return None
    from stereospot.adapters.auth.alb_oidc import AlbOidcVerifier

    return AlbOidcVerifier(
        settings.aws.region, key_url=settings.auth_oidc_key_url, signer=settings.auth_oidc_signer
    )


def engine_storage(options: ServiceOptions) -> UriStorage:
    """The inference service's storage (`stereospot inference`): s3:// URIs in S3 (the
    options' region and endpoint), file:// URIs under the options' file root."""
    from inference_server.service import UriStorage

    def open_bucket(bucket: str) -> S3ObjectStorage:
        from stereospot.adapters.aws.clients import AwsClients
        from stereospot.adapters.aws.s3_storage import S3ObjectStorage

        aws = AwsSettings(region=options.aws_region, endpoint_url=options.aws_endpoint_url)
        s3 = AwsClients.from_settings(aws).s3
        return S3ObjectStorage(s3, {Bucket.INPUT: bucket, Bucket.OUTPUT: bucket})

    def open_files(root: Path) -> FilesystemObjectStorage:
        # Signed URLs are never made there; the signer is only a constructor argument.
        return FilesystemObjectStorage(root, UrlSigner(os.urandom(32), "http://127.0.0.1"))

    return UriStorage(options.file_root, open_bucket, open_files)


class Application(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    platform = providers.DependenciesContainer()

    clock = providers.Singleton(SystemClock)
    toolkit = providers.Singleton(PyAVToolkit)
    inference = providers.Selector(
        providers.Callable(lambda s: s.inference_backend.value, settings),
        **_backend_branches(settings, platform),
    )
    push_sender = providers.Singleton(make_push_sender, platform.vapid_key, settings)
    fetcher = providers.Singleton(make_fetcher, settings)
    # Previews of one frame for the create form: the engine on this process's CPU.
    previewer = providers.Singleton(StillPreviewer)
    policy = providers.Singleton(policy_from, settings, platform.max_upload_bytes)
    secret_key = providers.Callable(lambda key: key, platform.secret_key)
    # Sign-in: the password hash and API tokens, and the load balancer's identity header.
    credentials = providers.Singleton(PasswordCredentials)
    oidc_verifier = providers.Singleton(make_oidc_verifier, settings)
    # Whether a process still runs (the local workers' claims of dead processes).
    process_alive = providers.Object(pid_alive)

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
        push_sender=push_sender,
        clock=clock,
        scratch=platform.scratch,
        toolkit=toolkit,
        inference=inference,
        fetcher=fetcher,
        policy=policy,
    )


def platform_container(settings: Settings) -> PlatformProviders:
    """The selected platform's container: the module stereospot/platforms/<platform>.py
    (imported now, with its adapters); UnknownPlatform lists the known ones."""
    return platforms.container_class(settings.platform)(settings=settings)


def build_container(settings: Settings | None = None) -> Application:
    """The application container for `settings` (from the environment when None)."""
    settings = settings or Settings()
    return Application(settings=settings, platform=platform_container(settings))
