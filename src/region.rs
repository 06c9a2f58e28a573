//! AWS's region names, by partition, so that a misspelt region (`us-esat-1`) is refused with
//! the name it was probably meant to be, before anything is sent to AWS, wherever a region is
//! given: `--region`, `AWS_REGION`, little.yaml, stack configs, StackSet and audit regions.
//!
//! Not here: which region a stack uses (the project resolves that, with `--region`), and the
//! SDK's configuration (`aws`).
//!
//! The list is the `regions` of each partition in the partitions file of the AWS SDKs'
//! endpoint rules (`partitions.json`, as embedded in `aws-sdk-sts` 1.124.0, the version in
//! Cargo.lock), read on 2026-12-02, without the `*-global` pseudo-regions. A region AWS opens
//! later is refused until this list names it: add it here (with the SDK's file as the source).

/// A partition and the names of its regions.
#[derive(Debug, Clone, Copy)]
pub struct Partition {
    /// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, ...
    pub id: &'static str,
    pub regions: &'static [&'static str],
}

/// Every partition's regions (see the module's doc for the source and date).
pub const PARTITIONS: &[Partition] = &[
    Partition {
        id: "aws",
        regions: &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    },
    Partition {
        id: "aws-cn",
        regions: &["cn-north-1", "cn-northwest-1"],
    },
    Partition {
        id: "aws-us-gov",
        regions: &["us-gov-east-1", "us-gov-west-1"],
    },
    Partition {
        id: "aws-eusc",
        regions: &["eusc-de-east-1"],
    },
    Partition {
        id: "aws-iso",
        regions: &["us-iso-east-1", "us-iso-west-1"],
    },
    Partition {
        id: "aws-iso-b",
        regions: &["us-isob-east-1", "us-isob-west-1"],
    },
    Partition {
        id: "aws-iso-e",
        regions: &["eu-isoe-west-1"],
    },
    Partition {
        id: "aws-iso-f",
        regions: &["us-isof-east-1", "us-isof-south-1"],
    },
];

/// Every known region name.
pub fn all() -> impl Iterator<Item = &'static str> {
    PARTITIONS.iter().flat_map(|p| p.regions.iter().copied())
}

/// The partition a region belongs to, if it is a known region.
pub fn partition_of(region: &str) -> Option<&'static str> {
    PARTITIONS
        .iter()
        .find(|p| p.regions.contains(&region))
        .map(|p| p.id)
}

/// Whether `region` is a known AWS region name.
pub fn is_known(region: &str) -> bool {
    partition_of(region).is_some()
}

/// The known region closest to a name that is not one (`us-esat-1` → `us-east-1`).
pub fn suggestion(region: &str) -> Option<String> {
    crate::text::closest(&region.to_ascii_lowercase(), all())
}

/// Checks a region name: the error is a sentence naming the region and, when there is one
/// close to it, the region it was probably meant to be.
pub fn check(region: &str) -> Result<(), String> {
    if is_known(region) {
        return Ok(());
    }
    Err(match suggestion(region) {
        Some(s) => format!("`{region}` is not an AWS region (did you mean `{s}`?)"),
        None => format!(
            "`{region}` is not an AWS region (such as `us-east-1`; `little` knows the regions of the aws, aws-cn, aws-us-gov, aws-eusc and aws-iso partitions)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_of_every_partition() {
        for r in [
            "us-east-1",
            "eu-central-2",
            "ap-southeast-7",
            "mx-central-1",
            "cn-northwest-1",
            "us-gov-west-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "eu-isoe-west-1",
            "us-isof-south-1",
            "eusc-de-east-1",
        ] {
            assert!(is_known(r), "{r}");
            assert!(check(r).is_ok(), "{r}");
        }
        assert_eq!(partition_of("cn-north-1"), Some("aws-cn"));
        assert_eq!(partition_of("us-gov-east-1"), Some("aws-us-gov"));
        assert_eq!(partition_of("eu-west-1"), Some("aws"));
    }

    #[test]
    fn names_of_the_right_shape_that_are_not_regions_are_refused() {
        for r in [
            "us-east-9",
            "eu-west-4",
            "aws-global",
            "US-EAST-1",
            "useast1",
            "",
        ] {
            assert!(!is_known(r), "{r}");
            assert!(check(r).is_err(), "{r}");
        }
    }

    #[test]
    fn a_misspelt_region_is_refused_with_the_one_meant() {
        assert_eq!(
            check("us-esat-1").unwrap_err(),
            "`us-esat-1` is not an AWS region (did you mean `us-east-1`?)"
        );
        assert_eq!(suggestion("eu-west-01").as_deref(), Some("eu-west-1"));
        assert_eq!(suggestion("US-EAST-1").as_deref(), Some("us-east-1"));
        let far = check("mars-north-1").unwrap_err();
        assert!(
            far.contains("is not an AWS region (such as `us-east-1`"),
            "{far}"
        );
    }

    #[test]
    fn every_name_is_listed_once_and_has_the_shape_of_a_region() {
        let mut names: Vec<&str> = all().collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        for r in names {
            let last = r.rsplit('-').next().unwrap_or_default();
            assert!(last.chars().all(|c| c.is_ascii_digit()), "{r}");
            assert!(r
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
    }
}
