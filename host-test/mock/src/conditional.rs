//! Conditional request headers on sObject Rows, the weak-validation pair
//! (REST guide, "Conditional Request Headers"): `If-Modified-Since` on GET
//! answers 304 with no body when the record has not changed since;
//! `If-Unmodified-Since` answers 412 when it has, and the request is not
//! processed. An unreadable `If-Unmodified-Since` on PATCH is a 400. Dates
//! are `EEE, dd MMM yyyy HH:mm:ss z` ("Update Records Using sObject Rows").
//! ETags (`If-Match`, Account only) are not modelled.

use crate::data::datetime_string;
use crate::errors::{self, ApiError};
use axum::http::{HeaderMap, StatusCode};

/// What the headers ask for a record last modified at `last_modified`
/// (Salesforce's `2024-01-01T00:00:00.000+0000` form).
pub(crate) enum Precondition {
    Proceed,
    NotModified,
}

pub(crate) fn check(headers: &HeaderMap, last_modified: &str) -> Result<Precondition, ApiError> {
    if let Some(raw) = header(headers, "if-unmodified-since") {
        let since = parse_http_date(raw).ok_or_else(|| invalid(raw))?;
        if last_modified > datetime_string(since).as_str() {
            // The guide gives the status only; the body is our choice.
            return Err(errors::rest(
                StatusCode::PRECONDITION_FAILED,
                "PRECONDITION_FAILED",
                "The record was modified after the If-Unmodified-Since date",
            ));
        }
    }
    if let Some(raw) = header(headers, "if-modified-since") {
        // An unreadable date is ignored, as HTTP says (RFC 9110 §13.1.3).
        if let Some(since) = parse_http_date(raw) {
            if last_modified <= datetime_string(since).as_str() {
                return Ok(Precondition::NotModified);
            }
        }
    }
    Ok(Precondition::Proceed)
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn invalid(raw: &str) -> ApiError {
    // Status from the guide; error code and message are our choice.
    errors::rest(
        StatusCode::BAD_REQUEST,
        "INVALID_HEADER_VALUE",
        format!("Invalid If-Unmodified-Since header value: {raw}"),
    )
}

/// `Tue, 23 Mar 2015 00:00:00 GMT` (or an RFC 822 US zone such as `MST`) → Unix seconds.
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    let mut parts = s.split_whitespace();
    let _weekday = parts.next()?;
    let day: i64 = parts.next()?.parse().ok()?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as i64 + 1;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|x| x.parse::<i64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    let offset_hours = zone_offset(parts.next()?)?;
    if parts.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + h * 3600 + m * 60 + sec - offset_hours * 3600)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The zones RFC 822 §5.1 names; the guide's own example uses `MST`.
fn zone_offset(zone: &str) -> Option<i64> {
    Some(match zone {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        _ => return None,
    })
}

/// Howard Hinnant's days_from_civil: days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse_with_their_zone() {
        assert_eq!(
            parse_http_date("Tue, 23 Mar 2015 00:00:00 GMT"),
            Some(1_427_068_800)
        );
        assert_eq!(
            parse_http_date("Mon, 30 Nov 2020 08:34:54 MST"),
            parse_http_date("Mon, 30 Nov 2020 15:34:54 GMT")
        );
        assert_eq!(
            parse_http_date("Mon, 30 Nov 2020 08:34:54 PDT"),
            parse_http_date("Mon, 30 Nov 2020 15:34:54 GMT")
        );
        assert_eq!(parse_http_date("2020-11-30T08:34:54Z"), None);
        assert_eq!(parse_http_date("Mon, 30 Nov 2020 08:34:54 CET"), None);
    }
}
