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

variable "recovery_window_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once, for throwaway stacks)."
  type        = number
  default     = 7
}
