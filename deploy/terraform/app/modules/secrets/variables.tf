variable "name" {
  description = "Prefix of the secret names: <name>/signing-secret, <name>/vapid-private-key, ..."
  type        = string
}

variable "hf_token_secret" {
  description = "Create the secret for the Hugging Face token the inference server reads (its value is put with the AWS CLI, never in Terraform state)."
  type        = bool
  default     = true
}

variable "ytdlp_cookies_secret" {
  description = "Create the secret for yt-dlp's cookies.txt, for sites that need a signed-in session (value put with the AWS CLI)."
  type        = bool
  default     = false
}

variable "auth_password_secret" {
  description = "Create the secret for the web app's password hash (STEREOSPOT_AUTH_PASSWORD_HASH, from `stereospot hash-password`; value put with the AWS CLI). Used when the load balancer does not authenticate."
  type        = bool
  default     = true
}

variable "recovery_window_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once, for throwaway stacks)."
  type        = number
  default     = 7
}
