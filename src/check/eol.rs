//! The built-in end-of-life table of the `os` check: the common base images' releases and the
//! day their security updates stop. `check.checks.os.end_of_life` rows come first (and win
//! over a built-in row of the same id and version); `check.checks.os.default_table: false`
//! leaves this table out. It is data, not logic: the check is `checks::os_check`.
//!
//! Dates are the vendors' own: Debian's LTS end (its security archive carries LTS updates),
//! Ubuntu's end of standard support (ESM needs a subscription), Alpine's end of support for a
//! branch, Amazon Linux's, and the end of RHEL's (and so UBI's) maintenance support; CentOS and
//! Rocky follow RHEL.

use super::rules::EndOfLife;

/// (os-release ID, version or version prefix, end of life).
const TABLE: &[(&str, &str, &str)] = &[
    ("debian", "8", "2020-06-30"),
    ("debian", "9", "2022-06-30"),
    ("debian", "10", "2024-06-30"),
    ("debian", "11", "2026-08-31"),
    ("debian", "12", "2028-06-30"),
    ("debian", "13", "2030-06-30"),
    ("ubuntu", "14.04", "2019-04-30"),
    ("ubuntu", "16.04", "2021-04-30"),
    ("ubuntu", "18.04", "2023-05-31"),
    ("ubuntu", "20.04", "2025-05-31"),
    ("ubuntu", "22.04", "2027-06-01"),
    ("ubuntu", "24.04", "2029-05-31"),
    ("alpine", "3.10", "2021-05-01"),
    ("alpine", "3.11", "2021-11-01"),
    ("alpine", "3.12", "2022-05-01"),
    ("alpine", "3.13", "2022-11-01"),
    ("alpine", "3.14", "2023-05-01"),
    ("alpine", "3.15", "2023-11-01"),
    ("alpine", "3.16", "2024-05-23"),
    ("alpine", "3.17", "2024-11-22"),
    ("alpine", "3.18", "2025-05-09"),
    ("alpine", "3.19", "2025-11-01"),
    ("alpine", "3.20", "2026-04-01"),
    ("alpine", "3.21", "2026-11-01"),
    ("alpine", "3.22", "2027-05-01"),
    ("alpine", "3.23", "2027-11-01"),
    ("amzn", "2018.03", "2023-12-31"),
    ("amzn", "2", "2026-06-30"),
    ("amzn", "2023", "2029-06-30"),
    ("rhel", "7", "2024-06-30"),
    ("rhel", "8", "2029-05-31"),
    ("rhel", "9", "2032-05-31"),
    ("rhel", "10", "2035-05-31"),
    ("centos", "7", "2024-06-30"),
    ("centos", "8", "2021-12-31"),
    ("rocky", "8", "2029-05-31"),
    ("rocky", "9", "2032-05-31"),
];

/// The built-in rows.
pub fn default_table() -> Vec<EndOfLife> {
    TABLE
        .iter()
        .map(|(id, version, date)| EndOfLife {
            id: (*id).into(),
            version: (*version).into(),
            date: (*date).into(),
            warn_from: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::facts::day_number;

    #[test]
    fn every_built_in_row_has_a_date_and_no_row_is_there_twice() {
        let rows = default_table();
        for r in &rows {
            assert!(day_number(&r.date).is_some(), "{r:?}");
        }
        let keys: std::collections::BTreeSet<(String, String)> = rows
            .iter()
            .map(|r| (r.id.clone(), r.version.clone()))
            .collect();
        assert_eq!(keys.len(), rows.len());
        for id in ["debian", "ubuntu", "alpine", "amzn", "rhel"] {
            assert!(rows.iter().any(|r| r.id == id), "{id}");
        }
    }
}
