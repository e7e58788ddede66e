"""E9204: an RDS for MySQL instance names its engine's major.minor version
("8.4") and lets RDS pick and upgrade the patch level.

With a patch level in the template, each automatic minor upgrade leaves the
template behind the instance, and the next stack update asks RDS to go back
to the older version, which it refuses. With major.minor RDS uses the
default minor version:
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-engineversion
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html#USER_UpgradeDBInstance.Upgrading.AutoMinorVersionUpgrades
"""

import re

from cfnlint.rules import CloudFormationLintRule, RuleMatch

MAJOR_MINOR = re.compile(r"^\d+\.\d+$")


class EngineVersion(CloudFormationLintRule):
    id = "E9204"
    shortdesc = "RDS for MySQL names major.minor and upgrades minor versions"
    description = "EngineVersion is major.minor (RDS picks the patch) and AutoMinorVersionUpgrade is true"
    source_url = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html"
    tags = ["resources", "rds", "platform"]

    def match(self, cfn):
        matches = []
        for name, r in cfn.get_resources(["AWS::RDS::DBInstance"]).items():
            props = r.get("Properties") or {}
            if props.get("Engine") != "mysql":
                continue
            version = props.get("EngineVersion")
            if isinstance(version, str) and not MAJOR_MINOR.match(version):
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "EngineVersion"],
                        f"EngineVersion {version!r} pins a patch level: write major.minor (e.g. \"8.4\").",
                    )
                )
            if str(props.get("AutoMinorVersionUpgrade", "")).lower() != "true":
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties"],
                        "AutoMinorVersionUpgrade must be true so RDS applies minor versions.",
                    )
                )
        return matches
