# Application Load Balancer in front of the web service. HTTP on 80 forwards (no
# certificate) or redirects to HTTPS on 443 (certificate_arn given). On HTTPS the listener
# can authenticate every request with OIDC or Cognito before forwarding, which is what the
# web app's oidc-header auth mode expects (x-amzn-oidc-* headers signed by the ALB).

locals {
  # Load balancer and target group names are at most 32 characters.
  short_name = "${trimsuffix(substr(var.name, 0, 28), "-")}-web"

  https = var.certificate_arn != ""
  # Listener authentication, when asked for (only on HTTPS; AWS allows it nowhere else).
  authenticate = local.https && (var.oidc != null || var.cognito != null)
}

resource "aws_security_group" "alb" {
  #checkov:skip=CKV_AWS_260:a public web app: port 80 is open to allowed_cidrs (default everyone) to serve or redirect to HTTPS
  name        = "${var.name}-alb"
  description = "Web clients to the load balancer"
  vpc_id      = var.vpc_id

  ingress {
    description = "HTTP (redirected to HTTPS when a certificate is given)"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidrs
  }

  ingress {
    description = "HTTPS"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidrs
  }

  egress {
    description = "To the web tasks in the VPC"
    from_port   = var.web_port
    to_port     = var.web_port
    protocol    = "tcp"
    cidr_blocks = [data.aws_vpc.this.cidr_block]
  }

  egress {
    description = "To the identity provider's token and user-info endpoints (listener authentication)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

data "aws_vpc" "this" {
  id = var.vpc_id
}

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:access logs need a log bucket with an ELB-account policy per region; enable them with an access_logs block where audits ask for them
  #checkov:skip=CKV2_AWS_28:a WAF web ACL costs a monthly fee per stack; attach one with aws_wafv2_web_acl_association where the threat model needs it
  #checkov:skip=CKV2_AWS_20:HTTP redirects to HTTPS whenever a certificate is given; without one (a first bring-up) HTTP is all there is
  name                       = local.short_name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  idle_timeout               = var.idle_timeout_s
  enable_deletion_protection = var.deletion_protection
}

resource "aws_lb_target_group" "web" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; the hop to the task stays inside the VPC's private subnets
  name                 = local.short_name
  port                 = var.web_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path                = "/healthz"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:port 80 redirects to HTTPS when a certificate is given; plain HTTP serves only a stack brought up without a domain
  #checkov:skip=CKV_AWS_103:as above: this is the HTTP listener, TLS policy lives on the HTTPS one
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.web.arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count             = local.https ? 1 : 0
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  dynamic "default_action" {
    for_each = local.authenticate && var.oidc != null ? [var.oidc] : []
    content {
      type  = "authenticate-oidc"
      order = 1
      authenticate_oidc {
        issuer                     = default_action.value.issuer
        authorization_endpoint     = default_action.value.authorization_endpoint
        token_endpoint             = default_action.value.token_endpoint
        user_info_endpoint         = default_action.value.user_info_endpoint
        client_id                  = default_action.value.client_id
        client_secret              = var.oidc_client_secret
        on_unauthenticated_request = "authenticate"
        scope                      = "openid email"
      }
    }
  }

  dynamic "default_action" {
    for_each = local.authenticate && var.oidc == null ? [var.cognito] : []
    content {
      type  = "authenticate-cognito"
      order = 1
      authenticate_cognito {
        user_pool_arn              = default_action.value.user_pool_arn
        user_pool_client_id        = default_action.value.user_pool_client_id
        user_pool_domain           = default_action.value.user_pool_domain
        on_unauthenticated_request = "authenticate"
        scope                      = "openid email"
      }
    }
  }

  default_action {
    type             = "forward"
    order            = 2
    target_group_arn = aws_lb_target_group.web.arn
  }
}
