//! The listing answers as each stack's own DescribeStacks would, with fewer calls: tested on
//! the fake account, whose pages hold `FAKE_PAGE` stacks.

use std::sync::Arc;

use super::*;
use crate::aws::connect::Connect;
use crate::testing::fake_aws::{project, FakeAws, FakeConnect, FAKE_PAGE};

const QUEUE: &str = r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}"#;

/// A project of `n` stacks `s00`.. in the default region, and `in_other` more in eu-west-1.
fn stacks(n: usize, in_other: usize) -> (tempfile::TempDir, Arc<Project>) {
    let mut files: Vec<(String, String)> = (0..n)
        .map(|i| {
            (
                format!("stacks/s{i:02}.yaml"),
                format!("name: s{i:02}\ntemplate: q.json\n"),
            )
        })
        .collect();
    files.extend((0..in_other).map(|i| {
        (
            format!("stacks/e{i:02}.yaml"),
            format!("name: e{i:02}\ntemplate: q.json\nregion: eu-west-1\n"),
        )
    }));
    files.push(("templates/q.json".into(), QUEUE.into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    project(&refs)
}

async fn read_all(
    project: &Project,
    aws: &Arc<FakeAws>,
    listings: &Listings,
) -> BTreeMap<String, Option<String>> {
    let clients = FakeConnect(aws.clone()).clients(None, None).await.unwrap();
    let mut out = BTreeMap::new();
    for stack in &project.stacks {
        let info = listings.describe(project, &clients, stack).await.unwrap();
        out.insert(stack.name.clone(), info.map(|i| i.status));
    }
    out
}

fn calls(aws: &FakeAws, prefix: &str) -> usize {
    aws.calls().iter().filter(|c| c.starts_with(prefix)).count()
}

#[tokio::test]
async fn a_region_with_enough_stacks_is_read_in_pages_and_answers_as_each_read_would() {
    let (_d, project) = stacks(LIST_FROM, 0);
    let aws = FakeAws::new();
    // Three of the ten are deployed; one stack of the region is not the project's.
    for name in ["s01", "s04", "s09", "other"] {
        aws.deploy(name, QUEUE, &[], &[]);
    }
    let selection: Vec<&Stack> = project.stacks.iter().collect();
    let listings = Listings::of(&project, &selection);
    assert!(listings.lists(&project, &project.stacks[0]));
    let listed = read_all(&project, &aws, &listings).await;

    // The same answers as one DescribeStacks a stack.
    let alone = read_all(&project, &aws, &Listings::none()).await;
    assert_eq!(listed, alone);
    assert_eq!(listed["s04"].as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(listed["s00"], None);

    // One page (4 stacks in the fake's pages of FAKE_PAGE), read once for all ten.
    assert_eq!(FAKE_PAGE, 4);
    assert_eq!(calls(&aws, "DescribeStacks (page"), 1);
    assert_eq!(
        calls(&aws, "DescribeStacks s"),
        LIST_FROM,
        "only the reads without a listing"
    );
}

#[tokio::test]
async fn an_incomplete_listing_answers_what_it_holds_and_reads_the_others() {
    let (_d, project) = stacks(LIST_FROM, 0);
    let aws = FakeAws::new();
    // More stacks in the region than the pages allowed for ten (one page of FAKE_PAGE).
    for i in 0..LIST_FROM {
        aws.deploy(&format!("s{i:02}"), QUEUE, &[], &[]);
    }
    let selection: Vec<&Stack> = project.stacks.iter().collect();
    let listed = read_all(&project, &aws, &Listings::of(&project, &selection)).await;
    assert!(listed
        .values()
        .all(|s| s.as_deref() == Some("CREATE_COMPLETE")));
    assert_eq!(calls(&aws, "DescribeStacks (page"), 1);
    // The first page held s00..s03: the six others were read on their own.
    assert_eq!(calls(&aws, "DescribeStacks s"), LIST_FROM - FAKE_PAGE);
    assert!(!aws.calls().contains(&"DescribeStacks s00".to_owned()));
}

#[tokio::test]
async fn a_listing_that_cannot_be_read_leaves_each_stack_to_its_own_read() {
    let (_d, project) = stacks(LIST_FROM, 0);
    let aws = FakeAws::new();
    aws.deploy("s03", QUEUE, &[], &[]);
    aws.failing.lock().unwrap().insert(
        "DescribeStacks (page 1)".into(),
        "AccessDenied: not authorized to perform: cloudformation:DescribeStacks".into(),
    );
    let selection: Vec<&Stack> = project.stacks.iter().collect();
    let listed = read_all(&project, &aws, &Listings::of(&project, &selection)).await;
    assert_eq!(listed["s03"].as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(listed["s00"], None);
    // Tried once, not once a stack.
    assert_eq!(calls(&aws, "DescribeStacks (page"), 1);
    assert_eq!(calls(&aws, "DescribeStacks s"), LIST_FROM);
}

#[tokio::test]
async fn a_stack_listed_without_its_termination_protection_is_read_on_its_own() {
    let (_d, project) = stacks(LIST_FROM, 0);
    let aws = FakeAws::new();
    aws.deploy("s02", QUEUE, &[], &[]);
    aws.deploy("s05", QUEUE, &[], &[]);
    aws.listed_unsure.lock().unwrap().insert("s05".into());
    let selection: Vec<&Stack> = project.stacks.iter().collect();
    let listed = read_all(&project, &aws, &Listings::of(&project, &selection)).await;
    assert_eq!(listed["s05"].as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(listed["s02"].as_deref(), Some("CREATE_COMPLETE"));
    // Only s05 is read on its own: the listing answered the nine others.
    assert_eq!(calls(&aws, "DescribeStacks s"), 1);
    assert!(aws.calls().contains(&"DescribeStacks s05".to_owned()));
}

#[tokio::test]
async fn few_stacks_in_a_region_are_read_on_their_own() {
    // Ten in the default region, nine in eu-west-1: only the first region is listed.
    let (_d, project) = stacks(LIST_FROM, LIST_FROM - 1);
    let selection: Vec<&Stack> = project.stacks.iter().collect();
    let listings = Listings::of(&project, &selection);
    let by = |name: &str| project.stacks.iter().find(|s| s.name == name).unwrap();
    assert!(listings.lists(&project, by("s00")));
    assert!(!listings.lists(&project, by("e00")));
    // A selection of fewer than LIST_FROM stacks lists nothing.
    let few: Vec<&Stack> = project.stacks.iter().take(LIST_FROM - 1).collect();
    assert!(!Listings::of(&project, &few).lists(&project, by("s00")));
}

/// Answers the first page at once and never the second.
struct FirstPageOnly;

#[async_trait::async_trait]
impl CloudFormation for FirstPageOnly {
    async fn describe_stacks_page(
        &self,
        token: Option<String>,
    ) -> Result<crate::aws::cloudformation::StacksPage> {
        if token.is_some() {
            std::future::pending::<()>().await;
        }
        Ok(crate::aws::cloudformation::StacksPage {
            stacks: vec![StackInfo {
                name: "s00".into(),
                status: "CREATE_COMPLETE".into(),
                ..Default::default()
            }],
            unsure: Vec::new(),
            next: Some("2".into()),
        })
    }
    async fn describe_stack(&self, _name: &str) -> Result<Option<StackInfo>> {
        unreachable!("s00 is on the first page")
    }
    async fn get_template(&self, _name: &str) -> Result<String> {
        unreachable!()
    }
    async fn create_stack(
        &self,
        _req: &crate::aws::cloudformation::StackRequest,
    ) -> Result<String> {
        unreachable!()
    }
    async fn delete_stack(&self, _name: &str) -> Result<()> {
        unreachable!()
    }
    async fn imports_of(&self, _name: &str) -> Result<Vec<crate::aws::cloudformation::Import>> {
        unreachable!()
    }
    async fn imports_of_exports(
        &self,
        _exports: &[String],
    ) -> Result<Vec<crate::aws::cloudformation::Import>> {
        unreachable!()
    }
}

#[tokio::test]
async fn a_stack_on_the_first_page_goes_on_while_the_next_pages_are_read() {
    let (_d, project) = stacks(LIST_FROM, 0);
    let selection: Vec<&Stack> = project.stacks.iter().collect();
    let listings = Listings::of(&project, &selection);
    let mut clients = FakeConnect(FakeAws::new())
        .clients(None, None)
        .await
        .unwrap();
    clients.cfn = Arc::new(FirstPageOnly);
    let read = listings.describe(&project, &clients, &project.stacks[0]);
    let info = tokio::time::timeout(std::time::Duration::from_secs(5), read)
        .await
        .expect("answered from the first page, without waiting for the second")
        .unwrap();
    assert_eq!(info.map(|i| i.status).as_deref(), Some("CREATE_COMPLETE"));
}
