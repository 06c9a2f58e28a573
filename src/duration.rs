//! Durations as messages show them ([`human`]: `40ms`, `45s`, `10m`, `2m 30s`, `1h`,
//! `1h 30m`, one form for every timeout and wait the tool reports), and as little.yaml and the
//! flags write them ([`parse`]: `90s`, `30m`, `1h30m`, `2d`).

use std::time::Duration;

/// `d` in the largest whole units, at most two of them; under a second, in milliseconds.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 && !d.is_zero() {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// `30m`, `1h`, `90s`, `1h30m`, `2d`: a duration of whole units.
pub fn parse(text: &str) -> std::result::Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration; use forms such as 90s, 30m, 1h, 1h30m");
    let mut total = 0u64;
    let mut digits = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        total = total
            .checked_add(n.checked_mul(unit).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        any = true;
    }
    if !digits.is_empty() || !any {
        return Err(bad());
    }
    if total == 0 {
        return Err(format!("`{text}`: the interval must be longer than zero"));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_units_first() {
        assert_eq!(human(Duration::from_secs(600)), "10m");
        assert_eq!(human(Duration::from_secs(150)), "2m 30s");
        assert_eq!(human(Duration::from_secs(90)), "1m 30s");
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(300)), "5m");
        assert_eq!(human(Duration::from_secs(3600)), "1h");
        assert_eq!(human(Duration::from_secs(5400)), "1h 30m");
        assert_eq!(human(Duration::ZERO), "0s");
        assert_eq!(human(Duration::from_millis(40)), "40ms");
        assert_eq!(human(Duration::from_millis(20)), "20ms");
    }

    #[test]
    fn durations_parse_and_bad_ones_are_named() {
        assert_eq!(parse("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse("30").unwrap_err().contains("not a duration"));
        assert!(parse("3x").is_err());
        assert!(parse("").is_err());
        assert!(parse("0s").unwrap_err().contains("longer than zero"));
    }
}
