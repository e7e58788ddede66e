"""E9203: MySQL egress (port 3306) goes to the database's security group,
never to an address range.

A CIDR egress lets a task reach any MySQL server in the range; a security
group reference (DestinationSecurityGroupId) admits exactly the database:
https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
("Destination ... the ID of a security group")
Inline egress rules that point at the database group would make a
dependency cycle with the database's ingress rules, so such rules are
AWS::EC2::SecurityGroupEgress resources.
"""

from cfnlint.rules import CloudFormationLintRule, RuleMatch

MYSQL_PORT = 3306


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _covers_mysql(rule):
    protocol = str(rule.get("IpProtocol", ""))
    if protocol in ("-1", "all"):
        return True
    if protocol not in ("tcp", "6"):
        return False
    low, high = _int(rule.get("FromPort")), _int(rule.get("ToPort"))
    return low is not None and high is not None and low <= MYSQL_PORT <= high


class DatabaseEgress(CloudFormationLintRule):
    id = "E9203"
    shortdesc = "MySQL egress names the database's security group"
    description = "Egress on port 3306 uses DestinationSecurityGroupId, not CidrIp or CidrIpv6"
    source_url = "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"
    tags = ["resources", "ec2", "security-group", "platform"]

    def _check(self, rule, path):
        if not isinstance(rule, dict) or not _covers_mysql(rule):
            return []
        # A no-egress placeholder (127.0.0.1/32) is not a route to MySQL.
        if rule.get("CidrIp") == "127.0.0.1/32":
            return []
        if "DestinationSecurityGroupId" in rule:
            return []
        return [
            RuleMatch(
                path,
                "MySQL egress (3306) to an address range: name the database's security group "
                "with DestinationSecurityGroupId (an AWS::EC2::SecurityGroupEgress resource avoids a cycle).",
            )
        ]

    def match(self, cfn):
        matches = []
        for name, r in cfn.get_resources(["AWS::EC2::SecurityGroup"]).items():
            egress = (r.get("Properties") or {}).get("SecurityGroupEgress")
            if isinstance(egress, list):
                for i, rule in enumerate(egress):
                    matches.extend(self._check(rule, ["Resources", name, "Properties", "SecurityGroupEgress", i]))
        for name, r in cfn.get_resources(["AWS::EC2::SecurityGroupEgress"]).items():
            matches.extend(self._check(r.get("Properties") or {}, ["Resources", name, "Properties"]))
        return matches
