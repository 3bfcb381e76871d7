"""Access control in the Terraform (python-hcl2, offline): the load balancer's sign-in is an
option, off by default; the web tasks' environment says which auth mode the app runs in,
which proxies it trusts (the ALB's subnets), its public URL, the signer it checks in
x-amzn-oidc-data, and a keep-alive longer than the balancer's; and only the balancer can
reach the web tasks, so nobody else can hand them forwarded or identity headers."""

from __future__ import annotations

from typing import Any

from stereospot.config import AuthMode, Settings
from tests.deploy.hcl import APP, load

MODULES = APP / "modules"


def _variable(module_path: Any, name: str) -> dict[str, Any]:
    for block in load(module_path).variables:
        if block.name == name:
            return block.body
    raise KeyError(name)


def test_listener_sign_in_is_an_option_off_by_default() -> None:
    for path in (APP, MODULES / "alb"):
        assert _variable(path, "oidc")["default"] is None
        assert _variable(path, "cognito")["default"] is None
        assert _variable(path, "certificate_arn")["default"] == ""
    secret = _variable(APP, "oidc_client_secret")
    assert secret["sensitive"] is True and secret["default"] == ""
    # Only on HTTPS, and only when a provider is given.
    assert load(APP).locals["listener_auth"] == (
        '${var.certificate_arn != "" && (var.oidc != null || var.cognito != null)}'
    )
    assert load(MODULES / "alb").locals["authenticate"] == (
        "${local.https && (var.oidc != null || var.cognito != null)}"
    )


def test_a_provider_without_https_or_two_providers_are_refused_at_plan_time() -> None:
    oidc = [v["condition"] for v in _variable(APP, "oidc")["validation"]]
    assert '${var.oidc == null || var.certificate_arn != ""}' in oidc
    assert "${var.oidc == null || var.cognito == null}" in oidc
    cognito = [v["condition"] for v in _variable(APP, "cognito")["validation"]]
    assert cognito == ['${var.cognito == null || var.certificate_arn != ""}']


def test_the_https_listener_authenticates_then_forwards() -> None:
    https = load(MODULES / "alb").resource("aws_lb_listener", "https")
    by_type = {
        content["type"]: content
        for dynamic in https["dynamic"]
        for content in dynamic["default_action"]["content"]
    }
    oidc = by_type["authenticate-oidc"]
    assert oidc["order"] == 1
    [settings] = oidc["authenticate_oidc"]
    assert settings["on_unauthenticated_request"] == "authenticate"
    assert settings["client_secret"] == "${var.oidc_client_secret}"
    [cognito] = by_type["authenticate-cognito"]["authenticate_cognito"]
    assert cognito["on_unauthenticated_request"] == "authenticate"
    [forward] = https["default_action"]
    assert forward["type"] == "forward" and forward["order"] == 2
    # The authenticate actions exist only when asked for.
    conditions = sorted(d["default_action"]["for_each"] for d in https["dynamic"])
    assert all("local.authenticate" in c for c in conditions)


def test_the_web_environment_sets_auth_proxies_public_url_and_signer() -> None:
    env = load(APP).locals["environment_all"]
    assert env["STEREOSPOT_AUTH"] == '${local.listener_auth ? "oidc-header" : "password"}'
    assert env["STEREOSPOT_AUTH_OIDC_SIGNER"] == '${local.listener_auth ? module.alb.arn : ""}'
    assert env["STEREOSPOT_TRUSTED_PROXIES"] == '${join(",", module.network.public_subnet_cidrs)}'
    assert env["STEREOSPOT_PUBLIC_URL"] == "${local.public_url}"
    # The balancer lives in exactly the subnets whose CIDRs are trusted.
    assert load(APP).module("alb")["subnet_ids"] == "${module.network.public_subnet_ids}"
    outputs = {b.name: b.body for b in load(MODULES / "network").outputs}
    assert outputs["public_subnet_cidrs"]["value"] == "${aws_subnet.public[*].cidr_block}"
    alb_outputs = {b.name: b.body for b in load(MODULES / "alb").outputs}
    assert alb_outputs["arn"]["value"] == "${aws_lb.this.arn}"
    # Password mode (no listener sign-in) gets its hash from Secrets Manager, web only.
    assert "local.listener_auth ? {}" in load(APP).locals["web_secrets"]
    # The modes the environment names are modes the app knows.
    assert {"oidc-header", "password"} <= {mode.value for mode in AuthMode}


def test_the_apps_keep_alive_outlasts_the_balancers_idle_timeout() -> None:
    env = load(APP).locals["environment_all"]
    assert env["STEREOSPOT_HTTP_IDLE_TIMEOUT_S"] == "${tostring(module.alb.idle_timeout_s + 5)}"
    alb_outputs = {b.name: b.body for b in load(MODULES / "alb").outputs}
    assert alb_outputs["idle_timeout_s"]["value"] == "${var.idle_timeout_s}"
    assert load(MODULES / "alb").resource("aws_lb", "this")["idle_timeout"] == (
        "${var.idle_timeout_s}"
    )
    balancer_idle = _variable(MODULES / "alb", "idle_timeout_s")["default"]
    settings = Settings(http_idle_timeout_s=balancer_idle + 5)
    assert settings.http_idle_timeout_s > balancer_idle


def test_rendered_values_are_settings_the_app_accepts() -> None:
    settings = Settings(
        auth="oidc-header",
        auth_oidc_signer="arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1",
        trusted_proxies="10.40.0.0/20,10.40.16.0/20",
        public_url="https://video.example.com",
        http_idle_timeout_s=125,
    )
    assert settings.auth is AuthMode.OIDC_HEADER


def test_only_the_balancer_reaches_the_web_tasks() -> None:
    group = load(MODULES / "ecs").resource("aws_security_group", "web")
    [ingress] = group["ingress"]
    assert ingress["security_groups"] == ["${var.alb_security_group_id}"]
    assert "cidr_blocks" not in ingress
    assert load(APP).module("ecs")["alb_security_group_id"] == "${module.alb.security_group_id}"
