//! Wall-clock time as the tool stamps and reads it: the current time in Unix seconds, Unix
//! seconds as an RFC 3339 UTC timestamp, and RFC 3339 timestamps (such as AWS returns them)
//! back to Unix seconds. Durations are in `duration`; the AWS SDK's own time types stay in
//! `aws/`.

/// Now, in whole seconds since the Unix epoch (0 for a clock set before 1970).
pub fn now() -> u64 {
    since_epoch().as_secs()
}

/// Now, in nanoseconds since the Unix epoch (0 for a clock set before 1970): for ids that
/// must differ between two calls in the same second.
pub fn now_nanos() -> u128 {
    since_epoch().as_nanos()
}

fn since_epoch() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// Unix seconds as an RFC 3339 UTC timestamp, such as `2026-03-02T10:15:30Z` (proleptic
/// Gregorian calendar, Howard Hinnant's `civil_from_days`).
pub fn rfc3339_utc(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (hour, minute, second) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Shift the epoch to 0000-03-01, so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// An RFC 3339 timestamp (`2026-03-02T10:15:30Z`, `2026-03-02T10:15:30.250Z`,
/// `2026-03-02T12:15:30+02:00`) as seconds since the Unix epoch, with its fraction; None for
/// anything else (a date out of range, a missing zone, trailing text).
pub fn parse_rfc3339(text: &str) -> Option<f64> {
    let (secs, nanos) = parse_rfc3339_parts(text)?;
    Some(secs as f64 + f64::from(nanos) / 1e9)
}

/// [`parse_rfc3339`] in whole seconds (the fraction dropped, toward the past).
pub fn parse_rfc3339_secs(text: &str) -> Option<i64> {
    parse_rfc3339_parts(text).map(|(secs, _)| secs)
}

/// Seconds since the epoch and nanoseconds within the second.
fn parse_rfc3339_parts(text: &str) -> Option<(i64, u32)> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let sep = |at: usize, ok: &[u8]| b.get(at).is_some_and(|c| ok.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0u32;
    if sep(at, b".") {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let digits = &text[start..at];
        if digits.is_empty() {
            return None;
        }
        let mut scaled = String::from(&digits[..digits.len().min(9)]);
        while scaled.len() < 9 {
            scaled.push('0');
        }
        nanos = scaled.parse().ok()?;
    }
    let offset = match b.get(at)? {
        b'Z' | b'z' if at + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if at + 6 == b.len() && sep(at + 3, b":") => {
            let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some((secs - offset, nanos))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (month + 9) % 12; // March first
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_utc_converts_unix_seconds() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(86_399), "1970-01-01T23:59:59Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(951_868_800), "2000-03-01T00:00:00Z");
        assert_eq!(rfc3339_utc(4_107_456_000), "2100-02-28T00:00:00Z");
        assert_eq!(rfc3339_utc(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_704_067_199), "2023-12-31T23:59:59Z");
        assert_eq!(rfc3339_utc(1_772_446_530), "2026-03-02T10:15:30Z");
    }

    #[test]
    fn rfc3339_parses_back_what_it_writes() {
        for secs in [0, 86_399, 951_782_400, 4_107_542_400, 1_772_446_530] {
            assert_eq!(
                parse_rfc3339_secs(&rfc3339_utc(secs)),
                Some(secs as i64),
                "{secs}"
            );
        }
    }

    #[test]
    fn rfc3339_fractions_and_offsets() {
        assert_eq!(
            parse_rfc3339("2026-03-02T10:15:30.250Z"),
            Some(1_772_446_530.25)
        );
        assert_eq!(
            parse_rfc3339_secs("2026-03-02T12:15:30+02:00"),
            Some(1_772_446_530)
        );
        assert_eq!(
            parse_rfc3339_secs("2026-03-02T08:15:30.5-02:00"),
            Some(1_772_446_530)
        );
        assert_eq!(parse_rfc3339_secs("1969-12-31T23:59:59Z"), Some(-1));
    }

    #[test]
    fn rfc3339_rejects_what_is_not_one() {
        for bad in [
            "",
            "2026-03-02",
            "2026-03-02T10:15:30",
            "2026-03-02 10:15:30Z",
            "2026-02-30T10:15:30Z",
            "2026-13-02T10:15:30Z",
            "2026-03-02T24:15:30Z",
            "2026-03-02T10:15:30.Z",
            "2026-03-02T10:15:30Zx",
            "2026-03-02T10:15:30+0200",
            "2026-03-02T10:15:30+02:60",
            "２026-03-02T10:15:30Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn now_is_after_the_code_was_written() {
        assert!(now() > 1_772_000_000);
        assert!(now_nanos() > 1_772_000_000 * 1_000_000_000);
    }
}
