//! SDK-mock tests of the workloads adapter: pagination, batching of DescribeServices and
//! DescribeTasks, one DescribeTaskDefinition per distinct task definition, the users' names.

use super::*;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::list_clusters::ListClustersOutput;
use aws_sdk_ecs::operation::list_services::ListServicesOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::types::{
    Container, ContainerDefinition, Deployment, Service, Task, TaskDefinition,
};
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::operation::list_aliases::ListAliasesOutput;
use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
use aws_sdk_lambda::types::{
    AliasConfiguration, AliasRoutingConfiguration, FunctionCodeLocation, FunctionConfiguration,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::retry::RetryConfig;

const REPO: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api";
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod";
const DIGEST: &str = "sha256:4f1a9b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";

fn client(ecs: &[&Rule], lambda: &[&Rule]) -> WorkloadsClient {
    WorkloadsClient::from_clients(
        mock_client!(aws_sdk_ecs, RuleMode::MatchAny, ecs, |c| c
            .retry_config(RetryConfig::disabled())),
        mock_client!(aws_sdk_lambda, RuleMode::MatchAny, lambda, |c| c
            .retry_config(RetryConfig::disabled())),
    )
}

fn service_arn(n: usize) -> String {
    format!("arn:aws:ecs:eu-west-1:123456789012:service/prod/svc-{n:02}")
}

fn definition(family: &str) -> String {
    format!("arn:aws:ecs:eu-west-1:123456789012:task-definition/{family}:3")
}

#[tokio::test]
async fn ecs_services_come_over_pages_in_batches_of_ten_and_each_definition_is_read_once() {
    let clusters = mock!(aws_sdk_ecs::Client::list_clusters)
        .match_requests(|r| r.max_results() == Some(100))
        .then_output(|| ListClustersOutput::builder().cluster_arns(CLUSTER).build());
    // 12 services over two pages.
    let first = mock!(aws_sdk_ecs::Client::list_services)
        .match_requests(|r| r.cluster() == Some(CLUSTER) && r.next_token().is_none())
        .then_output(|| {
            ListServicesOutput::builder()
                .set_service_arns(Some((0..7).map(service_arn).collect()))
                .next_token("page-2")
                .build()
        });
    let second = mock!(aws_sdk_ecs::Client::list_services)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            ListServicesOutput::builder()
                .set_service_arns(Some((7..12).map(service_arn).collect()))
                .build()
        });
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|r| r.cluster() == Some(CLUSTER) && r.services().len() <= 10)
        .then_output(|| {
            // What each call answers does not depend on the batch: two services of two
            // families (the adapter reads each definition once).
            DescribeServicesOutput::builder()
                .services(
                    Service::builder()
                        .service_name("api")
                        .task_definition(definition("api"))
                        .build(),
                )
                // In a rollout from api's task definition to its own: both run, and a
                // rollback would go back to the old one.
                .services(
                    Service::builder()
                        .service_name("web")
                        .task_definition(definition("web"))
                        .deployments(
                            Deployment::builder()
                                .status("PRIMARY")
                                .task_definition(definition("web"))
                                .build(),
                        )
                        .deployments(
                            Deployment::builder()
                                .status("ACTIVE")
                                .task_definition(definition("api"))
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let api = mock!(aws_sdk_ecs::Client::describe_task_definition)
        .match_requests(|r| r.task_definition() == Some(definition("api").as_str()))
        .then_output(|| {
            DescribeTaskDefinitionOutput::builder()
                .task_definition(
                    TaskDefinition::builder()
                        .container_definitions(
                            ContainerDefinition::builder()
                                .image(format!("{REPO}:v1"))
                                .build(),
                        )
                        .container_definitions(
                            ContainerDefinition::builder()
                                .image("public.ecr.aws/nginx/nginx:1.27")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let web = mock!(aws_sdk_ecs::Client::describe_task_definition)
        .match_requests(|r| r.task_definition() == Some(definition("web").as_str()))
        .then_output(|| {
            DescribeTaskDefinitionOutput::builder()
                .task_definition(
                    TaskDefinition::builder()
                        .container_definitions(
                            ContainerDefinition::builder()
                                .image(format!("{REPO}@{DIGEST}"))
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let tasks = mock!(aws_sdk_ecs::Client::list_tasks)
        .match_requests(|r| {
            r.cluster() == Some(CLUSTER) && r.desired_status() == Some(&DesiredStatus::Running)
        })
        .then_output(|| {
            ListTasksOutput::builder()
                .task_arns("arn:aws:ecs:eu-west-1:123456789012:task/prod/0a1b")
                .task_arns("arn:aws:ecs:eu-west-1:123456789012:task/prod/2c3d")
                .build()
        });
    let described = mock!(aws_sdk_ecs::Client::describe_tasks)
        .match_requests(|r| r.tasks().len() == 2)
        .then_output(|| {
            let container = Container::builder()
                .image(format!("{REPO}:v1"))
                .image_digest(DIGEST)
                .build();
            DescribeTasksOutput::builder()
                .tasks(
                    Task::builder()
                        .group("service:api")
                        .task_definition_arn(definition("api"))
                        .containers(container.clone())
                        .build(),
                )
                .tasks(
                    Task::builder()
                        .group("family:migrate")
                        .task_definition_arn(definition("migrate"))
                        .containers(container)
                        .build(),
                )
                .build()
        });
    let w = client(
        &[
            &clusters, &first, &second, &describe, &api, &web, &tasks, &described,
        ],
        &[],
    );
    let uses = w.ecs_images().await.unwrap();
    assert_eq!(clusters.num_calls(), 1);
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    // 12 services: 10 and 2.
    assert_eq!(describe.num_calls(), 2);
    assert_eq!((api.num_calls(), web.num_calls()), (1, 1));
    assert_eq!((tasks.num_calls(), described.num_calls()), (1, 1));
    let got: Vec<(&str, Option<&str>, &str)> = uses
        .iter()
        .map(|u| (u.reference.as_str(), u.digest.as_deref(), u.user.as_str()))
        .collect();
    let v1 = format!("{REPO}:v1");
    let by_digest = format!("{REPO}@{DIGEST}");
    assert_eq!(
        got,
        vec![
            (v1.as_str(), None, "ecs:prod/api"),
            (v1.as_str(), None, "ecs:prod/web"),
            (v1.as_str(), Some(DIGEST), "ecs:prod/api"),
            (v1.as_str(), Some(DIGEST), "ecs:prod/task/migrate"),
            (by_digest.as_str(), None, "ecs:prod/web"),
            ("public.ecr.aws/nginx/nginx:1.27", None, "ecs:prod/api"),
            ("public.ecr.aws/nginx/nginx:1.27", None, "ecs:prod/web"),
        ]
    );
}

#[tokio::test]
async fn a_denied_ecs_call_is_an_error_naming_the_permission() {
    let clusters = mock!(aws_sdk_ecs::Client::list_clusters).then_error(|| {
        aws_sdk_ecs::operation::list_clusters::ListClustersError::generic(
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: ecs:ListClusters on resource: *")
                .build(),
        )
    });
    let w = client(&[&clusters], &[]);
    let e = w.ecs_images().await.unwrap_err();
    assert_eq!(e.denied_action(), Some("ecs:ListClusters"), "{e}");
}

#[tokio::test]
async fn lambda_functions_come_over_pages_and_only_images_are_read() {
    let function = |name: &str, package: PackageType| {
        FunctionConfiguration::builder()
            .function_name(name)
            .package_type(package)
            .build()
    };
    let first = mock!(aws_sdk_lambda::Client::list_functions)
        .match_requests(|r| r.marker().is_none() && r.max_items() == Some(50))
        .then_output(move || {
            ListFunctionsOutput::builder()
                .functions(function("worker", PackageType::Image))
                .functions(function("zipped", PackageType::Zip))
                .next_marker("m-2")
                .build()
        });
    let second = mock!(aws_sdk_lambda::Client::list_functions)
        .match_requests(|r| r.marker() == Some("m-2"))
        .then_output(move || {
            ListFunctionsOutput::builder()
                .functions(function("resizer", PackageType::Image))
                .build()
        });
    let get = mock!(aws_sdk_lambda::Client::get_function)
        .match_requests(|r| matches!(r.function_name(), Some("worker" | "resizer")))
        .then_output(|| {
            GetFunctionOutput::builder()
                .code(
                    FunctionCodeLocation::builder()
                        .repository_type("ECR")
                        .image_uri(format!("{REPO}:v2"))
                        .resolved_image_uri(format!("{REPO}@{DIGEST}"))
                        .build(),
                )
                .build()
        });
    let aliases = mock!(aws_sdk_lambda::Client::list_aliases)
        .then_output(|| ListAliasesOutput::builder().build());
    let w = client(&[], &[&first, &second, &get, &aliases]);
    let uses = w.lambda_images().await.unwrap();
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    assert_eq!(aliases.num_calls(), 2);
    // Not for the function packaged as a .zip.
    assert_eq!(get.num_calls(), 2);
    let users: Vec<&str> = uses.iter().map(|u| u.user.as_str()).collect();
    assert_eq!(users, vec!["lambda:resizer", "lambda:worker"]);
    assert_eq!(uses[0].reference, format!("{REPO}:v2"));
    assert_eq!(uses[0].digest.as_deref(), Some(DIGEST));
}

fn code(tag: &str, digest: &str) -> FunctionCodeLocation {
    FunctionCodeLocation::builder()
        .repository_type("ECR")
        .image_uri(format!("{REPO}:{tag}"))
        .resolved_image_uri(format!("{REPO}@{digest}"))
        .build()
}

#[tokio::test]
async fn a_functions_aliases_add_the_versions_they_route_to_each_read_once() {
    let old = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
    let canary = "sha256:0000000000000000000000000000000000000000000000000000000000000002";
    let list = mock!(aws_sdk_lambda::Client::list_functions).then_output(|| {
        ListFunctionsOutput::builder()
            .functions(
                FunctionConfiguration::builder()
                    .function_name("api")
                    .package_type(PackageType::Image)
                    .build(),
            )
            .build()
    });
    // Two pages of aliases: `live` on version 3 with a tenth routed to version 4, `stable` on
    // version 3 too, `dev` on $LATEST.
    let first = mock!(aws_sdk_lambda::Client::list_aliases)
        .match_requests(|r| r.function_name() == Some("api") && r.marker().is_none())
        .then_output(|| {
            ListAliasesOutput::builder()
                .aliases(
                    AliasConfiguration::builder()
                        .name("live")
                        .function_version("3")
                        .routing_config(
                            AliasRoutingConfiguration::builder()
                                .additional_version_weights("4", 0.1)
                                .build(),
                        )
                        .build(),
                )
                .aliases(
                    AliasConfiguration::builder()
                        .name("stable")
                        .function_version("3")
                        .build(),
                )
                .next_marker("a-2")
                .build()
        });
    let second = mock!(aws_sdk_lambda::Client::list_aliases)
        .match_requests(|r| r.marker() == Some("a-2"))
        .then_output(|| {
            ListAliasesOutput::builder()
                .aliases(
                    AliasConfiguration::builder()
                        .name("dev")
                        .function_version("$LATEST")
                        .build(),
                )
                .build()
        });
    let latest = mock!(aws_sdk_lambda::Client::get_function)
        .match_requests(|r| r.qualifier().is_none())
        .then_output(|| {
            GetFunctionOutput::builder()
                .code(code("main", DIGEST))
                .build()
        });
    let v3 = mock!(aws_sdk_lambda::Client::get_function)
        .match_requests(|r| r.qualifier() == Some("3"))
        .then_output(move || GetFunctionOutput::builder().code(code("v3", old)).build());
    let v4 = mock!(aws_sdk_lambda::Client::get_function)
        .match_requests(|r| r.qualifier() == Some("4"))
        .then_output(move || {
            GetFunctionOutput::builder()
                .code(code("v4", canary))
                .build()
        });
    let w = client(&[], &[&list, &first, &second, &latest, &v3, &v4]);
    let uses = w.lambda_images().await.unwrap();
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    // Each version once, however many aliases name it; $LATEST once.
    assert_eq!(
        (latest.num_calls(), v3.num_calls(), v4.num_calls()),
        (1, 1, 1)
    );
    let seen: Vec<(&str, &str)> = uses
        .iter()
        .map(|u| (u.user.as_str(), u.digest.as_deref().unwrap()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("lambda:api", DIGEST),
            ("lambda:api:dev", DIGEST),
            ("lambda:api:live", old),
            ("lambda:api:stable", old),
            ("lambda:api:live", canary),
        ]
    );
    assert_eq!(uses[2].reference, format!("{REPO}:v3"));
}

#[test]
fn names_come_from_arns() {
    assert_eq!(arn_name(CLUSTER), "prod");
    assert_eq!(family(&definition("api")), "api");
    assert_eq!(family("api"), "api");
    assert_eq!(
        digest_of(&format!("{REPO}@{DIGEST}")).as_deref(),
        Some(DIGEST)
    );
    assert_eq!(digest_of(REPO), None);
}
