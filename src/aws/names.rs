//! The syntax of AWS's names and ids, without asking AWS: regions, account ids, stack names,
//! role names and ARNs, organisational unit ids. Which of them exist is AWS's to say; these
//! only catch what cannot be one, so that a typo fails at load with its line.

/// A region AWS has (`us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`): see
/// [`crate::region`] for the list.
pub fn is_region(s: &str) -> bool {
    crate::region::is_known(s)
}

/// A 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A CloudFormation stack name: a letter, then letters, digits and hyphens, at most 128.
pub fn is_stack_name(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

pub fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[5].starts_with("role/")
}

/// An OU id (`ou-abcd-12345678`) or a root id (`r-abcd`).
pub fn is_unit_id(s: &str) -> bool {
    let ok = |p: &str, min: usize| {
        p.len() >= min
            && p.len() <= 32
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    if let Some(rest) = s.strip_prefix("ou-") {
        let mut parts = rest.splitn(2, '-');
        let (a, b) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        ok(a, 4) && ok(b, 8)
    } else if let Some(rest) = s.strip_prefix("r-") {
        ok(rest, 4)
    } else {
        false
    }
}

/// An IAM role name (not an ARN): 1 to 64 of letters, digits and `+=,.@_-`.
pub fn is_role_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_regions() {
        assert!(is_stack_name("ecr-repositories"));
        assert!(!is_stack_name("1abc"));
        assert!(!is_stack_name("a_b"));
        assert!(is_region("us-east-1"));
        assert!(is_region("us-gov-west-1"));
        assert!(!is_region("us-esat-1"));
        assert!(!is_region("useast1"));
        assert!(!is_region("US-EAST-1"));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/x"));
        assert!(!is_role_arn("arn:aws:iam::123:role/x"));
    }
}
