//! What people read: tables for lists, `key  value` blocks for single objects.

use std::fmt::Write as _;

use comfy_table::{Cell, Color, Table, presets};
use orgcerts_client::types::{
    Certificate, CertificateDetails, OrganizationCertificate, OrganizationProjectCertificate,
    Project, ProjectStatus,
};
use time::OffsetDateTime;

/// Certificates expiring within this many days are marked `expiring soon`.
pub const SOON_DAYS: i64 = 30;
const DAY: i64 = 24 * 60 * 60;

/// The fields a certificate table shows, whichever list the certificate came from.
pub struct CertRow<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub active: bool,
    pub details: &'a CertificateDetails,
}

/// A certificate that can be shown as a table row.
pub trait AsCertRow {
    fn row(&self) -> CertRow<'_>;
}

impl AsCertRow for OrganizationCertificate {
    fn row(&self) -> CertRow<'_> {
        CertRow {
            id: &self.id,
            name: self.name.as_deref(),
            active: self.active,
            details: &self.certificate_details,
        }
    }
}

impl AsCertRow for OrganizationProjectCertificate {
    fn row(&self) -> CertRow<'_> {
        CertRow {
            id: &self.id,
            name: self.name.as_deref(),
            active: self.active,
            details: &self.certificate_details,
        }
    }
}

/// Where a certificate stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    NotYetValid,
    Valid { days_left: i64 },
    ExpiringSoon { days_left: i64 },
    Expired,
}

fn seconds(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

pub fn validity(details: &CertificateDetails, now: i64) -> Validity {
    let expires_at = seconds(details.expires_at);
    if expires_at <= now {
        return Validity::Expired;
    }
    if seconds(details.valid_at) > now {
        return Validity::NotYetValid;
    }
    let days_left = (expires_at - now) / DAY;
    if days_left < SOON_DAYS {
        Validity::ExpiringSoon { days_left }
    } else {
        Validity::Valid { days_left }
    }
}

/// `1 day` / `29 days`.
fn days(count: i64) -> String {
    if count == 1 {
        "1 day".to_owned()
    } else {
        format!("{count} days")
    }
}

/// The DAYS LEFT cell's text, and the colour of a marked row.
fn days_left(validity: Validity) -> (String, Option<Color>) {
    match validity {
        Validity::Expired => ("expired".to_owned(), Some(Color::Red)),
        Validity::ExpiringSoon { days_left } => {
            (format!("{days_left}, expiring soon"), Some(Color::Yellow))
        }
        Validity::NotYetValid => ("not yet valid".to_owned(), Some(Color::Yellow)),
        Validity::Valid { days_left } => (days_left.to_string(), None),
    }
}

/// Where a certificate stands, in words: `29 days left, expiring soon`, and its colour.
fn standing(validity: Validity) -> (String, Option<anstyle::AnsiColor>) {
    use anstyle::AnsiColor;
    match validity {
        Validity::Expired => ("expired".to_owned(), Some(AnsiColor::Red)),
        Validity::ExpiringSoon { days_left } => (
            format!("{} left, expiring soon", days(days_left)),
            Some(AnsiColor::Yellow),
        ),
        Validity::NotYetValid => ("not yet valid".to_owned(), Some(AnsiColor::Yellow)),
        Validity::Valid { days_left } => (format!("{} left", days(days_left)), None),
    }
}

fn utc(secs: u64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds(secs)).ok()
}

/// `2026-11-29` (UTC).
pub fn date(secs: u64) -> String {
    utc(secs).map_or_else(
        || secs.to_string(),
        |at| {
            format!(
                "{:04}-{:02}-{:02}",
                at.year(),
                u8::from(at.month()),
                at.day()
            )
        },
    )
}

/// `2026-11-29 15:03 UTC`.
pub fn date_time(secs: u64) -> String {
    utc(secs).map_or_else(
        || secs.to_string(),
        |at| format!("{} {:02}:{:02} UTC", date(secs), at.hour(), at.minute()),
    )
}

/// A borderless table with these column headers.
pub fn table(header: &[&str], color: bool) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_header(header.to_vec());
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    table
}

/// The table as text, without trailing blanks.
pub fn finish(table: &Table) -> String {
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The certificate table: ID, NAME, ACTIVE, VALID FROM, EXPIRES, DAYS LEFT; expired rows are
/// marked `expired` (red), rows expiring within [`SOON_DAYS`] `N, expiring soon` (yellow).
pub fn certificates(rows: &[CertRow<'_>], now: i64, color: bool) -> String {
    if rows.is_empty() {
        return "No certificates.".to_owned();
    }
    let mut table = table(
        &["ID", "NAME", "ACTIVE", "VALID FROM", "EXPIRES", "DAYS LEFT"],
        color,
    );
    for row in rows {
        let (left, mark) = days_left(validity(row.details, now));
        let cells = [
            row.id.to_owned(),
            row.name.unwrap_or("-").to_owned(),
            if row.active { "yes" } else { "no" }.to_owned(),
            date(row.details.valid_at),
            date(row.details.expires_at),
            left,
        ];
        table.add_row(cells.into_iter().map(|text| match mark {
            Some(colour) => Cell::new(text).fg(colour),
            None => Cell::new(text),
        }));
    }
    finish(&table)
}

/// One certificate as `key  value` lines; with `color`, its standing is coloured when expired
/// or expiring soon.
pub fn certificate(certificate: &Certificate, now: i64, color: bool) -> String {
    let details = &certificate.certificate_details;
    let left = match standing(validity(details, now)) {
        (text, Some(colour)) if color => {
            let style = anstyle::Style::new().fg_color(Some(colour.into()));
            format!("{style}{text}{style:#}")
        }
        (text, _) => text,
    };
    let mut out = String::new();
    let _ = writeln!(out, "id          {}", certificate.id);
    let _ = writeln!(
        out,
        "name        {}",
        certificate.name.as_deref().unwrap_or("-")
    );
    let _ = writeln!(out, "uploaded    {}", date_time(certificate.created_at));
    let _ = writeln!(out, "valid from  {}", date_time(details.valid_at));
    let _ = write!(
        out,
        "expires     {} ({left})",
        date_time(details.expires_at)
    );
    out
}

fn status(project: &Project) -> &'static str {
    match project.status {
        Some(ProjectStatus::Active) => "active",
        Some(ProjectStatus::Archived) => "archived",
        None => "-",
    }
}

/// The project table: ID, NAME, STATUS, CREATED, ARCHIVED.
pub fn projects(projects: &[Project], color: bool) -> String {
    if projects.is_empty() {
        return "No projects.".to_owned();
    }
    let mut table = table(&["ID", "NAME", "STATUS", "CREATED", "ARCHIVED"], color);
    for project in projects {
        table.add_row([
            project.id.clone(),
            project.name.clone().unwrap_or_else(|| "-".to_owned()),
            status(project).to_owned(),
            date(project.created_at),
            project.archived_at.map_or_else(|| "-".to_owned(), date),
        ]);
    }
    finish(&table)
}

/// One project as `key  value` lines.
pub fn project(project: &Project) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "id        {}", project.id);
    let _ = writeln!(out, "name      {}", project.name.as_deref().unwrap_or("-"));
    let _ = writeln!(out, "status    {}", status(project));
    let _ = write!(out, "created   {}", date_time(project.created_at));
    if let Some(archived_at) = project.archived_at {
        let _ = write!(out, "\narchived  {}", date_time(archived_at));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use orgcerts_client::types::CertificateObject;

    const NOW: i64 = 1_800_000_000;

    fn details(valid_at: i64, expires_at: i64) -> CertificateDetails {
        let secs = |at: i64| u64::try_from(at).unwrap();
        CertificateDetails {
            valid_at: secs(valid_at),
            expires_at: secs(expires_at),
            content: None,
        }
    }

    #[test]
    fn validity_marks_expired_soon_and_not_yet_valid() {
        assert_eq!(validity(&details(0, NOW), NOW), Validity::Expired);
        assert_eq!(validity(&details(0, NOW - 1), NOW), Validity::Expired);
        assert_eq!(
            validity(&details(NOW + 10, NOW + 400 * DAY), NOW),
            Validity::NotYetValid
        );
        assert_eq!(
            validity(&details(0, NOW + 29 * DAY + 5), NOW),
            Validity::ExpiringSoon { days_left: 29 }
        );
        assert_eq!(
            validity(&details(0, NOW + 30 * DAY), NOW),
            Validity::Valid { days_left: 30 }
        );
    }

    #[test]
    fn the_table_marks_each_row_in_plain_text() {
        let (expired, soon, fine) = (
            details(0, NOW - DAY),
            details(0, NOW + 3 * DAY),
            details(0, NOW + 90 * DAY),
        );
        let rows = [
            CertRow {
                id: "cert_old",
                name: None,
                active: false,
                details: &expired,
            },
            CertRow {
                id: "cert_soon",
                name: Some("soon one"),
                active: true,
                details: &soon,
            },
            CertRow {
                id: "cert_fine",
                name: Some("fine"),
                active: false,
                details: &fine,
            },
        ];
        let text = certificates(&rows, NOW, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[0].starts_with("ID") && lines[0].ends_with("DAYS LEFT"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("cert_old")
                && lines[1].contains(" - ")
                && lines[1].ends_with("expired")
        );
        assert!(
            lines[2].contains("soon one")
                && lines[2].contains("yes")
                && lines[2].ends_with("3, expiring soon")
        );
        assert!(lines[3].ends_with("90") && lines[3].contains("no"));
        assert!(!text.contains('\u{1b}'), "no escape codes without colour");
        assert!(certificates(&rows, NOW, true).contains('\u{1b}'));
    }

    #[test]
    fn details_say_the_standing_in_words() {
        let cert = |valid_at: i64, expires_at: i64| Certificate {
            object: CertificateObject::default(),
            id: "cert_x".to_owned(),
            name: None,
            created_at: 0,
            certificate_details: details(valid_at, expires_at),
            attribute_filter: None,
        };
        let text = |c: &Certificate| certificate(c, NOW, false);
        let soon = cert(0, NOW + 29 * DAY + 5);
        assert!(
            text(&soon).ends_with("(29 days left, expiring soon)"),
            "{}",
            text(&soon)
        );
        assert!(text(&cert(0, NOW + DAY + 5)).ends_with("(1 day left, expiring soon)"));
        assert!(text(&cert(0, NOW + 90 * DAY)).ends_with("(90 days left)"));
        assert!(text(&cert(0, NOW - 1)).ends_with("(expired)"));
        assert!(!text(&soon).contains('\u{1b}'));
        assert!(certificate(&soon, NOW, true).contains("\u{1b}[33m29 days left, expiring soon"));
    }

    #[test]
    fn dates_are_utc_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_800_000_000), "2027-01-15");
        assert_eq!(date_time(1_800_000_000), "2027-01-15 08:00 UTC");
    }
}
