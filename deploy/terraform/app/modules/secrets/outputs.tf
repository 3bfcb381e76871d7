output "signing_secret_arn" {
  description = "ARN of the secret that signs links and CSRF tokens (STEREOSPOT_SECRET_KEY)."
  value       = aws_secretsmanager_secret.generated["signing-secret"].arn
}

output "vapid_private_key_arn" {
  description = "ARN of the Web Push private key, a PKCS#8 PEM (STEREOSPOT_VAPID_PRIVATE_KEY)."
  value       = aws_secretsmanager_secret.generated["vapid-private-key"].arn
}

output "hf_token_arn" {
  description = "ARN of the Hugging Face token secret; empty when not created."
  value       = var.hf_token_secret ? aws_secretsmanager_secret.operator_put["hf-token"].arn : ""
}

output "ytdlp_cookies_arn" {
  description = "ARN of the yt-dlp cookies secret; empty when not created."
  value       = var.ytdlp_cookies_secret ? aws_secretsmanager_secret.operator_put["ytdlp-cookies"].arn : ""
}

output "auth_password_hash_arn" {
  description = "ARN of the web app's password hash secret; empty when not created."
  value       = var.auth_password_secret ? aws_secretsmanager_secret.operator_put["auth-password-hash"].arn : ""
}
