//! When a stored attachment stops existing, and how long a URL to it may live.
//!
//! Keys carry the UTC day an object was stored (`{area}/{tenant}/{yyyy-mm-dd}/…`, README "Retention"),
//! not the time. So retention works in whole days: a day's objects may be deleted once the
//! last possible object of that day (stored just before midnight) has lived the tenant's
//! retention. Every object then lives at least its retention and less than one day more.
//! A retention of 0 days keeps nothing: every object goes at the next run, today's included
//! (the tenant chose it).
//!
//! The retention function deletes by this rule, and anything that hands out a URL to an object
//! caps the URL's life by the same rule ([`capped_expiry`]), so a URL never outlives its object.

use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

/// The day segment of a key: exactly `yyyy-mm-dd`, a real calendar date. Strict, so that the
/// lexicographic order of day prefixes is their chronological order.
pub fn parse_day(segment: &str) -> Option<NaiveDate> {
    let bytes = segment.as_bytes();
    let shape = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(segment, "%Y-%m-%d").ok()
}

/// The day of a media key `{area}/{tenant}/{yyyy-mm-dd}/…`; `None` for any other shape.
pub fn key_day(key: &str) -> Option<NaiveDate> {
    let mut segments = key.splitn(4, '/');
    let (_area, _tenant, day, rest) = (
        segments.next()?,
        segments.next()?,
        segments.next()?,
        segments.next()?,
    );
    if rest.is_empty() {
        return None;
    }
    parse_day(day)
}

/// The first instant at which objects stored on `day` may be deleted with a retention of
/// `retention_days`: the start of the day after `day`, plus the retention. `None` when that lies
/// beyond the calendar (such objects are kept).
pub fn deletable_from(day: NaiveDate, retention_days: u32) -> Option<DateTime<Utc>> {
    if retention_days == 0 {
        // Keep nothing: deletable from the day's first instant.
        return Some(day.and_time(NaiveTime::MIN).and_utc());
    }
    day.checked_add_days(Days::new(u64::from(retention_days) + 1))
        .map(|end| end.and_time(NaiveTime::MIN).and_utc())
}

/// Whether objects stored on `day` are past a retention of `retention_days` at `now`.
pub fn is_expired(day: NaiveDate, retention_days: u32, now: DateTime<Utc>) -> bool {
    deletable_from(day, retention_days).is_some_and(|from| now >= from)
}

/// How long a URL to an object stored on `day` may be valid when issued at `now`: what was
/// `requested`, but never past the moment the object may be deleted. `None` when the object is
/// already past its retention: issue no URL at all.
pub fn capped_expiry(
    day: NaiveDate,
    retention_days: u32,
    now: DateTime<Utc>,
    requested: Duration,
) -> Option<Duration> {
    let Some(from) = deletable_from(day, retention_days) else {
        return Some(requested);
    };
    let left = (from - now).to_std().ok().filter(|left| !left.is_zero())?;
    Some(requested.min(left))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn day(text: &str) -> NaiveDate {
        parse_day(text).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
    }

    #[test]
    fn only_strict_calendar_days_parse() {
        assert_eq!(
            parse_day("2026-02-28"),
            NaiveDate::from_ymd_opt(2026, 2, 28)
        );
        for bad in [
            "2026-2-28",
            "2026-02-29",
            "2026-13-01",
            "26-02-28",
            "2026/02/28",
            "+2026-02-2",
            "2026-02-28 ",
            "",
            "２０２６-02-28",
        ] {
            assert_eq!(parse_day(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_key_day_is_the_third_segment_of_a_full_key() {
        assert_eq!(
            key_day("outbound/acme/2026-03-01/01ABC/photo.jpg"),
            Some(day("2026-03-01"))
        );
        assert_eq!(key_day("inbound/acme/2026-03-01/"), None);
        assert_eq!(key_day("inbound/acme/2026-03-01"), None);
        assert_eq!(key_day("inbound/acme/latest/x"), None);
    }

    #[test]
    fn a_day_goes_once_its_last_object_has_lived_the_retention() {
        let stored = day("2026-03-01");
        assert_eq!(
            deletable_from(stored, 7),
            Some(at(2026, 3, 9, 0, 0, 0)),
            "an object stored at 23:59:59 on March 1st has lived 7 days at March 9th 00:00"
        );
        assert!(!is_expired(stored, 7, at(2026, 3, 8, 23, 59, 59)));
        assert!(is_expired(stored, 7, at(2026, 3, 9, 0, 0, 0)));
        // 0 days: nothing is kept, today's objects included.
        assert!(is_expired(stored, 0, at(2026, 3, 1, 0, 0, 0)));
        assert!(is_expired(stored, 0, at(2026, 3, 1, 23, 59, 59)));
    }

    #[test]
    fn a_url_is_capped_at_what_retention_leaves() {
        let stored = day("2026-03-01");
        let hour = Duration::from_secs(3600);
        // Plenty of retention left: the request stands.
        assert_eq!(
            capped_expiry(stored, 7, at(2026, 3, 2, 12, 0, 0), hour),
            Some(hour)
        );
        // Half an hour left.
        assert_eq!(
            capped_expiry(stored, 7, at(2026, 3, 8, 23, 30, 0), hour),
            Some(Duration::from_secs(1800))
        );
        // Past retention, or exactly at its end: no URL.
        assert_eq!(
            capped_expiry(stored, 7, at(2026, 3, 9, 0, 0, 0), hour),
            None
        );
        assert_eq!(
            capped_expiry(stored, 7, at(2027, 1, 1, 0, 0, 0), hour),
            None
        );
    }

    #[test]
    fn retention_beyond_the_calendar_never_expires() {
        let last = NaiveDate::MAX;
        assert_eq!(deletable_from(last, 1), None);
        assert!(!is_expired(last, u32::MAX, at(2026, 1, 1, 0, 0, 0)));
        let hour = Duration::from_secs(3600);
        assert_eq!(
            capped_expiry(last, 1, at(2026, 1, 1, 0, 0, 0), hour),
            Some(hour)
        );
    }

    fn any_day() -> impl Strategy<Value = NaiveDate> {
        // 1970-01-01 .. 2199-12-31
        (0u64..84_000).prop_map(|n| {
            NaiveDate::from_ymd_opt(1970, 1, 1)
                .unwrap()
                .checked_add_days(Days::new(n))
                .unwrap()
        })
    }

    fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
        (0i64..7_000_000_000).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
    }

    proptest! {
        #[test]
        fn formatting_and_parsing_a_day_round_trip(d in any_day()) {
            let text = d.format("%Y-%m-%d").to_string();
            prop_assert_eq!(parse_day(&text), Some(d));
        }

        #[test]
        fn day_prefixes_sort_like_their_days(a in any_day(), b in any_day()) {
            let (ta, tb) = (format!("x/t/{}/", a.format("%Y-%m-%d")), format!("x/t/{}/", b.format("%Y-%m-%d")));
            prop_assert_eq!(ta.cmp(&tb), a.cmp(&b));
        }

        #[test]
        fn expiry_is_the_day_comparison_with_today(d in any_day(), days in 0u32..2000, now in any_instant()) {
            // Expired exactly when the day lies more than `days` days before today; with 0 days,
            // as soon as the day has begun (nothing is kept).
            let today = now.date_naive();
            let expected = if days == 0 {
                d <= today
            } else {
                d.checked_add_days(Days::new(u64::from(days))).is_some_and(|end| end < today)
            };
            prop_assert_eq!(is_expired(d, days, now), expected);
        }

        #[test]
        fn every_object_of_an_expired_day_has_lived_its_retention(
            d in any_day(), days in 0u32..2000, now in any_instant(), second_of_day in 0u32..86_400
        ) {
            let stored = d.and_time(NaiveTime::from_num_seconds_from_midnight_opt(second_of_day, 0).unwrap()).and_utc();
            if is_expired(d, days, now) {
                prop_assert!(now - stored >= chrono::Duration::days(i64::from(days)));
            }
        }

        #[test]
        fn expiry_never_comes_back(d in any_day(), days in 0u32..2000, now in any_instant(), later in 0i64..1_000_000_000) {
            if is_expired(d, days, now) {
                prop_assert!(is_expired(d, days, now + chrono::Duration::seconds(later)));
                prop_assert!(is_expired(d, days.saturating_sub(1), now));
            }
        }

        #[test]
        fn a_capped_url_never_outlives_its_object(
            d in any_day(), days in 0u32..2000, now in any_instant(), requested in 1u64..10_000_000
        ) {
            let requested = Duration::from_secs(requested);
            match capped_expiry(d, days, now, requested) {
                None => prop_assert!(is_expired(d, days, now)),
                Some(valid) => {
                    prop_assert!(!is_expired(d, days, now));
                    prop_assert!(valid <= requested && !valid.is_zero());
                    let until = now + chrono::Duration::from_std(valid).unwrap();
                    prop_assert!(!is_expired(d, days, until - chrono::Duration::nanoseconds(1)));
                }
            }
        }
    }
}
