//! `--since` / `--until`: a moment as a person types it.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// What `--since` and `--until` accept, for their help.
pub const MOMENT_HELP: &str = "a duration back from now (30s, 15m, 12h, 7d, 2w), a UTC date \
    (2026-11-01), a date and time (2026-11-01T09:30:00Z, RFC 3339) or Unix seconds";

/// A moment in Unix seconds, as parsed from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment(pub u64);

/// Parses `text` (see [`MOMENT_HELP`]) against the current time.
pub fn parse_moment(text: &str) -> Result<Moment, String> {
    parse_at(text, OffsetDateTime::now_utc())
}

fn parse_at(text: &str, now: OffsetDateTime) -> Result<Moment, String> {
    let text = text.trim();
    let invalid = || format!("'{text}' is not a moment: expected {MOMENT_HELP}");
    let at = if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Moment(seconds));
    } else if let Some(ago) = duration(text) {
        now.checked_sub(ago).ok_or_else(invalid)?
    } else if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        at
    } else if let Ok(date) = Date::parse(text, format_description!("[year]-[month]-[day]")) {
        date.midnight().assume_utc()
    } else if let Ok(at) = PrimitiveDateTime::parse(
        text,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    ) {
        at.assume_utc()
    } else {
        return Err(invalid());
    };
    u64::try_from(at.unix_timestamp())
        .map(Moment)
        .map_err(|_| format!("'{text}' is before 1970"))
}

/// `7d` and the like: a whole number and one unit of s, m, h, d or w.
fn duration(text: &str) -> Option<time::Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().ok()?;
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    number.checked_mul(seconds_per).map(time::Duration::seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn at(text: &str) -> Result<u64, String> {
        let now = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
        parse_at(text, now).map(|moment| moment.0)
    }

    #[test]
    fn durations_count_back_from_now() {
        let now = u64::try_from(NOW).unwrap();
        assert_eq!(at("30s"), Ok(now - 30));
        assert_eq!(at("15m"), Ok(now - 900));
        assert_eq!(at("12h"), Ok(now - 43_200));
        assert_eq!(at("7d"), Ok(now - 7 * 86_400));
        assert_eq!(at("2w"), Ok(now - 14 * 86_400));
    }

    #[test]
    fn dates_times_and_seconds() {
        assert_eq!(at("2027-01-15"), Ok(1_800_000_000 - 8 * 3600));
        assert_eq!(at("2027-01-15T08:00:00Z"), Ok(1_800_000_000));
        assert_eq!(at("2027-01-15T09:00:00+01:00"), Ok(1_800_000_000));
        assert_eq!(at("2027-01-15T08:00:00"), Ok(1_800_000_000));
        assert_eq!(at("1700000000"), Ok(1_700_000_000));
    }

    #[test]
    fn anything_else_is_refused_with_the_forms() {
        for text in [
            "",
            "7y",
            "d",
            "-7d",
            "2027-13-01",
            "yesterday",
            "99999999999999999999d",
        ] {
            let error = at(text).unwrap_err();
            assert!(
                error.contains("a duration back from now") || error.contains("1970"),
                "{text}: {error}"
            );
        }
    }
}
