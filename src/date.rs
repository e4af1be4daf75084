//! Calendar dates as policies write them (`YYYY-MM-DD`), for expiry and rotation.

use std::fmt;

/// A proleptic Gregorian date, stored as days since 1970-01-01 so that comparing and
/// subtracting are plain integer operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i64,
}

impl Date {
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date {
            days: days_from_civil(year, month, day),
        })
    }

    /// The date that a Unix timestamp falls on, in UTC.
    pub fn from_unix_seconds(seconds: i64) -> Date {
        Date {
            days: seconds.div_euclid(86_400),
        }
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> Date {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(0));
        Date::from_unix_seconds(seconds)
    }

    /// Days from `self` to `later`; negative when `later` is earlier.
    pub fn days_until(self, later: Date) -> i64 {
        later.days - self.days
    }

    fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.days)
    }
}

impl std::str::FromStr for Date {
    type Err = ();

    fn from_str(text: &str) -> Result<Date, ()> {
        if !written_as_date(text) {
            return Err(());
        }
        let year = text[0..4].parse().map_err(|_| ())?;
        let month = text[5..7].parse().map_err(|_| ())?;
        let day = text[8..10].parse().map_err(|_| ())?;
        Date::from_ymd(year, month, day).ok_or(())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Whether `text` has the shape `YYYY-MM-DD`, whether or not that day exists: so that
/// `2025-02-30` is reported as a day that does not exist, not as a badly written date.
pub fn written_as_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, byte)| i == 4 || i == 7 || byte.is_ascii_digit())
}

/// Why a date written as `YYYY-MM-DD` does not exist, for a help line.
pub fn why_not(text: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let year: i64 = text.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    let month: u32 = text.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
    match MONTHS.get((month as usize).wrapping_sub(1)) {
        Some(name) => format!("{name} {year} has {} days", days_in_month(year, month)),
        None => "months run from 01 to 12".to_owned(),
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's `days_from_civil` and `civil_from_days`: exact for every year.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in [
            "1970-01-01",
            "2000-02-29",
            "2023-11-23",
            "2026-12-31",
            "1999-03-01",
        ] {
            assert_eq!(text.parse::<Date>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn rejects_impossible_dates() {
        for text in [
            "2023-02-29",
            "2023-13-01",
            "2023-00-10",
            "2023-1-1",
            "soon",
            "2023-04-31",
        ] {
            assert!(text.parse::<Date>().is_err(), "{text}");
        }
    }

    #[test]
    fn counts_days() {
        let a: Date = "2023-11-14".parse().unwrap();
        let b: Date = "2023-11-24".parse().unwrap();
        assert_eq!(a.days_until(b), 10);
        assert_eq!(Date::from_unix_seconds(0).to_string(), "1970-01-01");
        assert_eq!(
            Date::from_unix_seconds(1_700_000_000).to_string(),
            "2023-11-14"
        );
    }
}
