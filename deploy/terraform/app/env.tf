# The environment of every StereoSpot process of this stack, with exactly the STEREOSPOT_*
# names stereospot.config.Settings reads (tests/deploy compares the two). The ECS tasks get
# it as their environment; `terraform output -raw env_file` writes it for an operator's
# shell (stereospot aws smoke-test, stereospot submit).

locals {
  # Each web task makes its own queue of the job-events topic, named {this}-<task id>.
  web_events_prefix = "${local.name}-web-events"

  environment_all = {
    STEREOSPOT_PLATFORM         = "aws"
    STEREOSPOT_PUBLIC_URL       = local.public_url
    STEREOSPOT_AUTH             = local.listener_auth ? "oidc-header" : "password"
    STEREOSPOT_AUTH_OIDC_SIGNER = local.listener_auth ? module.alb.arn : ""
    STEREOSPOT_TRUSTED_PROXIES  = join(",", module.network.public_subnet_cidrs)
    # Longer than the load balancer's idle timeout, so the app never closes a keep-alive
    # connection the balancer is about to reuse (a 502); the balancer buffers the headers
    # of every request itself, so slow headers never reach the app.
    STEREOSPOT_HTTP_IDLE_TIMEOUT_S            = tostring(module.alb.idle_timeout_s + 5)
    STEREOSPOT_LOG_LEVEL                      = var.log_level
    STEREOSPOT_VAPID_SUBJECT                  = var.vapid_subject
    STEREOSPOT_INFERENCE_BACKEND              = module.inference.backend
    STEREOSPOT_INFERENCE_URL                  = module.inference.url
    STEREOSPOT_MAX_RECEIVES                   = tostring(local.stack.max_receives)
    STEREOSPOT_QUEUE_TIMEOUTS__CHUNKING       = tostring(local.queues["chunking"])
    STEREOSPOT_QUEUE_TIMEOUTS__VIDEO_WORKER   = tostring(local.queues["video-worker"])
    STEREOSPOT_QUEUE_TIMEOUTS__OUTPUT_EVENTS  = tostring(local.queues["output-events"])
    STEREOSPOT_QUEUE_TIMEOUTS__REASSEMBLY     = tostring(local.queues["reassembly"])
    STEREOSPOT_QUEUE_TIMEOUTS__DELETION       = tostring(local.queues["deletion"])
    STEREOSPOT_QUEUE_TIMEOUTS__INGEST         = tostring(local.queues["ingest"])
    STEREOSPOT_AWS__REGION                    = var.region
    STEREOSPOT_AWS__APP_TAG                   = var.app
    STEREOSPOT_AWS__LOG_GROUPS                = jsonencode(values(module.ecs.log_groups))
    STEREOSPOT_AWS__INPUT_BUCKET              = module.storage.input_bucket
    STEREOSPOT_AWS__OUTPUT_BUCKET             = module.storage.output_bucket
    STEREOSPOT_AWS__JOBS_TABLE                = module.tables.names["jobs_table"]
    STEREOSPOT_AWS__SEGMENT_COMPLETIONS_TABLE = module.tables.names["segment_completions_table"]
    STEREOSPOT_AWS__SEGMENT_PROGRESS_TABLE    = module.tables.names["segment_progress_table"]
    STEREOSPOT_AWS__REASSEMBLY_TABLE          = module.tables.names["reassembly_table"]
    STEREOSPOT_AWS__INVOCATIONS_TABLE         = module.tables.names["invocations_table"]
    STEREOSPOT_AWS__PUSH_SUBSCRIPTIONS_TABLE  = module.tables.names["push_subscriptions_table"]
    STEREOSPOT_AWS__CHUNKING_QUEUE_URL        = module.queues.urls["chunking"]
    STEREOSPOT_AWS__VIDEO_WORKER_QUEUE_URL    = module.queues.urls["video-worker"]
    STEREOSPOT_AWS__OUTPUT_EVENTS_QUEUE_URL   = module.queues.urls["output-events"]
    STEREOSPOT_AWS__REASSEMBLY_QUEUE_URL      = module.queues.urls["reassembly"]
    STEREOSPOT_AWS__DELETION_QUEUE_URL        = module.queues.urls["deletion"]
    STEREOSPOT_AWS__INGEST_QUEUE_URL          = module.queues.urls["ingest"]
    STEREOSPOT_AWS__JOB_EVENTS_TOPIC_ARN      = module.events.topic_arn
    STEREOSPOT_AWS__WEB_EVENTS_QUEUE_PREFIX   = local.web_events_prefix
    STEREOSPOT_AWS__SAGEMAKER_ENDPOINT        = module.inference.endpoint_name
  }

  # Empty values are left out (the setting's default applies).
  environment = { for name, value in local.environment_all : name => value if value != "" }

  # Secrets Manager values ECS injects into every task at start.
  task_secrets = {
    STEREOSPOT_SECRET_KEY        = module.secrets.signing_secret_arn
    STEREOSPOT_VAPID_PRIVATE_KEY = module.secrets.vapid_private_key_arn
  }

  # Only the web app: its password hash, when the load balancer does not sign users in.
  web_secrets = local.listener_auth ? {} : {
    STEREOSPOT_AUTH_PASSWORD_HASH = module.secrets.auth_password_hash_arn
  }

  # The inference container's settings (sagemaker mode); empty values left out.
  inference_environment_all = {
    STEREOSPOT_LOG_LEVEL           = var.log_level
    STEREOSPOT_AWS__REGION         = var.region # its S3 and Secrets Manager clients
    STEREOSPOT_DEVICE              = "cuda"
    STEREOSPOT_DEPTH_MODEL         = var.depth_model
    STEREOSPOT_INFERENCE_STUB      = var.inference_stub ? "true" : ""
    STEREOSPOT_HF_TOKEN_SECRET_ARN = module.secrets.hf_token_arn
  }
  inference_environment = { for name, value in local.inference_environment_all : name => value if value != "" }
}
