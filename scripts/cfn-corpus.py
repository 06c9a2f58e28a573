#!/usr/bin/env python3
"""Writes the validation corpus: tests/fixtures/cfn-corpus/<type>--<variant>.json.

Usage: scripts/cfn-corpus.py [DIR]   (default: tests/fixtures/cfn-corpus)

For every resource type the bootstrap renders and 30 more common ones, five templates:

  valid        the resource with a minimal valid set of properties
  intrinsics   the same with intrinsic functions where CloudFormation takes them
               (a Condition, Fn::If with AWS::NoValue, Fn::Sub, DeletionPolicy and
               UpdateReplacePolicy, an output with Fn::GetAtt of a real attribute)
  type-typo    the resource type misspelt
  prop-typo    one property name misspelt
  broken       a required property left out, or (for a type without one) a property of the
               wrong JSON type

Names are the variant's own (`corpus-valid/app`), since the test validates the corpus as one
project, where one name made by two stacks is an error.

The integration test validate_corpus:: runs the pinned cfn-lint and `little validate` over the
corpus and compares what each accepts; the cases where they differ, with the reason, are
listed in disagreements.txt beside the corpus. Deterministic: the same run writes the same
files, so the corpus is committed and regenerated only when this table changes.
"""

import json
import os
import sys

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
            "Action": "sqs:SendMessage",
            "Resource": "*",
        }
    ],
}
IDENTITY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}

# type -> (properties, helper resources it refers to, a GetAtt attribute or None,
#          a property to break: (name, wrong value) for types without a required property)
HELPERS = {
    "Role": {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": TRUST},
    },
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
    "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": KEY_POLICY}},
    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
    "Function": {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Code": {"ZipFile": "def handler(event, context):\n    return event\n"},
            "Handler": "index.handler",
            "Runtime": "python3.12",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
        },
    },
}

TYPES = {
    # The bootstrap's types.
    "AWS::IAM::Role": ({"AssumeRolePolicyDocument": TRUST}, [], "Arn", None),
    "AWS::ECR::Repository": (
        {"RepositoryName": "corpus/app", "ImageTagMutability": "IMMUTABLE"},
        [],
        "Arn",
        ("ImageTagMutability", ["IMMUTABLE"]),
    ),
    "AWS::ECR::RegistryScanningConfiguration": (
        {
            "ScanType": "BASIC",
            "Rules": [
                {
                    "ScanFrequency": "SCAN_ON_PUSH",
                    "RepositoryFilters": [{"Filter": "*", "FilterType": "WILDCARD"}],
                }
            ],
        },
        [],
        "RegistryId",
        None,
    ),
    "AWS::IAM::ManagedPolicy": ({"PolicyDocument": IDENTITY_POLICY}, [], "PolicyArn", None),
    "AWS::SQS::Queue": ({"DelaySeconds": 5}, [], "Arn", ("DelaySeconds", {"Seconds": 5})),
    "AWS::SNS::Topic": ({"DisplayName": "corpus"}, [], "TopicArn", ("DisplayName", ["corpus"])),
    "AWS::Events::Rule": (
        {"ScheduleExpression": "rate(1 hour)", "State": "ENABLED"},
        [],
        "Arn",
        ("State", ["ENABLED"]),
    ),
    "AWS::SQS::QueuePolicy": (
        {"PolicyDocument": POLICY, "Queues": [{"Ref": "Queue"}]},
        ["Queue"],
        None,
        None,
    ),
    "AWS::SNS::TopicPolicy": (
        {"PolicyDocument": POLICY, "Topics": [{"Ref": "Topic"}]},
        ["Topic"],
        None,
        None,
    ),
    "AWS::SNS::Subscription": (
        {"Protocol": "sqs", "TopicArn": {"Ref": "Topic"}, "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]}},
        ["Topic", "Queue"],
        None,
        None,
    ),
    "AWS::S3::BucketPolicy": (
        {
            "Bucket": {"Ref": "Bucket"},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": {"Fn::Sub": "${Bucket.Arn}/*"},
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            },
        },
        ["Bucket"],
        None,
        None,
    ),
    "AWS::S3::Bucket": (
        {"VersioningConfiguration": {"Status": "Enabled"}},
        [],
        "Arn",
        ("VersioningConfiguration", "Enabled"),
    ),
    "AWS::KMS::Key": (
        {"KeyPolicy": KEY_POLICY, "EnableKeyRotation": True},
        [],
        "Arn",
        ("EnableKeyRotation", {"On": True}),
    ),
    "AWS::KMS::Alias": (
        {"AliasName": "alias/corpus", "TargetKeyId": {"Ref": "Key"}},
        ["Key"],
        None,
        None,
    ),
    "AWS::IAM::OIDCProvider": (
        {"Url": "https://oidc.example.com", "ClientIdList": ["sts.amazonaws.com"]},
        [],
        "Arn",
        ("ClientIdList", "sts.amazonaws.com"),
    ),
    "AWS::ECR::RepositoryCreationTemplate": (
        {"Prefix": "corpus", "AppliedFor": ["PULL_THROUGH_CACHE"]},
        [],
        "CreatedAt",
        None,
    ),
    "AWS::ECR::ReplicationConfiguration": (
        {
            "ReplicationConfiguration": {
                "Rules": [
                    {
                        "Destinations": [
                            {"Region": "us-west-2", "RegistryId": {"Ref": "AWS::AccountId"}}
                        ]
                    }
                ]
            }
        },
        [],
        "RegistryId",
        None,
    ),
    # Thirty more common ones.
    "AWS::Lambda::Function": (
        HELPERS["Function"]["Properties"],
        ["Role"],
        "Arn",
        None,
    ),
    "AWS::Lambda::Permission": (
        {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Function"}, "Principal": "events.amazonaws.com"},
        ["Role", "Function"],
        None,
        None,
    ),
    "AWS::DynamoDB::Table": (
        {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        },
        [],
        "Arn",
        None,
    ),
    "AWS::Logs::LogGroup": (
        {"RetentionInDays": 30},
        [],
        "Arn",
        ("RetentionInDays", {"Days": 30}),
    ),
    "AWS::EC2::VPC": ({"CidrBlock": "10.0.0.0/16"}, [], "CidrBlock", None),
    "AWS::EC2::Subnet": (
        {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.1.0/24"},
        ["Vpc"],
        "SubnetId",
        None,
    ),
    "AWS::EC2::SecurityGroup": (
        {"GroupDescription": "corpus", "VpcId": {"Ref": "Vpc"}},
        ["Vpc"],
        "GroupId",
        None,
    ),
    "AWS::EC2::InternetGateway": (
        {"Tags": [{"Key": "Name", "Value": "corpus"}]},
        [],
        "InternetGatewayId",
        ("Tags", {"Name": "corpus"}),
    ),
    "AWS::EC2::RouteTable": ({"VpcId": {"Ref": "Vpc"}}, ["Vpc"], "RouteTableId", None),
    "AWS::ECS::Cluster": (
        {"ClusterName": "corpus"},
        [],
        "Arn",
        ("ClusterName", ["corpus"]),
    ),
    "AWS::ECS::TaskDefinition": (
        {"ContainerDefinitions": [{"Name": "app", "Image": "public.ecr.aws/nginx/nginx:latest"}]},
        [],
        "TaskDefinitionArn",
        ("ContainerDefinitions", {"Name": "app"}),
    ),
    "AWS::IAM::User": ({"Path": "/corpus/"}, [], "Arn", ("Path", ["/corpus/"])),
    "AWS::IAM::Group": ({"Path": "/corpus/"}, [], "Arn", ("Path", ["/corpus/"])),
    "AWS::IAM::InstanceProfile": ({"Roles": [{"Ref": "Role"}]}, ["Role"], "Arn", None),
    "AWS::SSM::Parameter": ({"Type": "String", "Value": "corpus"}, [], "Type", None),
    "AWS::SecretsManager::Secret": (
        {"Description": "corpus"},
        [],
        "Id",
        ("Description", ["corpus"]),
    ),
    "AWS::CloudWatch::Alarm": (
        {
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "MetricName": "Errors",
            "Namespace": "AWS/Lambda",
            "Period": 60,
            "Statistic": "Sum",
        },
        [],
        "Arn",
        ("EvaluationPeriods", {"Periods": 1}),
    ),
    "AWS::StepFunctions::StateMachine": (
        {
            "DefinitionString": "{\"StartAt\": \"Done\", \"States\": {\"Done\": {\"Type\": \"Succeed\"}}}",
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
        },
        ["Role"],
        "Arn",
        None,
    ),
    "AWS::ApiGateway::RestApi": ({"Name": "corpus"}, [], "RootResourceId", ("Name", {"Value": "corpus"})),
    "AWS::Route53::HostedZone": ({"Name": "corpus.example.com"}, [], "Id", None),
    "AWS::Kinesis::Stream": ({"ShardCount": 1}, [], "Arn", ("ShardCount", {"Count": 1})),
    "AWS::EFS::FileSystem": ({"Encrypted": True}, [], "FileSystemId", ("Encrypted", {"On": True})),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (
        {"Port": 80, "Protocol": "HTTP", "VpcId": {"Ref": "Vpc"}},
        ["Vpc"],
        "TargetGroupArn",
        ("Port", {"Number": 80}),
    ),
    "AWS::Events::EventBus": ({"Name": "corpus"}, [], "Arn", None),
    "AWS::Lambda::LayerVersion": (
        {"Content": {"S3Bucket": "corpus-artifacts", "S3Key": "layer.zip"}},
        [],
        None,
        None,
    ),
    "AWS::CloudTrail::Trail": (
        {"IsLogging": True, "S3BucketName": {"Ref": "Bucket"}},
        ["Bucket"],
        "Arn",
        None,
    ),
    "AWS::Config::ConfigRule": (
        {"Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}},
        ["Role"],
        "Arn",
        None,
    ),
    "AWS::ECR::PullThroughCacheRule": (
        {"EcrRepositoryPrefix": "corpus", "UpstreamRegistryUrl": "public.ecr.aws"},
        [],
        None,
        ("EcrRepositoryPrefix", ["corpus"]),
    ),
    "AWS::ECR::RegistryPolicy": ({"PolicyText": IDENTITY_POLICY}, [], "RegistryId", None),
    "AWS::AppConfig::Application": ({"Name": "corpus"}, [], "ApplicationId", None),
    "AWS::Glue::Database": (
        {"CatalogId": {"Ref": "AWS::AccountId"}, "DatabaseInput": {"Name": "corpus"}},
        [],
        None,
        None,
    ),
    "AWS::CodeBuild::Project": (
        {
            "Artifacts": {"Type": "NO_ARTIFACTS"},
            "Environment": {
                "ComputeType": "BUILD_GENERAL1_SMALL",
                "Image": "aws/codebuild/standard:7.0",
                "Type": "LINUX_CONTAINER",
            },
            "ServiceRole": {"Fn::GetAtt": ["Role", "Arn"]},
            "Source": {"Type": "NO_SOURCE", "BuildSpec": "version: 0.2\nphases:\n  build:\n    commands: [echo ok]\n"},
        },
        ["Role"],
        "Arn",
        None,
    ),
}

REQUIRED = {
    # The first required property of each type that has one (what "broken" leaves out).
    "AWS::IAM::Role": "AssumeRolePolicyDocument",
    "AWS::ECR::RegistryScanningConfiguration": "ScanType",
    "AWS::IAM::ManagedPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "Queues",
    "AWS::SNS::TopicPolicy": "Topics",
    "AWS::SNS::Subscription": "Protocol",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::KMS::Alias": "TargetKeyId",
    "AWS::ECR::RepositoryCreationTemplate": "AppliedFor",
    "AWS::ECR::ReplicationConfiguration": "ReplicationConfiguration",
    "AWS::Lambda::Function": "Code",
    "AWS::Lambda::Permission": "Principal",
    "AWS::DynamoDB::Table": "KeySchema",
    "AWS::EC2::VPC": None,
    "AWS::EC2::Subnet": "VpcId",
    "AWS::EC2::SecurityGroup": "GroupDescription",
    "AWS::EC2::RouteTable": "VpcId",
    "AWS::IAM::InstanceProfile": "Roles",
    "AWS::SSM::Parameter": "Type",
    "AWS::StepFunctions::StateMachine": "RoleArn",
    "AWS::Route53::HostedZone": None,
    "AWS::Events::EventBus": "Name",
    "AWS::Lambda::LayerVersion": "Content",
    "AWS::CloudTrail::Trail": "IsLogging",
    "AWS::Config::ConfigRule": "Source",
    "AWS::ECR::RegistryPolicy": "PolicyText",
    "AWS::AppConfig::Application": "Name",
    "AWS::Glue::Database": "DatabaseInput",
    "AWS::CodeBuild::Project": "ServiceRole",
}


def typo(name):
    """A misspelling a person makes: two neighbouring letters swapped in the middle."""
    if len(name) < 4:
        return name + "x"
    i = len(name) // 2
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


def template(resource_type, properties, helpers, attribute, extra=None):
    resources = {}
    for h in helpers:
        resources[h] = HELPERS[h]
        for dep in ("Role",):
            if dep in json.dumps(HELPERS[h]) and dep != h and dep not in resources:
                resources[dep] = HELPERS[dep]
    resource = {"Type": resource_type, "Properties": properties}
    if extra:
        resource.update(extra.get("resource", {}))
    resources["Thing"] = resource
    t = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if attribute:
        t["Outputs"] = {"Value": {"Value": {"Fn::GetAtt": ["Thing", attribute]}}}
    if extra:
        for k, v in extra.get("template", {}).items():
            t[k] = v
    return t


def variants(resource_type, spec):
    properties, helpers, attribute, wrong = spec
    yield "valid", template(resource_type, properties, helpers, attribute)
    # Intrinsics where CloudFormation takes them.
    props = dict(properties)
    first = next(iter(props), None)
    if first is not None:
        props[first] = {"Fn::If": ["Always", properties[first], {"Ref": "AWS::NoValue"}]}
        if REQUIRED.get(resource_type) == first:
            props[first] = {"Fn::If": ["Always", properties[first], properties[first]]}
    yield "intrinsics", template(
        resource_type,
        props,
        helpers,
        attribute,
        {
            "resource": {
                "Condition": "Always",
                "DeletionPolicy": {"Fn::If": ["Always", "Retain", "Delete"]},
                "UpdateReplacePolicy": "Retain",
            },
            "template": {
                "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
                "Conditions": {"Always": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]}},
            },
        },
    )
    t = template(typo(resource_type.split("::")[-1]).join([resource_type.rsplit("::", 1)[0] + "::", ""]), properties, helpers, None)
    yield "type-typo", t
    if first is not None:
        misspelt = {(typo(k) if k == first else k): v for k, v in properties.items()}
    else:
        misspelt = {"Tagz": []}
    yield "prop-typo", template(resource_type, misspelt, helpers, attribute)
    required = REQUIRED.get(resource_type)
    if required:
        broken = {k: v for k, v in properties.items() if k != required}
    elif wrong:
        broken = dict(properties)
        broken[wrong[0]] = wrong[1]
    else:
        return
    yield "broken", template(resource_type, broken, helpers, attribute)


def distinct(value, variant):
    """`value` with its names made the variant's own (`corpus` -> `corpus-valid`): the corpus is
    validated as one project, where two templates naming one repository or alias would
    rightly clash."""
    if isinstance(value, str):
        return value.replace("corpus", f"corpus-{variant}")
    if isinstance(value, list):
        return [distinct(v, variant) for v in value]
    if isinstance(value, dict):
        return {k: distinct(v, variant) for k, v in value.items()}
    return value


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "fixtures", "cfn-corpus")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".json"):
            os.remove(os.path.join(out, f))
    n = 0
    for resource_type, spec in TYPES.items():
        slug = resource_type.replace("AWS::", "").replace("::", "-").lower()
        for variant, t in variants(resource_type, spec):
            t = distinct(t, variant)
            with open(os.path.join(out, f"{slug}--{variant}.json"), "w") as fh:
                json.dump(t, fh, indent=2, sort_keys=False)
                fh.write("\n")
            n += 1
    print(f"wrote {n} templates for {len(TYPES)} resource types to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
