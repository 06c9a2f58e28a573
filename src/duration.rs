//! Durations as messages show them: `40ms`, `45s`, `10m`, `2m 30s`, `1h`, `1h 30m`. One
//! form for every timeout and wait the tool reports (little.yaml's own durations, `90s` or
//! `1h30m`, are parsed by `serve::parse_duration`).

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
}
