"""A serial ECR collector written the way ecr_exporter (aws-exporters/ecr, boto3) collects: one
thread lists the repositories page by page, then for each repository reads its images page by
page, its lifecycle policy and its repository policy, one call after the other. It is the
baseline of `scripts/bench audit-latency`: what a registry audit costs when nothing overlaps.

    python scripts/ecr-collector.py

The endpoint, region and credentials come from the environment (AWS_ENDPOINT_URL, AWS_REGION,
AWS_ACCESS_KEY_ID, ...), as for any boto3 client. Prints one JSON line on stdout: the
repositories and images read, and the calls made per operation.
"""
import collections
import json
import os
import sys

import boto3


def main() -> int:
    ecr = boto3.client(
        "ecr",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    calls = collections.Counter()

    def paged(operation, key, **kwargs):
        token = None
        while True:
            args = dict(kwargs, maxResults=1000)
            if token:
                args["nextToken"] = token
            calls[operation] += 1
            page = getattr(ecr, operation)(**args)
            yield from page.get(key, [])
            token = page.get("nextToken")
            if not token:
                return

    def optional(operation, **kwargs):
        calls[operation] += 1
        try:
            return getattr(ecr, operation)(**kwargs)
        except (ecr.exceptions.LifecyclePolicyNotFoundException,
                ecr.exceptions.RepositoryPolicyNotFoundException):
            return None

    repositories = list(paged("describe_repositories", "repositories"))
    images = 0
    with_lifecycle = with_policy = 0
    for repository in repositories:
        name = repository["repositoryName"]
        images += sum(1 for _ in paged("describe_images", "imageDetails", repositoryName=name))
        with_lifecycle += optional("get_lifecycle_policy", repositoryName=name) is not None
        with_policy += optional("get_repository_policy", repositoryName=name) is not None
    print(json.dumps({
        "repositories": len(repositories),
        "images": images,
        "with_lifecycle_policy": with_lifecycle,
        "with_repository_policy": with_policy,
        "calls": dict(sorted(calls.items())),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
