# The StereoSpot stack: the same resources `stereospot aws provision` creates (buckets,
# queues with DLQs, tables), plus what a deployment needs around them (network, images,
# services, the inference endpoint, load balancer, secrets, alarms).
#
# stack.json carries what must equal the Python side: the S3 -> SQS routes of
# stereospot.domain.routing, the queues with Settings.queue_timeouts and
# Settings.max_receives. It is generated (python -m tests.deploy.stack_spec) and
# tests/deploy checks it is current.

locals {
  stack  = jsondecode(file("${path.module}/stack.json"))
  name   = var.prefix
  queues = local.stack.queues

  bucket_names = {
    input  = "${local.name}-input"
    output = "${local.name}-output"
  }

  # Queue -> the buckets whose notifications it hears (its SQS policy allows only those).
  s3_senders = {
    for queue in distinct(flatten([
      for bucket, routes in local.stack.notifications : [for route in routes : route.queue]
      ])) : queue => sort(distinct(flatten([
        for bucket, routes in local.stack.notifications :
        [for route in routes : local.bucket_names[bucket] if route.queue == queue]
    ])))
  }

  # The load balancer signs in every request (OIDC or Cognito, HTTPS only); otherwise the
  # web app asks for its own password.
  listener_auth = var.certificate_arn != "" && (var.oidc != null || var.cognito != null)

  public_url = var.public_url != "" ? trimsuffix(var.public_url, "/") : module.alb.public_url
  origin     = regex("^https?://[^/]+", local.public_url)
}

module "network" {
  source              = "./modules/network"
  name                = local.name
  cidr_block          = var.vpc_cidr
  az_count            = var.az_count
  nat_gateway         = var.nat_gateway
  interface_endpoints = var.interface_endpoints
}

module "queues" {
  source              = "./modules/queues"
  name                = local.name
  visibility_timeouts = local.queues
  max_receives        = local.stack.max_receives
  s3_senders          = local.s3_senders
}

module "storage" {
  source               = "./modules/storage"
  name                 = local.name
  notifications        = local.stack.notifications
  queue_arns           = module.queues.arns
  cors_allowed_origins = [local.origin]
  force_destroy        = var.force_destroy
}

module "tables" {
  source              = "./modules/tables"
  name                = local.name
  deletion_protection = var.deletion_protection
}

module "events" {
  source          = "./modules/events"
  name            = local.name
  stream_arns     = module.tables.stream_arns
  dead_letter_arn = module.queues.arns["job-events"]
}

module "ecr" {
  source       = "./modules/ecr"
  name         = local.name
  force_delete = var.force_destroy
}

module "secrets" {
  source               = "./modules/secrets"
  name                 = local.name
  hf_token_secret      = var.hf_token_secret
  ytdlp_cookies_secret = var.ytdlp_cookies_secret
  auth_password_secret = !local.listener_auth
  recovery_window_days = var.force_destroy ? 0 : 7
}

module "inference" {
  source                   = "./modules/inference"
  name                     = local.name
  mode                     = var.inference_mode
  http_url                 = var.inference_url
  image_uri                = var.inference_image_tag != "" ? "${module.ecr.repository_urls["inference"]}:${var.inference_image_tag}" : ""
  instance_type            = var.inference_instance_type
  max_instances            = var.inference_max_instances
  backlog_per_instance     = var.inference_backlog_per_instance
  environment              = local.inference_environment
  input_bucket             = module.storage.input_bucket
  output_bucket            = module.storage.output_bucket
  inference_repository_arn = module.ecr.repository_arns["inference"]
  hf_token_arn             = module.secrets.hf_token_arn
  subnet_ids               = module.network.private_subnet_ids
  vpc_id                   = module.network.vpc_id
}

module "alb" {
  source              = "./modules/alb"
  name                = local.name
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.public_subnet_ids
  allowed_cidrs       = var.allowed_cidrs
  certificate_arn     = var.certificate_arn
  oidc                = var.oidc
  oidc_client_secret  = var.oidc_client_secret
  cognito             = var.cognito
  deletion_protection = var.deletion_protection
}

module "ecs" {
  source                = "./modules/ecs"
  name                  = local.name
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.private_subnet_ids
  alb_security_group_id = module.alb.security_group_id
  target_group_arn      = module.alb.target_group_arn
  images = {
    web    = "${module.ecr.repository_urls["web"]}:${var.image_tag}"
    worker = "${module.ecr.repository_urls["worker"]}:${var.image_tag}"
  }
  repository_arns = {
    web    = module.ecr.repository_arns["web"]
    worker = module.ecr.repository_arns["worker"]
  }
  environment            = local.environment
  secrets                = local.task_secrets
  web_secrets            = local.web_secrets
  input_bucket           = module.storage.input_bucket
  output_bucket          = module.storage.output_bucket
  table_arns             = module.tables.arns
  queue_arns             = module.queues.arns
  dlq_arns               = module.queues.dlq_arns
  queue_names            = module.queues.names
  sagemaker_endpoint_arn = module.inference.endpoint_arn
  job_events_topic_arn   = module.events.topic_arn
  web_events_prefix      = local.web_events_prefix
  web                    = var.web
  media_worker           = var.media_worker
  video_worker           = var.video_worker
  idle_minutes           = var.idle_minutes
}

module "alarms" {
  source              = "./modules/alarms"
  name                = local.name
  queue_names         = module.queues.names
  dlq_names           = module.queues.dlq_names
  visibility_timeouts = local.queues
  endpoint_name       = module.inference.endpoint_name
  alarm_email         = var.alarm_email
}

resource "aws_budgets_budget" "monthly" {
  count        = var.monthly_budget_usd > 0 ? 1 : 0
  name         = "${local.name}-monthly"
  budget_type  = "COST"
  limit_amount = tostring(var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  # Costs of what carries this stack's App tag (activate App as a cost allocation tag).
  cost_filter {
    name   = "TagKeyValue"
    values = [format("user:App$%s", var.app)]
  }

  dynamic "notification" {
    for_each = var.alarm_email != "" ? [80, 100] : []
    content {
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value
      threshold_type             = "PERCENTAGE"
      notification_type          = "FORECASTED"
      subscriber_email_addresses = [var.alarm_email]
    }
  }
}
