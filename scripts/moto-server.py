"""Runs moto's server on 127.0.0.1:PORT, with fixes that make it behave like AWS.

    python scripts/moto-server.py PORT [--exit-with-parent]

--exit-with-parent: exit when the process that started this one dies (the integration tests
start one emulator per test process; nothing is left running when they end, however they end).

The fix: moto 5.2.5 does not refresh a stack's outputs (nor its tags) when it executes a change
set, so a stack created or updated through a change set reports no outputs, or the old ones.
AWS reports the new outputs. little deploys through change sets and reads dependency outputs,
so the launcher refreshes them after moto's own ExecuteChangeSet.

The second: moto 5.2.5 fails with an HTTP 500 (a Python error) when asked to delete a change
set that does not exist; AWS answers with a ChangeSetNotFound error. A 500 is retried by every
SDK, so each such call took seconds. The launcher answers as AWS does.

The third: moto 5.2.5's StackSets are thinner than AWS's in ways that change what a client
sees. The launcher makes them answer as AWS does: DescribeStackSet returns the StackSet's
AutoDeployment and OrganizationalUnitIds; ListStackInstances gives a service-managed
instance its OrganizationalUnitId; DeleteStackInstances honours DeploymentTargets (moto reads
only Accounts, so deleting by OU deleted nothing); and an operation's results
(ListStackSetOperationResults) list every account and region it touched, including the
accounts reached through an OU and, for UpdateStackSet, every instance (moto listed only
explicitly named accounts, so most operations had no results).

The fourth: moto 5.2.5 stores a stack's termination protection (from CreateStack) but does not
implement UpdateTerminationProtection, and deletes a protected stack. AWS changes the setting
and refuses to delete a protected stack ("Stack [NAME] cannot be deleted while
TerminationProtection is enabled"). The launcher does both, so that turning protection on and
off, and destroy's refusals, are tested end to end. DescribeStacks
reports EnableTerminationProtection from the stored setting (moto does that already), so a
plan after an apply that turned protection on is clean.

The fifth: a stack's AWS::ECR::Repository in moto 5.2.5 gets its name, tag mutability and
tags, but its ImageScanningConfiguration and EncryptionConfiguration are stored with
CloudFormation's key names (ScanOnPush, EncryptionType), which moto's ECR reads as unset (scan
on push off, AES256), and its LifecyclePolicy and RepositoryPolicyText are ignored. AWS
applies all four. The launcher translates the keys and sets (or, on update, removes) the
lifecycle policy and the repository policy, so a deployed repository reads back as the
template says and `little audit` / `little drift` on the emulator report only real changes.

The sixth: moto 5.2.5 stores an AWS::IAM::Role's inline policies (Policies) as the parsed
document and GetRolePolicy returns its Python repr (single quotes); AWS returns the JSON
document. The launcher stores them as JSON.

The seventh: moto 5.2.5 has no IMPORT change sets (ChangeSetType=IMPORT and ResourcesToImport
are ignored: the change set creates a second stack and new resources). The launcher implements
them as AWS does for the resource types `little adopt` takes over: AWS::ECR::Repository
(identifier RepositoryName), AWS::IAM::Role (RoleName), AWS::S3::Bucket (BucketName),
AWS::SQS::Queue (QueueUrl), AWS::SNS::Topic (TopicArn) and AWS::KMS::Alias (AliasName). Creating one checks what AWS checks
(each resource to import is in the template, with a DeletionPolicy; the resource exists; no
other stack manages it; the identifier is the type's) and fails the call with AWS's
ValidationError otherwise, and that the template adds or changes no outputs ("As part of the
import operation, you cannot modify or add [Outputs]"); the change set lists one `Import`
change per resource. Executing it
puts the existing resource into the stack under its logical id, creating and changing nothing
(ECR images stay), and leaves the stack in IMPORT_COMPLETE. So that the next update of an
imported repository does not recreate it (and lose its images), moto's comparison of its
encryption configuration, which tells the API's `encryptionType` from the template's
`EncryptionType`, compares them as the same setting.

Two more change speed, not behaviour: moto 5.2.5 finds the service of every request by
listing its own package directory on disk (about 180 stat calls, some 10 ms a request, a third
of its time for a DescribeStacks), and builds the table of a service's errors anew for every
error it answers (its cache lives in an object made per error); the launcher lists the
directory once and keeps one table per service. The emulator answers one call at a time, so
this was time every client waited, alike for every tool the benchmarks compare (a DescribeStacks
of a missing stack: 32 ms before, under 5 ms after). And moto 5.2.5 reads every template, JSON
too, with PyYAML's pure-Python parser, twice for a stack made through a change set; AWS reads a
JSON template as JSON. The launcher reads a template that starts with `{` with Python's json
first (moto's way for the rest, and for JSON that json refuses).

The eighth: with IAM enforced (`/moto-api/reset-auth` or INITIAL_NO_AUTH_ACTION_COUNT), moto
5.2.5 answers a denied call of a JSON-protocol service (ECR, SNS's JSON clients aside: the
services whose requests carry X-Amz-Target) with the XML error document of the query
services, which the JSON clients cannot read (an HTTP 403 without an error code). AWS answers
them with HTTP 400 and a JSON `AccessDeniedException`. And it answers a denied call of a query
service (CloudFormation, STS, IAM, SNS) with EC2's error document (`ErrorResponse/Errors/Error`),
which their clients cannot read either; AWS answers `ErrorResponse/Error` with the code
`AccessDenied`. And Lambda's (a REST service with JSON bodies) AWS answers with HTTP 403 and a
JSON `AccessDeniedException`. The launcher answers all three as AWS does. And with IAM
enforced, moto checks the signature of a form-encoded request (the query services) over the
form it parsed, encoded again, not over the body that was signed: a CreateChangeSet's differs,
and moto answers SignatureDoesNotMatch. The launcher keeps the body as sent for that check.
moto 5.2.5 also checked the signature of a GET (Lambda's ListFunctions, GetFunction) over its
query parameters as if they were a form body, so every signed GET failed with
SignatureDoesNotMatch; the launcher checks it as AWS does, with the parameters in the URL and
an empty body.

The ninth: a Lambda function packaged as an image reports, in moto 5.2.5's GetFunction, a
ResolvedImageUri made of the ImageUri cut at its first colon and the hash of the request
(`REPO@sha256@sha256:...` for an ImageUri by digest): not the image's digest. AWS resolves
the ImageUri to the digest of the ECR image it names: `REPO@sha256:DIGEST`, the ImageUri's own
digest when it has one, else the digest its tag points to in the registry. The launcher
answers as AWS does (the tag is looked up in moto's ECR of the function's account and region).

The tenth: moto 5.2.5's PublishVersion makes the new version share its code with `$LATEST`, so
an UpdateFunctionCode after it changes the published version's image too. On AWS a published
version is immutable: it keeps the image it was published with, resolved to its digest then.
The launcher gives each published version its own copy of the code, with the digest resolved
at publication.

The eleventh: moto 5.2.5's UpdateService with a new task definition sets the service's
`taskDefinition` to the text it was given (`api:2`, not the ARN) and leaves its deployments
naming the old one as PRIMARY, for ever. On AWS the new task definition's deployment becomes
PRIMARY and the old one stays ACTIVE only until its tasks are replaced; moto completes every
rollout at once, so the launcher answers as AWS does once a rollout is complete: the ARN, and
one PRIMARY deployment of it.

The twelfth: moto 5.2.5's DescribeImages leaves out an image's `imageScanStatus` and
`imageScanFindingsSummary`, which AWS gives for every scanned image (the audit's checks of the
images in use read them instead of a DescribeImageScanFindings per image). The launcher adds
them to each scanned image, from what moto's DescribeImageScanFindings answers for it (its
status, completion time and counts per severity).

Nothing else is changed.
"""
import os
import sys
import threading
import time


def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def refresh_outputs_after_change_sets() -> None:
    from moto.cloudformation import models

    original = models.CloudFormationBackend.execute_change_set

    def execute_change_set(self, change_set_name, stack_name=None):
        original(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name)
        if change_set is None:
            for candidate in self.change_sets.values():
                same_name = candidate.change_set_name == change_set_name
                same_stack = stack_name in (None, candidate.stack_name, candidate.stack_id)
                if same_name and same_stack and candidate.execution_status == "EXECUTE_COMPLETE":
                    change_set = candidate
        if change_set is None:
            return
        stack = self.stacks[change_set.stack_id]
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        if change_set.tags:
            stack.tags = change_set.tags

    models.CloudFormationBackend.execute_change_set = execute_change_set


def change_set_not_found_on_delete() -> None:
    from moto.cloudformation import models
    from moto.cloudformation.exceptions import CloudFormationError

    class ChangeSetNotFound(CloudFormationError):
        code = "ChangeSetNotFound"

        def __init__(self, name: str):
            super().__init__(f"ChangeSet [{name}] does not exist")
            self.code = "ChangeSetNotFound"

    original = models.CloudFormationBackend.delete_change_set

    def delete_change_set(self, change_set_name: str) -> None:
        known = change_set_name in self.change_sets or any(
            cs.change_set_name == change_set_name for cs in self.change_sets.values()
        )
        if not known:
            raise ChangeSetNotFound(change_set_name)
        original(self, change_set_name)

    models.CloudFormationBackend.delete_change_set = delete_change_set


def termination_protection_as_aws() -> None:
    from moto.cloudformation import models, responses
    from moto.cloudformation.exceptions import ValidationError
    from moto.core.responses import ActionResult

    def update_termination_protection(self) -> ActionResult:
        name = self._get_param("StackName")
        enabled = str(self._get_param("EnableTerminationProtection")).lower() == "true"
        stack = self.cloudformation_backend.get_stack(name)
        stack.enable_termination_protection = enabled
        return ActionResult({"StackId": stack.stack_id})

    responses.CloudFormationResponse.update_termination_protection = update_termination_protection

    original_delete = models.CloudFormationBackend.delete_stack

    def delete_stack(self, name: str) -> None:
        for stack in self.stacks.values():
            if name in (stack.name, stack.stack_id) and stack.enable_termination_protection:
                raise ValidationError(
                    message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
                )
        original_delete(self, name)

    models.CloudFormationBackend.delete_stack = delete_stack


def ecr_repositories_from_stacks_as_aws() -> None:
    import json

    from moto.ecr import models

    def api_shaped(properties, original=None):
        out = dict(properties)
        scan = properties.get("ImageScanningConfiguration")
        if isinstance(scan, dict) and "ScanOnPush" in scan:
            out["ImageScanningConfiguration"] = {
                "scanOnPush": str(scan["ScanOnPush"]).lower() == "true"
            }
        encryption = properties.get("EncryptionConfiguration")
        if isinstance(encryption, dict) and "EncryptionType" in encryption:
            shaped = {"encryptionType": encryption["EncryptionType"]}
            if encryption.get("KmsKey"):
                shaped["kmsKey"] = encryption["KmsKey"]
            current = getattr(original, "encryption_configuration", None) or {}
            if shaped["encryptionType"] == current.get("encryptionType") and "kmsKey" not in shaped:
                shaped = current  # the key moto chose at creation: unchanged, not replaced
            out["EncryptionConfiguration"] = shaped
        return out

    def text(value):
        return value if isinstance(value, str) else json.dumps(value)

    def apply_policies(repo, properties, account_id, region_name):
        backend = models.ecr_backends[account_id][region_name]
        lifecycle = (properties.get("LifecyclePolicy") or {}).get("LifecyclePolicyText")
        if lifecycle:
            backend.put_lifecycle_policy(repo.registry_id, repo.name, text(lifecycle))
        else:
            repo.lifecycle_policy = None
        policy = properties.get("RepositoryPolicyText")
        if policy:
            backend.set_repository_policy(repo.registry_id, repo.name, text(policy))
        else:
            repo.policy = None
        return repo

    original_create = models.Repository.create_from_cloudformation_json.__func__
    original_update = models.Repository.update_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        shaped = dict(cloudformation_json, Properties=api_shaped(properties))
        repo = original_create(cls, resource_name, shaped, account_id, region_name, **kwargs)
        return apply_policies(repo, properties, account_id, region_name)

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id,
               region_name):
        properties = cloudformation_json["Properties"]
        shaped = dict(cloudformation_json,
                      Properties=api_shaped(properties, original_resource))
        repo = original_update(cls, original_resource, new_resource_name, shaped, account_id,
                               region_name)
        return apply_policies(repo, properties, account_id, region_name)

    models.Repository.create_from_cloudformation_json = classmethod(create)
    models.Repository.update_from_cloudformation_json = classmethod(update)


def iam_role_policies_as_json() -> None:
    import json

    from moto.iam import models

    original = models.Role.put_policy

    def put_policy(self, policy_name, policy_json):
        if not isinstance(policy_json, str):
            policy_json = json.dumps(policy_json)
        original(self, policy_name, policy_json)

    models.Role.put_policy = put_policy


def stack_sets_as_aws() -> None:
    from moto.cloudformation import models, responses

    def unit_of(stackset, account_id, units):
        """The targeted OU (or root) an account sits under, walking up its parents."""
        org = stackset.instances.org_backend
        parents = {ou.id: ou.parent_id for ou in org.ou}
        account = next((a for a in org.accounts if a.id == account_id), None)
        node = account.parent_id if account else None
        while node:
            if node in units:
                return node
            node = parents.get(node)
        return None

    def record(operation, pairs):
        operation["Instances"] = [{account: region} for account, region in pairs]

    original_create = models.StackSet.create_stack_instances

    def create_stack_instances(self, accounts, regions, deployment_targets, parameters):
        before = {(i.account_id, i.region_name) for i in self.stack_instances}
        operation_id = original_create(self, accounts, regions, deployment_targets, parameters)
        units = (deployment_targets or {}).get("OrganizationalUnitIds", [])
        touched = []
        for instance in self.stack_instances:
            pair = (instance.account_id, instance.region_name)
            if pair in before:
                continue
            touched.append(pair)
            if units:
                instance.organizational_unit_id = unit_of(self, instance.account_id, units)
        record(self.get_operation(operation_id), touched)
        return operation_id

    models.StackSet.create_stack_instances = create_stack_instances

    original_to_dict = models.StackInstance.to_dict

    def to_dict(self):
        out = original_to_dict(self)
        unit = getattr(self, "organizational_unit_id", None)
        if unit:
            out["OrganizationalUnitId"] = unit
        return out

    models.StackInstance.to_dict = to_dict

    original_update = models.StackSet.update

    def update(self, template, description, parameters, tags, admin_role, execution_role,
               accounts, regions, operation_id):
        operation = original_update(self, template, description, parameters, tags, admin_role,
                                    execution_role, accounts, regions, operation_id)
        if not (accounts and regions):
            record(operation, [(i.account_id, i.region_name) for i in self.stack_instances])
        return operation

    models.StackSet.update = update

    def delete_stack_instances(self):
        name = self._get_param("StackSetName")
        regions = self._get_param("Regions", [])
        accounts = list(self._get_param("Accounts", []))
        targets = self._get_params().get("DeploymentTargets") or {}
        stackset = self.cloudformation_backend.describe_stack_set(name)
        accounts += targets.get("Accounts", [])
        units = targets.get("OrganizationalUnitIds", [])
        if units:
            accounts += [
                i.account_id
                for i in stackset.stack_instances
                if getattr(i, "organizational_unit_id", None) in units
                or unit_of(stackset, i.account_id, units)
            ]
        accounts = sorted(set(accounts))
        touched = [
            (i.account_id, i.region_name)
            for i in stackset.stack_instances
            if i.account_id in accounts and i.region_name in regions
        ]
        self.cloudformation_backend.delete_stack_instances(name, accounts, regions)
        operation = stackset.operations[-1]
        record(operation, touched)
        return responses.ActionResult({"OperationId": operation["OperationId"]})

    responses.CloudFormationResponse.delete_stack_instances = delete_stack_instances

    original_create_set = responses.CloudFormationResponse.create_stack_set
    original_update_set = responses.CloudFormationResponse.update_stack_set

    def remember_settings(self):
        stackset = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
        auto = self._get_params().get("AutoDeployment")
        if auto is not None:
            stackset.auto_deployment = {
                "Enabled": str(auto.get("Enabled", False)).lower() == "true",
                "RetainStacksOnAccountRemoval":
                    str(auto.get("RetainStacksOnAccountRemoval", False)).lower() == "true",
            }

    def create_stack_set(self):
        out = original_create_set(self)
        remember_settings(self)
        return out

    def update_stack_set(self):
        out = original_update_set(self)
        remember_settings(self)
        return out

    responses.CloudFormationResponse.create_stack_set = create_stack_set
    responses.CloudFormationResponse.update_stack_set = update_stack_set

    def organizational_unit_ids(self):
        return sorted({
            getattr(i, "organizational_unit_id", None)
            for i in self.stack_instances
        } - {None})

    models.StackSet.organizational_unit_ids = property(organizational_unit_ids)


def work_done_once() -> None:
    from moto import backends
    from moto.core import errors

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules

    tables: dict = {}
    made = errors.ErrorLookupFactory.__init__

    def shared_tables(self) -> None:
        made(self)
        self._error_lut_cache = tables

    errors.ErrorLookupFactory.__init__ = shared_tables

    # A JSON template is read as JSON, as AWS reads it, not with PyYAML's pure-Python parser
    # (a third of the time of a CreateChangeSet or an ExecuteChangeSet); anything else, and
    # JSON that json refuses, as moto reads it.
    import json

    from moto.cloudformation import models

    def json_first(text):
        if isinstance(text, str) and text.lstrip().startswith("{"):
            try:
                return json.loads(text)
            except ValueError:
                pass
        return None

    yaml_parse = models.Stack.parse_template

    def parse_template(template):
        parsed = json_first(template)
        return parsed if parsed is not None else yaml_parse(template)

    models.Stack.parse_template = staticmethod(parse_template)
    change_set_parse = models.ChangeSet._parse_template

    def change_set_template(self) -> None:
        parsed = json_first(self.template)
        if parsed is None:
            change_set_parse(self)
        else:
            self.template_dict = parsed

    models.ChangeSet._parse_template = change_set_template


def form_bodies_signed_as_sent() -> None:
    from moto.core.responses import BaseResponse

    setup = BaseResponse.setup_class

    def keeping(self, request, *args, **kwargs) -> None:
        raw = None
        if (
            request.content_encoding != "gzip"
            and request.mimetype == "application/x-www-form-urlencoded"
        ):
            raw = request.get_data(cache=True)
        setup(self, request, *args, **kwargs)
        if raw:
            # What moto saw before: the form parsed, the body empty.
            self.body = b"" if isinstance(self.body, bytes) else ""
            self.raw_body = raw

    BaseResponse.setup_class = keeping


def access_denied_as_json() -> None:
    from moto.core.exceptions import AccessDeniedError, JsonRESTError
    from moto.core.responses import BaseResponse

    check = BaseResponse._authenticate_and_authorize_normal_action

    def as_aws(self, resource: str = "*") -> None:
        try:
            check(self, resource)
        except AccessDeniedError as e:
            if self.headers.get("X-Amz-Target"):
                raise JsonRESTError("AccessDeniedException", e.message) from e
            service = getattr(self, "service_name", "")
            if service in ("lambda", "awslambda"):
                # Lambda (REST with JSON bodies): HTTP 403, the error type in its header.
                error = JsonRESTError("AccessDeniedException", e.message)
                error.code = 403
                raise error from e
            if service != "ec2":
                # The query services (CloudFormation, STS, IAM, SNS) wrap one Error.
                from xmltodict import unparse

                e.description = unparse(
                    {
                        "ErrorResponse": {
                            "Error": {
                                "Type": "Sender",
                                "Code": "AccessDenied",
                                "Message": e.message,
                            },
                            "RequestId": "access-denied",
                        }
                    },
                    full_document=True,
                )
            raise

    BaseResponse._authenticate_and_authorize_normal_action = as_aws

    from moto.iam import access_control

    signed = access_control.IAMRequestBase._create_aws_request

    def create_aws_request(self):
        # A GET has no body: its query parameters are in the URL, where the client signed them
        # (moto signed them again as a form body, so every GET failed with
        # SignatureDoesNotMatch).
        if self._method in ("GET", "HEAD", "DELETE") and not self._body:
            data, self._data = self._data, b""
            try:
                return signed(self)
            finally:
                self._data = data
        return signed(self)

    access_control.IAMRequestBase._create_aws_request = create_aws_request


IMPORTABLE = {
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::IAM::Role": "RoleName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueUrl",
    "AWS::SNS::Topic": "TopicArn",
    "AWS::KMS::Alias": "AliasName",
}


def import_change_sets() -> None:
    from moto.cloudformation import models, responses
    from moto.cloudformation.exceptions import ValidationError
    from moto.core.responses import ActionResult

    def existing(account, region, kind, ident):
        """The backend object of an existing resource, or None."""
        if kind == "AWS::ECR::Repository":
            from moto.ecr.models import ecr_backends
            return ecr_backends[account][region].repositories.get(ident)
        if kind == "AWS::IAM::Role":
            from moto.iam.models import iam_backends
            return next((r for r in iam_backends[account]["aws"].roles.values()
                         if r.name == ident), None)
        if kind == "AWS::S3::Bucket":
            from moto.s3.models import s3_backends
            return s3_backends[account]["aws"].buckets.get(ident)
        if kind == "AWS::SQS::Queue":
            from moto.sqs.models import sqs_backends
            return sqs_backends[account][region].queues.get(ident.rstrip("/").split("/")[-1])
        if kind == "AWS::SNS::Topic":
            from moto.sns.models import sns_backends
            return sns_backends[account][region].topics.get(ident)
        if kind == "AWS::KMS::Alias":
            from moto.kms.models import kms_backends
            keys = kms_backends[account][region].keys.values()
            return next((k.aliases[ident] for k in keys if ident in k.aliases), None)
        return None

    def managing_stack(backend, kind, physical_ids):
        for stack in backend.stacks.values():
            if stack.status.startswith("DELETE_COMPLETE"):
                continue
            for logical, res in stack.resource_map._parsed_resources.items():
                if logical.startswith("AWS::") or not hasattr(res, "physical_resource_id"):
                    continue
                json = stack.resource_map._resource_json_map.get(logical) or {}
                if json.get("Type") == kind and res.physical_resource_id in physical_ids:
                    return stack.name
        return None

    original_create = responses.CloudFormationResponse.create_change_set

    def create_change_set(self):
        if self._get_param("ChangeSetType", "CREATE") != "IMPORT":
            return original_create(self)
        backend = self.cloudformation_backend
        name = self._get_param("StackName")
        body = self._get_param("TemplateBody")
        if self._get_param("TemplateURL"):
            body = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
        to_import = self._get_param("ResourcesToImport", []) or []
        template = models.ChangeSet.__new__(models.ChangeSet)
        template.template = body
        template._parse_template()
        resources = (template.template_dict or {}).get("Resources", {})
        problems = []
        objects = {}
        for item in to_import:
            logical = item.get("LogicalResourceId")
            kind = item.get("ResourceType")
            ident = item.get("ResourceIdentifier") or {}
            res = resources.get(logical)
            if res is None or res.get("Type") != kind:
                problems.append(f"Resource {logical} of type {kind} to import is not in the template")
                continue
            if "DeletionPolicy" not in res:
                problems.append(
                    f"The following resources to import [{logical}] must have DeletionPolicy attribute specified in the template."
                )
                continue
            key = IMPORTABLE.get(kind)
            if key is None:
                problems.append(f"ResourceType {kind} does not support resource import")
                continue
            if list(ident) != [key]:
                problems.append(f"Invalid resource identifier for {logical} ({kind}): expected {key}")
                continue
            obj = existing(self.current_account, self.region, kind, ident[key])
            if obj is None:
                problems.append(f"Resources [{logical}] do not exist: {kind} {ident[key]} was not found")
                continue
            owner = managing_stack(backend, kind, {obj.physical_resource_id, ident[key]})
            if owner is not None:
                problems.append(
                    f"Resource {ident[key]} of type {kind} is already managed by stack {owner}"
                )
                continue
            objects[logical] = obj
        if not to_import:
            problems.append("ResourcesToImport must name at least one resource for an IMPORT change set")
        stack = next((s for s in backend.stacks.values()
                      if name in (s.name, s.stack_id) and s.status != "DELETE_COMPLETE"), None)
        # An import may not add or change outputs: the deployed stack's stay as they are.
        deployed_outputs = (stack.template_dict or {}).get("Outputs") if stack is not None else None
        if ((template.template_dict or {}).get("Outputs") or None) != (deployed_outputs or None):
            problems.append("As part of the import operation, you cannot modify or add [Outputs]")
        if problems:
            raise ValidationError(message="; ".join(problems))
        parameters = {
            p["ParameterKey"]: p.get("ParameterValue") for p in self._get_param("Parameters", [])
        }
        tags = {t["Key"]: t["Value"] for t in self._get_param("Tags", [])}
        change_set_id, stack_id = backend.create_change_set(
            stack_name=name,
            change_set_name=self._get_param("ChangeSetName"),
            template="{\"Resources\": {}}" if stack is None else stack.template,
            parameters=parameters,
            description=self._get_param("Description"),
            notification_arns=self._get_param("NotificationARNs", []),
            tags=tags,
            role_arn=self._get_param("RoleARN"),
            change_set_type="CREATE" if stack is None else "UPDATE",
        )
        change_set = backend.change_sets[change_set_id]
        change_set.change_set_type = "IMPORT"
        change_set.template = body
        change_set._parse_template()
        change_set.imports = objects
        change_set.changes = [
            models.Change("Import", logical, resources[logical]["Type"]) for logical in objects
        ]
        change_set.status = "CREATE_COMPLETE"
        change_set.execution_status = "AVAILABLE"
        change_set.status_reason = None
        return ActionResult({"Id": change_set_id, "StackId": stack_id})

    responses.CloudFormationResponse.create_change_set = create_change_set

    original_execute = models.CloudFormationBackend.execute_change_set

    def execute_change_set(self, change_set_name, stack_name=None):
        change_set = self.change_sets.get(change_set_name) or next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name
             and stack_name in (None, c.stack_name, c.stack_id)), None)
        if change_set is None or getattr(change_set, "imports", None) is None:
            return original_execute(self, change_set_name, stack_name)
        stack = self.stacks[change_set.stack_id]
        stack._add_stack_event("IMPORT_IN_PROGRESS", resource_status_reason="User Initiated")
        stack.template = change_set.template
        stack._parse_template()
        if change_set.parameters:
            stack.parameters = change_set.parameters
        resource_map = stack.resource_map
        resource_map._template = stack.template_dict
        resource_map._resource_json_map = stack.template_dict["Resources"]
        resource_map.input_parameters = stack.parameters
        resource_map.load()
        for logical, obj in change_set.imports.items():
            obj.logical_resource_id = logical
            obj.cf_resource_type = stack.template_dict["Resources"][logical]["Type"]
            resource_map._parsed_resources[logical] = obj
        stack.output_map = stack._create_output_map()
        stack._add_stack_event("IMPORT_COMPLETE")
        change_set.execution_status = "EXECUTE_COMPLETE"
        stack.status = "IMPORT_COMPLETE"

    models.CloudFormationBackend.execute_change_set = execute_change_set

    from moto.ecr import models as ecr_models

    original_update = ecr_models.Repository.update_from_cloudformation_json.__func__

    def lower(config):
        return {k[:1].lower() + k[1:]: v for k, v in (config or {"encryptionType": "AES256"}).items()}

    def update_repository(cls, original_resource, new_resource_name, cloudformation_json,
                          account_id, region_name):
        wanted = cloudformation_json.get("Properties", {}).get("EncryptionConfiguration")
        have = original_resource.encryption_configuration
        if lower(wanted) == lower(have) or (
            lower(wanted).get("encryptionType") == "KMS" and "kmsKey" not in lower(wanted)
            and lower(have).get("encryptionType") == "KMS"
        ):
            properties = dict(cloudformation_json.get("Properties", {}))
            properties["EncryptionConfiguration"] = have
            cloudformation_json = dict(cloudformation_json, Properties=properties)
        return original_update(cls, original_resource, new_resource_name, cloudformation_json,
                               account_id, region_name)

    ecr_models.Repository.update_from_cloudformation_json = classmethod(update_repository)


def lambda_resolved_image_uri_as_aws() -> None:
    from moto.awslambda import models
    from moto.ecr import models as ecr_models

    original = models.LambdaFunction.get_code

    def without_tag(reference):
        name, _, tag = reference.rpartition(":")
        if "/" in tag or not name:
            return reference, "latest"
        return name, tag

    def resolved(function, uri):
        if "@" in uri:
            name, digest = uri.split("@", 1)
            return f"{without_tag(name)[0]}@{digest}"
        host_and_repo, tag = without_tag(uri)
        repository = host_and_repo.split("/", 1)[1] if "/" in host_and_repo else host_and_repo
        backend = ecr_models.ecr_backends[function.account_id][function.region]
        repo = backend.repositories.get(repository)
        for image in getattr(repo, "images", []) or []:
            if tag in (image.image_tags or []):
                return f"{host_and_repo}@{image.get_image_digest()}"
        return None

    def get_code(self):
        out = original(self)
        code = out.get("Code") or {}
        if code.get("ImageUri"):
            uri = self.code.get("_ResolvedAtPublish") or resolved(self, code["ImageUri"])
            if uri:
                code["ResolvedImageUri"] = uri
            else:
                code.pop("ResolvedImageUri", None)
        return out

    models.LambdaFunction.get_code = get_code

    original_publish = models.LambdaStorage.publish_version

    def publish_version(self, name_or_arn, description=""):
        latest = self.get_function_by_name_or_arn_forbid_qualifier(name_or_arn)
        versions = len(self._functions.get(latest.function_name, {}).get("versions", []))
        fn = original_publish(self, name_or_arn, description)
        if fn is not None and len(self._functions[latest.function_name]["versions"]) > versions:
            fn.code = dict(fn.code)
            if fn.code.get("ImageUri"):
                fn.code["_ResolvedAtPublish"] = resolved(fn, fn.code["ImageUri"])
        return fn

    models.LambdaStorage.publish_version = publish_version


def ecr_scan_summaries_as_aws() -> None:
    from moto.ecr import responses

    original = responses.ECRResponse.describe_images

    def describe_images(self):
        result = original(self)
        registry_id = self._get_param("registryId")
        repository = self._get_param("repositoryName")
        for image in result.result.get("imageDetails", []):
            if not getattr(image, "last_scan", None):
                continue
            try:
                scan = self.ecr_backend.describe_image_scan_findings(
                    registry_id, repository, {"imageDigest": image.image_digest})
            except Exception:
                continue
            findings = scan.get("imageScanFindings") or {}
            image.image_scan_status = scan.get("imageScanStatus")
            image.image_scan_findings_summary = {
                key: findings[key]
                for key in ("imageScanCompletedAt", "vulnerabilitySourceUpdatedAt",
                            "findingSeverityCounts")
                if key in findings
            }
        return result

    responses.ECRResponse.describe_images = describe_images


def ecs_rollouts_complete_as_aws() -> None:
    from moto.ecs import models

    original = models.EC2ContainerServiceBackend.update_service

    def update_service(self, service_properties):
        wanted = service_properties.get("task_definition")
        service = original(self, service_properties)
        if wanted:
            arn = self.describe_task_definition(wanted).arn
            service.task_definition = arn
            if service.deployments:
                service.deployments = [dict(service.deployments[0], taskDefinition=arn,
                                            status="PRIMARY")]
        return service

    models.EC2ContainerServiceBackend.update_service = update_service


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    port = args[0]
    if "--exit-with-parent" in args:
        threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    refresh_outputs_after_change_sets()
    change_set_not_found_on_delete()
    stack_sets_as_aws()
    termination_protection_as_aws()
    ecr_repositories_from_stacks_as_aws()
    iam_role_policies_as_json()
    import_change_sets()
    access_denied_as_json()
    form_bodies_signed_as_sent()
    work_done_once()
    lambda_resolved_image_uri_as_aws()
    ecs_rollouts_complete_as_aws()
    ecr_scan_summaries_as_aws()
    from moto.server import main as moto_main

    return moto_main(["-H", "127.0.0.1", "-p", port])


if __name__ == "__main__":
    sys.exit(main() or 0)
