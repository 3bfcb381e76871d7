# Secrets Manager entries the tasks read at start (ECS injects them as environment
# variables). Terraform generates the signing secret and the VAPID key pair once; they live
# in the (encrypted, private) state too. The HF token and yt-dlp cookies are only created
# as empty secrets: operators put their values with the AWS CLI, so they never enter state.

resource "random_password" "signing" {
  length  = 64
  special = false
}

# Web Push (VAPID) key: P-256. The app derives the public key from the private one.
resource "tls_private_key" "vapid" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

locals {
  generated = {
    signing-secret    = random_password.signing.result
    vapid-private-key = tls_private_key.vapid.private_key_pem_pkcs8
  }
  operator_put = toset(concat(
    var.hf_token_secret ? ["hf-token"] : [],
    var.ytdlp_cookies_secret ? ["ytdlp-cookies"] : [],
    var.auth_password_secret ? ["auth-password-hash"] : [],
  ))
}

resource "aws_secretsmanager_secret" "generated" {
  #checkov:skip=CKV_AWS_149:Secrets Manager encrypts with its AWS-managed key; a customer-managed key adds cost and grants for every task role
  #checkov:skip=CKV2_AWS_57:rotation is an operator runbook (deploy/README.md): a new signing secret invalidates every signed link and a new VAPID key every push subscription, so it is not automatic
  for_each                = local.generated
  name                    = "${var.name}/${each.key}"
  recovery_window_in_days = var.recovery_window_days
}

resource "aws_secretsmanager_secret_version" "generated" {
  for_each      = local.generated
  secret_id     = aws_secretsmanager_secret.generated[each.key].id
  secret_string = each.value
}

resource "aws_secretsmanager_secret" "operator_put" {
  #checkov:skip=CKV_AWS_149:Secrets Manager encrypts with its AWS-managed key; a customer-managed key adds cost and grants for every task role
  #checkov:skip=CKV2_AWS_57:a third-party token or cookie file cannot be rotated by a Lambda; rotating means putting a new value (deploy/README.md)
  for_each                = local.operator_put
  name                    = "${var.name}/${each.key}"
  recovery_window_in_days = var.recovery_window_days
}
