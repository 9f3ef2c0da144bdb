//! The clock: a moment as git writes dates (seconds and a zone offset), the
//! real clock, and the fixed one `SERIES_NOW` gives (parsed here, read by the
//! command line).

use crate::text;

/// A moment: seconds since the epoch and the zone offset in minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment {
    pub secs: i64,
    pub offset_minutes: i32,
    /// Sub-second part, mixed into Message-Ids when the clock is real.
    pub nanos: u32,
}

/// Errors reading `SERIES_NOW`.
#[derive(Debug, thiserror::Error)]
#[error("SERIES_NOW={0:?} is not a date: use `SECONDS +HHMM` or `YYYY-MM-DDTHH:MM:SS+HH:MM`")]
pub struct BadNow(pub String);

/// The last second a date may name: 9999-12-31 23:59:59 UTC.
pub const LAST_SECOND: i64 = 253_402_300_799;

impl Moment {
    /// The real clock, in UTC. (`SERIES_NOW` is read once by the command
    /// line and passed down as a fixed moment instead.)
    pub fn now() -> Moment {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Moment {
            secs: d.as_secs() as i64,
            offset_minutes: 0,
            nanos: d.subsec_nanos(),
        }
    }

    /// Parse `1489568531 -0400` (git's raw form) or `2017-03-15T05:02:11-04:00`,
    /// between 1970 and the end of 9999, every field in its range.
    pub fn parse(s: &str) -> Option<Moment> {
        Moment::parse_any(s).filter(|m| (0..=LAST_SECOND).contains(&m.secs))
    }

    fn parse_any(s: &str) -> Option<Moment> {
        let s = s.trim();
        if let Some((secs, off)) = s.split_once(' ') {
            let secs = secs.trim_start_matches('@').parse().ok()?;
            return Some(Moment {
                secs,
                offset_minutes: parse_offset(off)?,
                nanos: 0,
            });
        }
        if let Ok(secs) = s.trim_start_matches('@').parse() {
            return Some(Moment {
                secs,
                offset_minutes: 0,
                nanos: 0,
            });
        }
        // YYYY-MM-DDTHH:MM:SS(Z|±HH:MM)
        let (date, rest) = s.split_once('T')?;
        let mut d = date.split('-').map(|x| x.parse::<i64>());
        let (y, mo, da) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
        let (time, off) = if let Some(t) = rest.strip_suffix('Z') {
            (t, 0)
        } else {
            let at = rest.rfind(['+', '-'])?;
            (&rest[..at], parse_offset(&rest[at..].replace(':', ""))?)
        };
        let mut t = time.split(':').map(|x| x.parse::<i64>());
        let (h, mi, se) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
        if t.next().is_some()
            || !(1..=9999).contains(&y)
            || !(1..=12).contains(&mo)
            || !(1..=days_in_month(y, mo)).contains(&da)
            || !(0..24).contains(&h)
            || !(0..60).contains(&mi)
            || !(0..=60).contains(&se)
        {
            return None;
        }
        let days = days_from_civil(y, mo, da);
        Some(Moment {
            secs: days * 86_400 + h * 3600 + mi * 60 + se - i64::from(off) * 60,
            offset_minutes: off,
            nanos: 0,
        })
    }

    pub fn rfc2822(&self) -> String {
        text::rfc2822_date(self.secs, self.offset_minutes)
    }
}

fn parse_offset(s: &str) -> Option<i32> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    if m >= 60 {
        return None;
    }
    Some(sign * (h * 60 + m))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl crate::error::Advice for BadNow {
    fn kind(&self) -> crate::error::Kind {
        crate::error::Kind::Usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments() {
        let a = Moment::parse("1489568531 -0400").unwrap();
        let b = Moment::parse("2017-03-15T05:02:11-04:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.rfc2822(), "Wed, 15 Mar 2017 05:02:11 -0400");
        assert!(Moment::parse("yesterday").is_none());
        // Out of range: refused, never wrapped or overflowed.
        assert!(Moment::parse("2017-13-15T05:02:11Z").is_none());
        assert!(Moment::parse("2017-02-30T05:02:11Z").is_none());
        assert!(Moment::parse("2017-03-15T25:02:11Z").is_none());
        assert!(Moment::parse("99999999999999999999 +0000").is_none());
        assert!(Moment::parse("9223372036854775807 +0000").is_none());
        assert!(Moment::parse("-5 +0000").is_none());
        assert!(Moment::parse("1489568531 +0077").is_none());
        assert!(Moment::parse("1489568531 +\u{e9}00").is_none());
    }
}
