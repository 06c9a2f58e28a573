"""Creates, in the local emulator, the AWS Organization the bootstrap library's StackSets
target, and prints `example-id emulator-id` pairs for the ids the project names.

    .venv/bin/python scripts/emulator-org.py ENDPOINT

The caller (moto's default account, 123456789012: the tooling account of little.yaml) creates
the organisation and so is its management account here. OUs: Workloads (Prod and NonProd below
it) and Infrastructure, with one member account each under Prod, NonProd and Infrastructure.
Used by scripts/demo and the integration tests; never run against AWS (it insists on a
loopback endpoint).
"""
import sys
from urllib.parse import urlparse

import boto3


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    endpoint = sys.argv[1]
    if urlparse(endpoint).hostname not in ("127.0.0.1", "localhost", "::1"):
        print(f"refusing {endpoint}: this script only talks to a local emulator", file=sys.stderr)
        return 2
    org = boto3.client(
        "organizations",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root_id = org.list_roots()["Roots"][0]["Id"]

    def unit(parent: str, name: str) -> str:
        return org.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]

    def account(name: str, parent: str) -> None:
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        org.move_account(AccountId=status["AccountId"], SourceParentId=root_id, DestinationParentId=parent)

    workloads = unit(root_id, "Workloads")
    prod, nonprod = unit(workloads, "Prod"), unit(workloads, "NonProd")
    infrastructure = unit(root_id, "Infrastructure")
    account("team-a-prod", prod)
    account("team-a-dev", nonprod)
    account("shared-services", infrastructure)
    print("o-a1b2c3d4e5", org_id)
    print("ou-a1b2-c3d4e5f6", workloads)
    print("ou-a1b2-k1l2m3n4", infrastructure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
