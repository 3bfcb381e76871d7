"""deploy/terraform's security properties, statically: IAM names its resources, buckets
are private and encrypted, every role's policy is a checked policy document."""

from __future__ import annotations

import re
from typing import Any

from tests.deploy.hcl import APP, all_module_dirs, all_modules, load, statements

# Actions with no resource-level permissions, where AWS requires "*" (each one says why).
WILDCARD_RESOURCE_ACTIONS = {
    "ecr:GetAuthorizationToken": "a registry login token is account-wide",
    "sqs:ListQueues": "lists queue URLs by name prefix (the web tasks' orphan sweep)",
    "cloudwatch:PutMetricData": "metrics have no ARN (limited by a namespace condition)",
    # SageMaker's VPC mode creates the network interfaces itself; none exists to name yet.
    "ec2:CreateNetworkInterface": "SageMaker VPC mode",
    "ec2:CreateNetworkInterfacePermission": "SageMaker VPC mode",
    "ec2:DeleteNetworkInterface": "SageMaker VPC mode",
    "ec2:DeleteNetworkInterfacePermission": "SageMaker VPC mode",
    "ec2:DescribeNetworkInterfaces": "Describe* calls take no resource",
    "ec2:DescribeVpcs": "Describe* calls take no resource",
    "ec2:DescribeDhcpOptions": "Describe* calls take no resource",
    "ec2:DescribeSubnets": "Describe* calls take no resource",
    "ec2:DescribeSecurityGroups": "Describe* calls take no resource",
}


def policy_documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{module.path.name}:{block.name}", block.body)
        for module in all_modules()
        for block in module.data_of_type("aws_iam_policy_document")
    ]


def test_every_iam_statement_names_its_resources() -> None:
    documents = policy_documents()
    assert len(documents) >= 8
    for where, document in documents:
        for statement in statements(document):
            actions = statement.get("actions", [])
            if actions == ["sts:AssumeRole"]:  # a trust policy names principals instead
                assert statement.get("principals"), where
                continue
            assert "resources" in statement, f"{where}: {statement.get('sid')} names none"
            resources = statement["resources"]
            if resources == ["*"]:
                unexplained = set(actions) - set(WILDCARD_RESOURCE_ACTIONS)
                assert not unexplained, f"{where}: {unexplained} on * resources"
            else:
                # a list of ARNs, or one expression that makes the list from named resources
                listed = [resources] if isinstance(resources, str) else resources
                for resource in listed:
                    assert resource not in ("*", "arn:aws:s3:::*", "arn:aws:sqs:*"), where


def test_no_statement_allows_every_action_of_a_service() -> None:
    for where, document in policy_documents():
        for statement in statements(document):
            if statement.get("effect") == "Deny":
                continue  # the TLS-only bucket policies deny s3:* over plain HTTP
            for action in statement.get("actions", []):
                assert "*" not in action, f"{where}: {action}"


def test_every_role_policy_is_a_checked_policy_document() -> None:
    for module in all_modules():
        for block in module.of_type("aws_iam_role_policy"):
            assert re.fullmatch(
                r"\$\{data\.aws_iam_policy_document\.\w+(\[[^]]+\])?\.json\}", block.body["policy"]
            ), (module.path, block.name)
        for block in module.of_type("aws_iam_role"):
            assert "aws_iam_policy_document" in block.body["assume_role_policy"]
        assert not module.of_type("aws_iam_role_policy_attachment"), module.path
        assert not module.of_type("aws_iam_policy"), module.path


def test_task_roles_name_bucket_prefixes_tables_and_queues() -> None:
    iam = load(APP / "modules" / "ecs").locals
    for key in ("objects_read", "objects_write", "objects_delete"):
        for service, arns in iam[key].items():
            for arn in arns:
                assert re.fullmatch(r"\$\{local\.bucket_arn\.(input|output)\}/[a-z-]+/\*", arn), (
                    key,
                    service,
                    arn,
                )
    # The web app never deletes objects and never touches locks or invocations.
    assert iam["objects_delete"]["web"] == []
    assert "reassembly_table" not in iam["tables_write"]["web"]
    assert "invocations_table" not in iam["tables_read"]["web"]


def test_every_bucket_blocks_public_access_is_encrypted_and_tls_only() -> None:
    buckets = 0
    for module in all_modules():
        for bucket in module.of_type("aws_s3_bucket"):
            buckets += 1
            ref = f"aws_s3_bucket.{bucket.name}"
            blocks = [
                b
                for b in module.of_type("aws_s3_bucket_public_access_block")
                if ref in b.body["bucket"]
            ]
            assert blocks, f"{module.path}: {ref} has no public access block"
            for block in blocks:
                for flag in (
                    "block_public_acls",
                    "block_public_policy",
                    "ignore_public_acls",
                    "restrict_public_buckets",
                ):
                    assert block.body[flag] is True, (ref, flag)
            sse = [
                b
                for b in module.of_type("aws_s3_bucket_server_side_encryption_configuration")
                if ref in b.body["bucket"]
            ]
            assert sse, f"{module.path}: {ref} is not encrypted"
            rule = sse[0].body["rule"][0]["apply_server_side_encryption_by_default"][0]
            assert rule["sse_algorithm"] in ("AES256", "aws:kms")
            ownership = [
                b
                for b in module.of_type("aws_s3_bucket_ownership_controls")
                if ref in b.body["bucket"]
            ]
            assert ownership[0].body["rule"][0]["object_ownership"] == "BucketOwnerEnforced"
            policies = [
                b for b in module.of_type("aws_s3_bucket_policy") if ref in b.body["bucket"]
            ]
            assert policies, f"{module.path}: {ref} has no TLS-only policy"
    tls = [
        s
        for _, document in policy_documents()
        for s in statements(document)
        if s.get("sid") == "DenyInsecureTransport"
    ]
    assert buckets == 2 and len(tls) == 2  # state bucket; input+output (for_each)
    for statement in tls:
        assert statement["condition"][0]["variable"] == "aws:SecureTransport"
        assert statement["condition"][0]["values"] == ["false"]


def test_tables_have_point_in_time_recovery_and_encryption() -> None:
    for module in all_modules():
        for table in module.of_type("aws_dynamodb_table"):
            assert table.body["point_in_time_recovery"][0]["enabled"] is True, table.name
            assert table.body["server_side_encryption"][0]["enabled"] is True, table.name


def test_every_checkov_skip_gives_its_reason() -> None:
    skips = 0
    for path in all_module_dirs():
        for tf in path.glob("*.tf"):
            for line in tf.read_text(encoding="utf-8").splitlines():
                if "checkov:skip" in line:
                    skips += 1
                    match = re.search(r"#checkov:skip=(CKV2?_[A-Z]+_\d+):(.{20,})", line)
                    assert match, f"{tf}: {line.strip()}"
    assert skips > 0
