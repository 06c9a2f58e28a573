//! The deployed stacks of one account and region, read at once: when a command reads many
//! stacks there ([`LIST_FROM`] or more), one paged DescribeStacks without a stack name
//! answers for all of them, instead of one call per stack.
//!
//! The listing is read once, by the first stack that needs it, and serves the selection it was
//! made for: its stacks, and the dependencies whose outputs they read. A stack it holds is answered from it. A stack it does not hold
//! is known not to exist only when the listing read every page; otherwise (more stacks in the
//! region than the pages allowed), and when the listing could not be read at all (an IAM
//! policy that allows DescribeStacks only on named stacks, throttling), the stack is read on
//! its own, as it would have been without a listing. So is a stack the listing saw without
//! all of its description (no `EnableTerminationProtection`, which the plan compares).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

use crate::aws::cloudformation::{CloudFormation, StackInfo};
use crate::aws::connect::Clients;
use crate::error::Result;
use crate::project::{Project, Stack};

/// The fewest stacks of one account and region a selection reads for them to be listed.
/// Below it, the stacks' own reads (made at once) cost no more than a listing.
pub const LIST_FROM: usize = 10;

/// Stacks a page of DescribeStacks holds at the least (the emulator's page; AWS fills a page
/// up to a size, which holds more), to bound the pages read for a selection.
const PAGE_AT_LEAST: usize = 50;

/// Where a stack is: its configured region and account (none: the defaults).
type Place = (Option<String>, Option<String>);

/// What the listing found so far, by stack name, and the stacks it saw without all of their
/// description (read on their own); once `done`, whether it read every page.
#[derive(Default)]
struct Found {
    stacks: HashMap<String, StackInfo>,
    unsure: HashSet<String>,
    done: bool,
    complete: bool,
}

struct Region {
    /// The most pages to read: enough for the selection's stacks and as many others.
    max_pages: usize,
    started: AtomicBool,
    /// Each page is published as it arrives: a stack found on the first page goes on while
    /// the next pages are read.
    found: watch::Sender<Found>,
}

/// The listings of a command's selection, one per account and region with enough stacks.
#[derive(Default)]
pub struct Listings {
    regions: BTreeMap<Place, Arc<Region>>,
}

fn place(project: &Project, stack: &Stack) -> Place {
    (
        stack.region.clone(),
        project.account_of(stack).map(|a| a.id.clone()),
    )
}

impl Listings {
    /// No listing: every stack is read on its own.
    pub fn none() -> Self {
        Listings::default()
    }

    /// The listings for these stacks (single stacks only; a StackSet is read otherwise): one
    /// for each account and region holding [`LIST_FROM`] of them or more.
    pub fn of(project: &Project, stacks: &[&Stack]) -> Self {
        let mut counts: BTreeMap<Place, usize> = BTreeMap::new();
        for stack in stacks.iter().filter(|s| s.kind.stack_set().is_none()) {
            *counts.entry(place(project, stack)).or_default() += 1;
        }
        Listings {
            regions: counts
                .into_iter()
                .filter(|(_, n)| *n >= LIST_FROM)
                .map(|(place, n)| {
                    let region = Region {
                        max_pages: (2 * n).div_ceil(PAGE_AT_LEAST),
                        started: AtomicBool::new(false),
                        found: watch::channel(Found::default()).0,
                    };
                    (place, Arc::new(region))
                })
                .collect(),
        }
    }

    /// Whether no account and region is listed.
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// Whether the stack's account and region is listed.
    pub fn lists(&self, project: &Project, stack: &Stack) -> bool {
        self.regions.contains_key(&place(project, stack))
    }

    /// The stack as DescribeStacks describes it (None: it does not exist), from the listing
    /// of its account and region when there is one that can tell, else from its own call.
    /// The first stack of a region starts its listing, in the background.
    pub async fn describe(
        &self,
        project: &Project,
        clients: &Clients,
        stack: &Stack,
    ) -> Result<Option<StackInfo>> {
        if let Some(region) = self.regions.get(&place(project, stack)) {
            if !region.started.swap(true, Ordering::SeqCst) {
                tokio::spawn(read(clients.cfn.clone(), region.clone()));
            }
            let mut found = region.found.subscribe();
            loop {
                {
                    let now = found.borrow_and_update();
                    if let Some(info) = now.stacks.get(&stack.name) {
                        return Ok(Some(info.clone()));
                    }
                    if now.unsure.contains(&stack.name) {
                        break;
                    }
                    if now.done {
                        if now.complete {
                            return Ok(None);
                        }
                        break;
                    }
                }
                if found.changed().await.is_err() {
                    break;
                }
            }
        }
        clients.cfn.describe_stack(&stack.name).await
    }
}

/// Reads the region's pages, at most `max_pages`, publishing each; ends `done`, and
/// `complete` when it read the last page. A page that cannot be read (an IAM policy that
/// allows DescribeStacks only on named stacks, throttling) ends it incomplete: the stacks not
/// found yet are then read on their own.
async fn read(cfn: Arc<dyn CloudFormation>, region: Arc<Region>) {
    let mut token = None;
    let mut complete = false;
    for _ in 0..region.max_pages {
        match cfn.describe_stacks_page(token.take()).await {
            Ok(page) => {
                region.found.send_modify(|found| {
                    found
                        .stacks
                        .extend(page.stacks.into_iter().map(|s| (s.name.clone(), s)));
                    found.unsure.extend(page.unsure);
                });
                match page.next {
                    Some(next) => token = Some(next),
                    None => {
                        complete = true;
                        break;
                    }
                }
            }
            Err(_) => break,
        }
    }
    region.found.send_modify(|found| {
        found.done = true;
        found.complete = complete;
    });
}

#[cfg(test)]
mod tests;
