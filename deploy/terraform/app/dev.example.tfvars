# Copy to terraform.tfvars (gitignored) and adjust. Every variable is described in
# variables.tf; these are the ones a first bring-up sets.
prefix      = "acme-stereo-dev" # bucket names derive from it: make it yours
environment = "dev"
region      = "us-east-1"
image_tag   = "v1"

# sagemaker: an async GPU endpoint made here (scales to zero); http or triton: an
# inference server you run elsewhere (`stereospot inference serve`, or Triton with
# inference_server/triton_repository), given by inference_url.
inference_mode          = "sagemaker"
inference_image_tag     = "v1"
inference_instance_type = "ml.g5.xlarge"
inference_max_instances = 2

# HTTPS and sign-in (both optional; Web Push and listener authentication need HTTPS).
# certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/..."
# public_url      = "https://video.example.com"
# oidc = {
#   issuer                 = "https://login.example.com"
#   authorization_endpoint = "https://login.example.com/authorize"
#   token_endpoint         = "https://login.example.com/oauth/token"
#   user_info_endpoint     = "https://login.example.com/userinfo"
#   client_id              = "stereospot"
# }   # and TF_VAR_oidc_client_secret in the environment

alarm_email = "" # e.g. "ops@example.com"
