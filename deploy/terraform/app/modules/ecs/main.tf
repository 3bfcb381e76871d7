# ECS on Fargate: one cluster, three services. The web app sits behind the load balancer;
# media-worker and video-worker run the same worker image and scale on their queues'
# depth, down to zero tasks when idle (autoscaling.tf). Every task has its own role with
# only what its service does (iam.tf), a read-only root filesystem and a scratch volume.

data "aws_region" "current" {}

locals {
  scratch_dir = "/data"

  # Container-only settings (not part of the rendered env file): where scratch lives.
  task_environment = {
    STEREOSPOT_DATA_DIR = local.scratch_dir
  }

  services = {
    web = {
      image   = var.images["web"]
      command = ["stereospot", "web", "--host", "0.0.0.0", "--port", tostring(var.web_port)]
      cpu     = var.web.cpu
      memory  = var.web.memory
      storage = 21
      secrets = merge(var.secrets, var.web_secrets)
      role    = aws_iam_role.task["web"].arn
    }
    media-worker = {
      image   = var.images["worker"]
      command = ["stereospot", "worker", "media", "--grace-seconds", tostring(var.grace_seconds)]
      cpu     = var.media_worker.cpu
      memory  = var.media_worker.memory
      storage = var.media_worker.storage_gib
      secrets = merge(var.secrets, var.media_secrets)
      role    = aws_iam_role.task["media-worker"].arn
    }
    video-worker = {
      image   = var.images["worker"]
      command = ["stereospot", "worker", "video", "--grace-seconds", tostring(var.grace_seconds)]
      cpu     = var.video_worker.cpu
      memory  = var.video_worker.memory
      storage = var.video_worker.storage_gib
      secrets = var.secrets
      role    = aws_iam_role.task["video-worker"].arn
    }
  }

  web_health_check = {
    command = [
      "CMD", "python", "-c",
      "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${var.web_port}/healthz', timeout=3)",
    ]
    interval    = 15
    timeout     = 5
    retries     = 3
    startPeriod = 30
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "service" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts log data at rest by default; a customer-managed key adds cost and a key policy for no extra protection here
  #checkov:skip=CKV_AWS_338:application logs for operations, not an audit record; log_retention_days sets how long
  for_each          = local.services
  name              = "/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "service" {
  for_each                 = local.services
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = each.value.role

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  ephemeral_storage {
    size_in_gib = each.value.storage
  }

  volume {
    name = "scratch"
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    merge(
      {
        name                   = each.key
        image                  = each.value.image
        essential              = true
        command                = each.value.command
        readonlyRootFilesystem = true
        stopTimeout            = 120
        linuxParameters        = { initProcessEnabled = true }
        environment = [
          for key, value in merge(var.environment, local.task_environment) :
          { name = key, value = value }
        ]
        secrets = [
          for key, arn in each.value.secrets : { name = key, valueFrom = arn }
        ]
        mountPoints = [
          { sourceVolume = "scratch", containerPath = local.scratch_dir, readOnly = false },
          { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
        ]
        logConfiguration = {
          logDriver = "awslogs"
          options = {
            awslogs-group         = aws_cloudwatch_log_group.service[each.key].name
            awslogs-region        = data.aws_region.current.name
            awslogs-stream-prefix = each.key
          }
        }
      },
      each.key == "web" ? {
        portMappings = [{ containerPort = var.web_port, protocol = "tcp" }]
        healthCheck  = local.web_health_check
      } : {},
    )
  ])
}

resource "aws_security_group" "web" {
  name        = "${var.name}-web"
  description = "Web tasks: requests from the load balancer, HTTPS out"
  vpc_id      = var.vpc_id

  ingress {
    description     = "From the load balancer"
    from_port       = var.web_port
    to_port         = var.web_port
    protocol        = "tcp"
    security_groups = [var.alb_security_group_id]
  }

  egress {
    description = "HTTPS to AWS APIs (endpoints) and push services"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "worker" {
  name        = "${var.name}-worker"
  description = "Worker tasks: no inbound; HTTP(S) out for AWS APIs, URL ingest and push"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS to AWS APIs (endpoints), video sites and push services"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "HTTP for URL ingest of plain-http links (the app's outbound guard vets every address)"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_ecs_service" "web" {
  name                   = "${var.name}-web"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.service["web"].arn
  desired_count          = var.web.count
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  propagate_tags         = "SERVICE"
  enable_execute_command = false

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.web.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "web"
    container_port   = var.web_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
}

resource "aws_ecs_service" "worker" {
  for_each               = toset(["media-worker", "video-worker"])
  name                   = "${var.name}-${each.key}"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.service[each.key].arn
  desired_count          = 0
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  propagate_tags         = "SERVICE"
  enable_execute_command = false

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.worker.id]
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  lifecycle {
    # Autoscaling owns the task count of the workers.
    ignore_changes = [desired_count]
  }
}
