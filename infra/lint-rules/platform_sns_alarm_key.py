"""E9201: an SNS topic that CloudWatch alarms notify is not encrypted with
the AWS managed key alias/aws/sns, and a customer managed key of the
template that encrypts it lets CloudWatch use it.

CloudWatch publishes alarm notifications as the cloudwatch.amazonaws.com
service principal, which must be allowed kms:Decrypt and
kms:GenerateDataKey* on the topic's key. The AWS managed key's policy cannot
be changed, so every notification to such a topic is dropped, silently:
https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
Use a customer managed key whose policy allows CloudWatch, or no
encryption.
"""

from cfnlint.rules import CloudFormationLintRule, RuleMatch

ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")


def _is_aws_managed_sns_key(value):
    return isinstance(value, str) and value.endswith("alias/aws/sns")


def _refs(value):
    """The logical names a value !Refs, looking inside lists and !If."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            return [value["Ref"]]
        found = []
        for v in value.values():
            found.extend(_refs(v))
        return found
    if isinstance(value, list):
        found = []
        for v in value:
            found.extend(_refs(v))
        return found
    return []


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _key_in_template(value):
    """The logical name of a KMS key a topic's KmsMasterKeyId points at."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return value["Ref"]
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and isinstance(att[0], str):
            return att[0]
    return None


def _allows_cloudwatch(policy):
    """Whether a key policy lets CloudWatch encrypt for the topic."""
    needed = {"kms:decrypt", "kms:generatedatakey*"}
    if not isinstance(policy, dict):
        return False
    granted = set()
    for statement in _as_list(policy.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if "cloudwatch.amazonaws.com" in services:
            granted.update(str(a).lower() for a in _as_list(statement.get("Action")))
    return needed <= granted or "kms:*" in granted


class AlarmTopicKey(CloudFormationLintRule):
    id = "E9201"
    shortdesc = "Alarm topics are not encrypted with alias/aws/sns"
    description = (
        "CloudWatch alarms cannot publish to an SNS topic encrypted with the "
        "AWS managed key alias/aws/sns; use a customer managed key that "
        "allows cloudwatch.amazonaws.com, or no encryption"
    )
    source_url = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services"
    tags = ["resources", "sns", "cloudwatch", "platform"]

    def match(self, cfn):
        matches = []
        resources = cfn.get_resources()
        alarmed = {}
        for name, r in resources.items():
            if r.get("Type") not in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
                continue
            props = r.get("Properties") or {}
            for key in ALARM_ACTIONS:
                for target in _refs(props.get(key)):
                    alarmed.setdefault(target, name)
        for name, r in resources.items():
            if r.get("Type") != "AWS::SNS::Topic" or name not in alarmed:
                continue
            key = (r.get("Properties") or {}).get("KmsMasterKeyId")
            own = _key_in_template(key)
            if own and resources.get(own, {}).get("Type") == "AWS::KMS::Key":
                policy = (resources[own].get("Properties") or {}).get("KeyPolicy")
                if not _allows_cloudwatch(policy):
                    matches.append(
                        RuleMatch(
                            ["Resources", own, "Properties", "KeyPolicy"],
                            f"Key {own} encrypts topic {name}, which alarm {alarmed[name]} notifies, but its policy "
                            "does not allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*.",
                        )
                    )
                continue
            if _is_aws_managed_sns_key(key):
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "KmsMasterKeyId"],
                        f"Topic {name} is encrypted with {key}, which CloudWatch cannot use: "
                        f"alarm {alarmed[name]}'s notifications would be dropped. "
                        "Use a customer managed key whose policy allows cloudwatch.amazonaws.com.",
                    )
                )
        return matches
