"""E9202: a role that an AWS service assumes names the account it may act
for (aws:SourceAccount) in its trust policy, against the confused deputy.

Only services whose documentation says they send aws:SourceAccount when
they assume a role are listed: a condition on a key a service does not send
would deny it the role.
  - CodeBuild: https://docs.aws.amazon.com/codebuild/latest/userguide/cross-service-confused-deputy-prevention.html
  - EventBridge (rule targets): https://docs.aws.amazon.com/eventbridge/latest/userguide/policy-keys-eventbridge.html
    ("aws:SourceAccount: the account where the rule specified by
    aws:SourceArn exists")
  - CodeDeploy: https://docs.aws.amazon.com/codedeploy/latest/userguide/security_confused_deputy.html
    ("Use aws:SourceAccount if you want any resource in that account to be
    associated with the cross-service use")
CodePipeline's documentation names no such key for its service role, so
its roles are left as they are.
"""

from cfnlint.rules import CloudFormationLintRule, RuleMatch

SENDS_SOURCE_ACCOUNT = {"codebuild.amazonaws.com", "codedeploy.amazonaws.com", "events.amazonaws.com"}


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _has_source_account(condition):
    if not isinstance(condition, dict):
        return False
    for operator in condition.values():
        if isinstance(operator, dict) and any(k.lower() == "aws:sourceaccount" for k in operator):
            return True
    return False


class TrustSourceAccount(CloudFormationLintRule):
    id = "E9202"
    shortdesc = "Service roles' trust policies name aws:SourceAccount"
    description = (
        "A role assumed by CodeBuild, CodeDeploy or EventBridge restricts the assuming "
        "service to this account with an aws:SourceAccount condition"
    )
    source_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html"
    tags = ["resources", "iam", "platform"]

    def match(self, cfn):
        matches = []
        for name, r in cfn.get_resources(["AWS::IAM::Role"]).items():
            doc = (r.get("Properties") or {}).get("AssumeRolePolicyDocument") or {}
            if not isinstance(doc, dict):
                continue
            for i, statement in enumerate(_as_list(doc.get("Statement"))):
                if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                    continue
                principal = statement.get("Principal")
                services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
                watched = sorted(s for s in services if s in SENDS_SOURCE_ACCOUNT)
                if watched and not _has_source_account(statement.get("Condition")):
                    matches.append(
                        RuleMatch(
                            ["Resources", name, "Properties", "AssumeRolePolicyDocument", "Statement", i],
                            f"Role {name} trusts {', '.join(watched)} without an aws:SourceAccount condition "
                            "(StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}).",
                        )
                    )
        return matches
