//! One row of an event → action table, cut into its columns and checked, and where the row
//! came from.
//!
//! The shipped table (`corpus/replay/actions.tsv.gz`) and the files a user gives with
//! `fastiam replay --action-map FILE` have the same six tab-separated columns, so one reader
//! serves both: a user fixes or adds a mapping by copying a row and editing it. A bad row is
//! refused with its column, so that the error can name `file:line`, the column and what was
//! expected, rather than mapping records silently wrong. Where a row came from
//! ([`Origin`]) is kept with it, so that `--explain-mapping` can say which table decided
//! each record.
//!
//! ```
//! use fastiam::replay::action_rows::{parse_row, RowAction};
//! let row = parse_row("s3.amazonaws.com\tPutBucketPolicy\ts3:PutBucketPolicy\tbucket\tBucketName=Bucket\tmine").unwrap();
//! assert_eq!(row.action, RowAction::Action("s3:PutBucketPolicy"));
//! assert_eq!(row.hints().collect::<Vec<_>>(), [("BucketName", "Bucket")]);
//! let err = parse_row("s3.amazonaws.com\tPutBucketPolicy\tPutBucketPolicy\t\t\t").unwrap_err();
//! assert_eq!(err.column, 3);
//! ```

use std::sync::Arc;

use smallvec::SmallVec;

/// The columns, in order.
pub const COLUMNS: [&str; 6] = [
    "event_source",
    "event_name",
    "action",
    "resource_types",
    "param_hints",
    "note",
];

/// Which table decided an event's mapping.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A generated row of the shipped table (from the SDK map or the service reference).
    Shipped,
    /// A hand-written row of `corpus/replay/exceptions.tsv`, shipped in the table.
    Exception,
    /// A row of a user's `--action-map` file.
    User { file: Arc<str>, line: usize },
}

impl Origin {
    /// The origin of a shipped row, told by its note (`exception: …` for a hand-written one).
    pub fn of_shipped(note: &str) -> Origin {
        if note.starts_with("exception") {
            Origin::Exception
        } else {
            Origin::Shipped
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Shipped => f.write_str("shipped table"),
            Origin::Exception => f.write_str("exception row"),
            Origin::User { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

/// What a row says the event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowAction<'t> {
    /// An IAM action, `prefix:Name`.
    Action(&'t str),
    /// `-`: not an authorised API call (the note says why).
    NotAnAction,
    /// `?`: a known event with no action under its service's prefix (the note says why).
    Unknown,
}

/// A row cut into its columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row<'t> {
    pub source: &'t str,
    pub event: &'t str,
    pub action: RowAction<'t>,
    /// Resource type names, comma-separated.
    pub types: &'t str,
    /// `Var=Param` pairs, semicolon-separated.
    pub hints: &'t str,
    pub note: &'t str,
}

impl<'t> Row<'t> {
    /// The resource type names.
    pub fn types(&self) -> impl Iterator<Item = &'t str> {
        self.types.split(',').filter(|t| !t.is_empty())
    }

    /// The ARN variable → request parameter pairs.
    pub fn hints(&self) -> impl Iterator<Item = (&'t str, &'t str)> {
        self.hints.split(';').filter_map(|h| h.split_once('='))
    }
}

/// Why a row was refused: the column (1-based, 0 for the row as a whole) and what was
/// expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match COLUMNS.get(self.column.wrapping_sub(1)) {
            Some(name) => write!(f, "column {} `{name}`: {}", self.column, self.message),
            None => f.write_str(&self.message),
        }
    }
}

fn refuse(column: usize, message: String) -> RowError {
    RowError { column, message }
}

/// Cuts a row (a line without its newline) into its columns, checking only their number.
/// For the shipped table, which the tests read with [`parse_row`]: checking its 22,000 rows
/// again at every start cost half as much as reading them (62 M instructions, callgrind).
pub fn cut_row(line: &str) -> Result<Row<'_>, RowError> {
    let f: SmallVec<[&str; 8]> = line.split('\t').collect();
    let (&[source, event, action, types, hints] | &[source, event, action, types, hints, _]) =
        &f[..]
    else {
        return Err(refuse(
            0,
            format!(
                "expected 6 tab-separated columns ({}), found {}",
                COLUMNS.join(", "),
                f.len()
            ),
        ));
    };
    let action = match action {
        "-" => RowAction::NotAnAction,
        "?" => RowAction::Unknown,
        a => RowAction::Action(a),
    };
    Ok(Row {
        source,
        event,
        action,
        types,
        hints,
        note: f.get(5).copied().unwrap_or(""),
    })
}

/// Cuts a row into its columns ([`cut_row`]) and checks each. The note may be left out
/// (five columns).
pub fn parse_row(line: &str) -> Result<Row<'_>, RowError> {
    let row = cut_row(line)?;
    let Row {
        source,
        event,
        action,
        types,
        hints,
        note,
    } = row;
    for (i, (value, what)) in [
        (source, "an event source such as `s3.amazonaws.com`"),
        (event, "an event name such as `PutBucketPolicy`"),
    ]
    .into_iter()
    .enumerate()
    {
        if value.is_empty() || value.contains(char::is_whitespace) {
            return Err(refuse(i + 1, format!("expected {what}, found `{value}`")));
        }
    }
    if let RowAction::Action(a) = action {
        if !is_action(a) {
            return Err(refuse(
                3,
                format!("expected an IAM action `prefix:Name`, `-` (not an action) or `?` (unknown), found `{a}`"),
            ));
        }
    }
    let no_action = !matches!(action, RowAction::Action(_));
    if no_action && (!types.is_empty() || !hints.is_empty()) {
        let column = if types.is_empty() { 5 } else { 4 };
        return Err(refuse(
            column,
            "expected nothing: a row with no action has no resource types or hints".into(),
        ));
    }
    if let Some(t) = types
        .split(',')
        .find(|t| t.is_empty() || t.trim() != *t)
        .filter(|_| !types.is_empty())
    {
        return Err(refuse(
            4,
            format!("expected comma-separated resource type names, found `{t}` in `{types}`"),
        ));
    }
    if let Some(h) = hints.split(';').filter(|h| !h.is_empty()).find(|h| {
        h.split_once('=')
            .is_none_or(|(v, p)| v.is_empty() || p.is_empty())
    }) {
        return Err(refuse(
            5,
            format!("expected `Variable=parameter` pairs separated by `;`, found `{h}`"),
        ));
    }
    Ok(Row {
        source,
        event,
        action,
        types,
        hints,
        note,
    })
}

/// `prefix:Name`: a service prefix (lowercase letters, digits, `-`) and a name of letters
/// and digits; no wildcard.
fn is_action(a: &str) -> bool {
    a.split_once(':').is_some_and(|(prefix, name)| {
        !prefix.is_empty()
            && !name.is_empty()
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read() {
        let row = parse_row("kms.amazonaws.com\tDecrypt\tkms:Decrypt\tkey\t\tsdk-map").unwrap();
        assert_eq!(row.action, RowAction::Action("kms:Decrypt"));
        assert_eq!(row.types().collect::<Vec<_>>(), ["key"]);
        assert_eq!(row.hints().count(), 0);
        let row = parse_row("signin.amazonaws.com\tConsoleLogin\t-\t\t").unwrap();
        assert_eq!((row.action, row.note), (RowAction::NotAnAction, ""));
        let row = parse_row("s3.amazonaws.com\tGetBucket\t?\t\t\twhy").unwrap();
        assert_eq!(row.action, RowAction::Unknown);
    }

    /// Each bad row, and the column its error names.
    #[test]
    fn bad_rows_name_their_column() {
        let cases: &[(&str, usize, &str)] = &[
            ("a\tb\tc", 0, "expected 6 tab-separated columns"),
            ("a\tb\ts3:X\t\t\tn\textra", 0, "found 7"),
            ("\tE\ts3:X\t\t\t", 1, "expected an event source"),
            (
                "s3.amazonaws.com\tPut Bucket\ts3:X\t\t\t",
                2,
                "`Put Bucket`",
            ),
            (
                "s3.amazonaws.com\tE\tPutBucketPolicy\t\t\t",
                3,
                "`prefix:Name`",
            ),
            ("s3.amazonaws.com\tE\ts3:Put*\t\t\t", 3, "`s3:Put*`"),
            ("s3.amazonaws.com\tE\t-\tbucket\t\t", 4, "expected nothing"),
            ("s3.amazonaws.com\tE\t?\t\tA=b\t", 5, "expected nothing"),
            (
                "s3.amazonaws.com\tE\ts3:X\tbucket,,object\t\t",
                4,
                "`bucket,,object`",
            ),
            (
                "s3.amazonaws.com\tE\ts3:X\tbucket, object\t\t",
                4,
                "` object`",
            ),
            (
                "s3.amazonaws.com\tE\ts3:X\tbucket\tBucketName\t",
                5,
                "`BucketName`",
            ),
            ("s3.amazonaws.com\tE\ts3:X\tbucket\tA=b;=c\t", 5, "`=c`"),
        ];
        for (line, column, needle) in cases {
            let err = parse_row(line).unwrap_err();
            assert_eq!(err.column, *column, "{line:?}: {err}");
            assert!(err.to_string().contains(needle), "{line:?}: {err}");
            if *column > 0 {
                let name = COLUMNS[column - 1];
                assert!(err.to_string().contains(name), "{line:?}: {err}");
            }
        }
    }

    #[test]
    fn origins_read_as_their_table() {
        assert_eq!(Origin::of_shipped("exception: why"), Origin::Exception);
        assert_eq!(Origin::of_shipped("sdk-map"), Origin::Shipped);
        let user = Origin::User {
            file: "mine.tsv".into(),
            line: 3,
        };
        assert_eq!(user.to_string(), "mine.tsv:3");
        assert_eq!(Origin::Exception.to_string(), "exception row");
    }
}
