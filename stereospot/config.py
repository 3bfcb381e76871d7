"""Settings, from the environment (prefix STEREOSPOT_) and defaults.

Nested groups use a double underscore: STEREOSPOT_AWS__INPUT_BUCKET, and so on.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from stereospot.domain.routing import QueueName


class UnknownPlatform(ValueError):
    """STEREOSPOT_PLATFORM names no module of stereospot/platforms/ (raised when the
    container is built; the message lists the known platforms)."""


class Platform(StrEnum):
    """The platforms that ship with StereoSpot. STEREOSPOT_PLATFORM takes any module name
    under stereospot/platforms/ (the container lists the known ones when it is not)."""

    MEMORY = "memory"  # unit tests
    LOCAL = "local"  # the embedded default: files on disk, SQLite
    AWS = "aws"


class InferenceBackendKind(StrEnum):
    LOCAL = "local"  # the engine in-process
    HTTP = "http"  # an HTTP server speaking the SageMaker contract
    TRITON = "triton"
    SAGEMAKER = "sagemaker"  # SageMaker async endpoint


class AuthMode(StrEnum):
    NONE = "none"  # only while the web app listens on loopback
    PASSWORD = "password"  # noqa: S105 - one password (its scrypt hash), a login page, API tokens
    OIDC_HEADER = "oidc-header"  # the identity an AWS load balancer's OIDC action signs


# Short on purpose: a worker extends its message's visibility by heartbeat (every third of
# this) while it works, so a message held by a process that died reappears within minutes.
RECOVERY_VISIBILITY_S = 150


class QueueTimeouts(BaseModel):
    """Visibility timeouts in seconds (as in Terraform)."""

    chunking: int = RECOVERY_VISIBILITY_S
    video_worker: int = RECOVERY_VISIBILITY_S
    output_events: int = RECOVERY_VISIBILITY_S
    reassembly: int = RECOVERY_VISIBILITY_S
    deletion: int = RECOVERY_VISIBILITY_S
    ingest: int = RECOVERY_VISIBILITY_S

    def by_queue(self) -> dict[QueueName, int]:
        return {
            QueueName.CHUNKING: self.chunking,
            QueueName.VIDEO_WORKER: self.video_worker,
            QueueName.OUTPUT_EVENTS: self.output_events,
            QueueName.REASSEMBLY: self.reassembly,
            QueueName.DELETION: self.deletion,
            QueueName.INGEST: self.ingest,
        }


class AwsSettings(BaseModel):
    """Names of the deployed resources; Terraform's outputs write these variables."""

    region: str = "us-east-1"
    # Operator links (Settings.operator_links): the services' log groups, the App tag.
    log_groups: tuple[str, ...] = (
        "/stereospot/web",
        "/stereospot/media-worker",
        "/stereospot/video-worker",
    )
    app_tag: str = "stereospot"
    endpoint_url: str | None = None  # moto or LocalStack; None on AWS
    input_bucket: str = "stereospot-input"
    output_bucket: str = "stereospot-output"
    jobs_table: str = "stereospot-jobs"
    segment_completions_table: str = "stereospot-segment-completions"
    segment_progress_table: str = "stereospot-segment-progress"
    reassembly_table: str = "stereospot-reassembly-triggered"
    invocations_table: str = "stereospot-inference-invocations"
    push_subscriptions_table: str = "stereospot-push-subscriptions"
    chunking_queue_url: str = ""
    video_worker_queue_url: str = ""
    output_events_queue_url: str = ""
    reassembly_queue_url: str = ""
    deletion_queue_url: str = ""
    ingest_queue_url: str = ""
    # DynamoDB streams -> EventBridge Pipes -> this SNS topic -> one queue per web task,
    # named {web_events_queue_prefix}-{task id}, made and deleted by the task itself.
    job_events_topic_arn: str = ""
    web_events_queue_prefix: str = "stereospot-web-events"
    # A single fixed queue instead of the topic (one web task only: tasks would split it).
    job_events_queue_url: str = ""
    sagemaker_endpoint: str = ""
    sagemaker_runtime_url: str | None = None  # the runtime API's endpoint, if not the default
    multipart_threshold_bytes: int = 64 * 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STEREOSPOT_", env_nested_delimiter="__", extra="ignore"
    )

    platform: str = Platform.LOCAL.value  # a module of stereospot/platforms/
    data_dir: Path = Field(default=Path("~/.local/share/stereospot"))
    public_url: str = "http://127.0.0.1:8000"  # base of signed URLs served by the web app
    secret_key: SecretStr | None = None  # signs URLs and CSRF tokens; generated if None
    inference_backend: InferenceBackendKind = InferenceBackendKind.LOCAL
    inference_url: str = "http://127.0.0.1:8080"  # http / triton backends
    inference_concurrency: int = Field(default=1, ge=1, le=64)
    # Remote backends (http, triton, sagemaker): see stereospot/adapters/inference/.
    inference_connect_timeout_s: float = Field(default=5.0, gt=0)
    inference_read_timeout_s: float = Field(default=30 * 60.0, gt=0)  # one segment's conversion
    inference_retries: int = Field(default=4, ge=0, le=20)  # on connection errors, 429, 5xx
    inference_retry_base_s: float = Field(default=1.0, ge=0)  # doubles per retry, with jitter
    inference_ready_timeout_s: float = Field(default=300.0, ge=0)  # wait at worker start
    inference_max_in_flight: int = Field(default=4, ge=1, le=1000)  # sagemaker, all workers
    inference_invocation_timeout_s: int = Field(default=3600, ge=1)  # a lost response's slot
    inference_slot_wait_s: int = Field(default=5, ge=0, le=900)  # all slots taken: retry in
    triton_model: str = "stereo"
    # The inference server (`stereospot inference serve|triton`).
    depth_model: str = "auto"  # model id, local directory, builtin, auto
    inference_stub: bool = False  # answer without a model (a first deploy reaching InService)
    inference_file_root: Path | None = None  # file:// URIs must lie under it (default data dir)
    hf_token_secret_arn: str | None = None  # Secrets Manager secret holding the HF token
    device: str = "auto"  # auto | cpu | cuda
    segment_seconds: float = Field(default=10.0, gt=0.5, le=600)
    max_upload_bytes: int = Field(default=8 * 1024**3, ge=1024)
    upload_url_expiry_s: int = 3600
    download_url_expiry_s: int = 6 * 3600
    playlist_url_expiry_s: int = 7 * 24 * 3600
    max_receives: int = Field(default=5, ge=1)
    reassembly_lock_ttl_s: int = 7 * 24 * 3600
    reassembly_lease_s: int = 30 * 60
    # A job still waiting for its uploaded file after this long is removed by the cleanup.
    abandoned_upload_s: int = Field(default=24 * 3600, ge=60)
    queue_timeouts: QueueTimeouts = QueueTimeouts()
    aws: AwsSettings = AwsSettings()
    vapid_private_key: SecretStr | None = None
    vapid_public_key: str | None = None
    # AWS job pages link to the job's logs and the stack's cost (for operators).
    operator_links: bool = False
    vapid_subject: str = "mailto:admin@localhost"
    # A push service answering 5xx/429 or unreachable: tries after the first, the first
    # wait (doubling), and the longest wait (also caps Retry-After); then the outbox sweep.
    push_retries: int = Field(default=3, ge=0, le=10)
    push_retry_base_s: float = Field(default=0.5, ge=0)
    push_retry_max_wait_s: float = Field(default=5.0, ge=0, le=60)
    log_level: str = "INFO"
    # Outbound guard (ingest links, push endpoints): private addresses are never fetched
    # unless allowed here: "true" for all, or networks such as "10.0.0.0/8,127.0.0.3/32".
    fetch_allow_private: str = ""
    # Host names the web app answers besides public_url's (comma-separated); any other Host
    # header gets 400 (DNS rebinding). Locally localhost, 127.0.0.1 and [::1] are added.
    trusted_hosts: str = ""
    # Proxies whose X-Forwarded-Proto/-For are believed (networks, e.g. the ALB's subnets).
    trusted_proxies: str = ""
    auth: AuthMode = AuthMode.NONE
    auth_password_hash: SecretStr | None = None  # from `stereospot hash-password`
    auth_oidc_key_url: str = "https://public-keys.auth.elb.{region}.amazonaws.com/{kid}"
    auth_oidc_signer: str = ""  # the load balancer's ARN; when set, tokens must name it
    auth_session_hours: int = Field(default=7 * 24, ge=1)
    # The web server's limits on slow clients (slowloris). A request's headers must arrive
    # within http_idle_timeout_s of connecting (or of the previous response), and an idle
    # keep-alive connection is closed after it; behind a load balancer, make it longer
    # than the balancer's idle timeout. A form or JSON body must arrive in full within
    # http_body_timeout_s (else 408), an upload may pause at most upload_idle_timeout_s.
    # None of them closes a live event stream, which sends and never reads.
    http_idle_timeout_s: float = Field(default=5.0, gt=0, le=3600)
    http_body_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    upload_idle_timeout_s: float = Field(default=60.0, gt=0, le=3600)

    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()
