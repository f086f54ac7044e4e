//! Which IAM action a CloudTrail event is, and which resource it acts on.
//!
//! CloudTrail names an event by the service's host (`eventSource`) and the API operation
//! (`eventName`); IAM authorises an *action*, which is usually `prefix:Operation` but not
//! always (S3 `ListObjects` is authorised as `s3:ListBucket`, `HeadObject` as
//! `s3:GetObject`, console sign-ins are no IAM action at all). The table that says so is data,
//! built by `tools/build_action_map.py` from the SDK→IAM map and the service authorization
//! reference plus hand-written exceptions, and shipped gzip-compressed in `corpus/replay/`
//! (compiled into the binary, so replay needs no file at run time). Every action of the table
//! is listed by the service authorization reference under the event source's own prefix
//! (`s3.amazonaws.com` → `s3:`), unless an exception row says why not; an event the SDK map
//! gives only actions of other services for has a `?` row whose note says so, and is
//! reported as an unknown action rather than mapped to another service's action. A user adds
//! or overrides rows with files of the same columns ([`ActionMap::add_rows`],
//! `fastiam replay --action-map FILE`); each entry keeps its [`Origin`].
//!
//! A resource is found, in order: an ARN of the record's `resources[]` that has the shape
//! of one of the action's resource types; else that type's ARN template filled from the
//! record (partition, region, account, and request parameters found by the variable's name
//! or the SDK parameter the table names for it, or for an EC2 instance in the call's
//! `instancesSet`); else `*` when the action has no resource type (IAM authorises such
//! actions on `*`). Otherwise the record cannot be mapped, and the reason names the missing
//! parameter.
//!
//! ```
//! use fastiam::replay::ActionMap;
//! let map = ActionMap::bundled();
//! let entry = map.lookup("s3.amazonaws.com", "ListObjects").unwrap();
//! assert_eq!(entry.action.as_deref(), Some("s3:ListBucket"));
//! // Lambda's CloudTrail names carry an API version suffix.
//! let entry = map.lookup("lambda.amazonaws.com", "GetFunction20150331v2").unwrap();
//! assert_eq!(entry.action.as_deref(), Some("lambda:GetFunction"));
//! ```

use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::primitives::wildcard_match;

use super::json::{self, JsonContainerTrait as _, JsonValueTrait as _};

pub use super::action_rows::Origin;
use super::action_rows::{cut_row, parse_row, Row, RowAction, RowError};

/// The bundled event table (`corpus/replay/actions.tsv.gz`).
const BUNDLED_ACTIONS: &[u8] = include_bytes!("../../corpus/replay/actions.tsv.gz");
/// The bundled ARN templates (`corpus/replay/resource-types.tsv.gz`).
const BUNDLED_TYPES: &[u8] = include_bytes!("../../corpus/replay/resource-types.tsv.gz");

/// What the table says about one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventEntry {
    /// The IAM action; `None` when the event is not an authorised API call, or has no
    /// known action (`unknown`).
    pub action: Option<String>,
    /// The table knows the event but names no action for it (a `?` row): the note says why.
    pub unknown: bool,
    /// The action's resource types (indexes into the map's templates), required ones first.
    resource_types: Vec<usize>,
    /// ARN variable → SDK parameter that fills it (`ObjectName` → `Key`).
    hints: Vec<(String, String)>,
    /// Where the row came from, or why the event is not an action.
    pub note: String,
    /// Which table the row is from.
    pub origin: Origin,
}

/// One resource type: its ARN template, cut into pieces once so that filling it per
/// record searches nothing, and the template as a glob (`${X}` → `*`).
#[derive(Clone, Debug)]
struct ResourceType {
    /// The service prefix and the type's name (`s3`, `bucket`).
    service: Box<str>,
    name: Box<str>,
    template: String,
    pieces: Vec<Piece>,
    shape: String,
}

/// A piece of an ARN template, as a range of the template's text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// Literal text.
    Text(Range<usize>),
    /// The name inside `${…}`.
    Var(Range<usize>),
    /// A `${` never closed, after the text before it: no record fills it, and the error
    /// names the template from that text on.
    Unclosed(Range<usize>),
}

/// Cuts a template into its pieces.
fn template_pieces(template: &str) -> Vec<Piece> {
    // `${` found by its `$` (a byte search): `str::find("${")` sets up a two-way searcher
    // per call, which cost more than the rest of reading the table.
    let open = |from: usize| {
        template[from..]
            .match_indices('$')
            .map(|(i, _)| from + i)
            .find(|&i| template[i + 1..].starts_with('{'))
    };
    let mut pieces = Vec::new();
    let mut at = 0;
    while let Some(start) = open(at) {
        if start > at {
            pieces.push(Piece::Text(at..start));
        }
        let Some(end) = template[start..].find('}').map(|i| start + i) else {
            pieces.push(Piece::Unclosed(at..template.len()));
            return pieces;
        };
        pieces.push(Piece::Var(start + 2..end));
        at = end + 1;
    }
    if at < template.len() {
        pieces.push(Piece::Text(at..template.len()));
    }
    pieces
}

/// The event → action table.
#[derive(Clone, Debug)]
pub struct ActionMap {
    /// Event source → event name → entry (nested, so a lookup borrows and allocates
    /// nothing; Fx-hashed, as the names are short and the table is ours, not an input).
    events: FxHashMap<String, FxHashMap<String, EventEntry>>,
    types: Vec<ResourceType>,
}

/// Why the table could not be read.
#[derive(Debug)]
pub struct ActionMapError(pub String);

impl std::fmt::Display for ActionMapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "action table: {}", self.0)
    }
}

impl std::error::Error for ActionMapError {}

fn gunzip(bytes: &[u8], name: &str) -> Result<String, ActionMapError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| ActionMapError(format!("{name}: {e}")))?;
    Ok(text)
}

impl ActionMap {
    /// The table compiled into the binary.
    pub fn bundled() -> ActionMap {
        // The bundled table is checked by the unit tests; failing to read it is a build defect.
        ActionMap::from_gz(BUNDLED_ACTIONS, BUNDLED_TYPES).expect("the bundled action table reads")
    }

    /// The bundled table, read once per process and shared: reading it (24 ms) was two thirds
    /// of a 698-record replay, and a program replaying batch after batch would pay it per call.
    pub fn shared() -> &'static ActionMap {
        static SHARED: std::sync::OnceLock<ActionMap> = std::sync::OnceLock::new();
        SHARED.get_or_init(ActionMap::bundled)
    }

    /// Reads the two gzip-compressed TSV tables (format in `tools/build_action_map.py`).
    pub fn from_gz(actions: &[u8], types: &[u8]) -> Result<ActionMap, ActionMapError> {
        let types_text = gunzip(types, "resource-types.tsv.gz")?;
        let mut type_index: FxHashMap<(&str, &str), usize> = FxHashMap::default();
        let mut resource_types = Vec::new();
        for (n, line) in data_lines(&types_text) {
            let f: SmallVec<[&str; 8]> = line.split('\t').collect();
            let [service, name, template] = f[..] else {
                return Err(ActionMapError(format!(
                    "resource-types.tsv line {n}: expected 3 columns, found {}",
                    f.len()
                )));
            };
            type_index.insert((service, name), resource_types.len());
            let pieces = template_pieces(template);
            resource_types.push(ResourceType {
                service: service.into(),
                name: name.into(),
                template: template.to_string(),
                shape: template_shape(template, &pieces),
                pieces,
            });
        }
        let actions_text = gunzip(actions, "actions.tsv.gz")?;
        let mut map = ActionMap {
            events: FxHashMap::default(),
            types: Vec::new(),
        };
        let type_of = |service: &str, name: &str| type_index.get(&(service, name)).copied();
        for (n, line) in data_lines(&actions_text) {
            let row =
                cut_row(line).map_err(|e| ActionMapError(format!("actions.tsv line {n}: {e}")))?;
            let origin = Origin::of_shipped(row.note);
            map.insert(&row, origin, type_of);
        }
        map.types = resource_types;
        Ok(map)
    }

    /// Adds the rows of a user's table (`fastiam replay --action-map FILE`): the columns of
    /// the shipped table, tab-separated, plain or gzip; `#` lines are comments. A row
    /// overrides the table's row for its event (and a later file's an earlier one's). Returns
    /// the number of rows read; an error names the file, the line, the column and what was
    /// expected, and leaves the map without any of the file's rows.
    pub fn add_rows(&mut self, path: &Path) -> Result<usize, ActionMapError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ActionMapError(format!("{name}: {e}")))?;
        let text = if bytes.starts_with(&[0x1f, 0x8b]) {
            gunzip(&bytes, &name)?
        } else {
            String::from_utf8(bytes).map_err(|e| {
                let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                ActionMapError(format!("{name}:{line}: not UTF-8 text"))
            })?
        };
        self.add_rows_from(&text, &name)
    }

    /// [`ActionMap::add_rows`] on a table's text; `name` names it in errors and origins.
    pub fn add_rows_from(&mut self, text: &str, name: &str) -> Result<usize, ActionMapError> {
        let file: Arc<str> = name.into();
        let at = |n: usize, e: &dyn std::fmt::Display| ActionMapError(format!("{name}:{n}: {e}"));
        // Checked in full before the map changes, so that an error leaves it as it was.
        let mut rows: Vec<(usize, Row<'_>)> = Vec::new();
        let mut first_line: FxHashMap<(&str, &str), usize> = FxHashMap::default();
        for (n, line) in data_lines(text) {
            // A file written on Windows: its line ends are `\r\n`, its blank lines `\r`.
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let row = parse_row(line).map_err(|e| at(n, &e))?;
            if let Some(first) = first_line.insert((row.source, row.event), n) {
                return Err(at(
                    n,
                    &format_args!(
                        "a second row for {} {} (the first is line {first})",
                        row.source, row.event
                    ),
                ));
            }
            self.check_types(&row).map_err(|e| at(n, &e))?;
            rows.push((n, row));
        }
        let count = rows.len();
        let types = std::mem::take(&mut self.types);
        let type_of = |service: &str, name: &str| {
            types
                .iter()
                .position(|t| &*t.service == service && &*t.name == name)
        };
        for (line, row) in rows {
            let origin = Origin::User {
                file: file.clone(),
                line,
            };
            self.insert(&row, origin, type_of);
        }
        self.types = types;
        Ok(count)
    }

    /// Refuses a row naming a resource type its action's service does not have.
    fn check_types(&self, row: &Row<'_>) -> Result<(), RowError> {
        let RowAction::Action(action) = row.action else {
            return Ok(());
        };
        let service = action.split_once(':').map_or("", |(s, _)| s);
        for t in row.types() {
            if !self
                .types
                .iter()
                .any(|rt| &*rt.service == service && &*rt.name == t)
            {
                let known: Vec<&str> = self
                    .types
                    .iter()
                    .filter(|rt| &*rt.service == service)
                    .map(|rt| &*rt.name)
                    .collect();
                return Err(RowError {
                    column: 4,
                    message: format!(
                        "`{t}` is not a resource type of `{service}` (expected one of: {})",
                        if known.is_empty() {
                            "none known".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                });
            }
        }
        Ok(())
    }

    /// Adds (or replaces) one row; `type_of` finds a resource type by service and name.
    fn insert(
        &mut self,
        row: &Row<'_>,
        origin: Origin,
        type_of: impl Fn(&str, &str) -> Option<usize>,
    ) {
        let (action, unknown) = match row.action {
            RowAction::Action(a) => (Some(a), false),
            RowAction::NotAnAction => (None, false),
            RowAction::Unknown => (None, true),
        };
        let service = action
            .and_then(|a| a.split_once(':'))
            .map_or("", |(s, _)| s);
        // A type with no ARN template (a few of the reference's) is not in the type table:
        // no resource can be built for it, so it is left out (a user's row was checked).
        let resource_types = row.types().filter_map(|t| type_of(service, t)).collect();
        let hints = row
            .hints()
            .map(|(v, p)| (v.to_string(), p.to_string()))
            .collect();
        // The file is sorted by source: its map is the last one made, mostly.
        let by_name = match self.events.get_mut(row.source) {
            Some(by_name) => by_name,
            None => self.events.entry(row.source.to_string()).or_default(),
        };
        by_name.insert(
            row.event.to_string(),
            EventEntry {
                action: action.map(str::to_string),
                unknown,
                resource_types,
                hints,
                note: row.note.to_string(),
                origin,
            },
        );
    }

    /// The number of events the table knows.
    pub fn len(&self) -> usize {
        self.events.values().map(FxHashMap::len).sum()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The entry of an event; Lambda's API-version suffixes (`…20150331`, `…20150331v2`)
    /// are dropped when the full name is unknown.
    pub fn lookup(&self, source: &str, event: &str) -> Option<&EventEntry> {
        let events = self.events.get(source)?;
        events
            .get(event)
            .or_else(|| events.get(strip_version_suffix(event)))
    }

    /// The resource of an event: see the module docs for the order.
    pub fn resource(&self, entry: &EventEntry, record: &RecordFacts<'_>) -> Result<String, String> {
        let mut out = String::new();
        self.resource_into(entry, record, &mut out)?;
        Ok(out)
    }

    /// [`ActionMap::resource`] written into `out` (cleared first), so that a caller mapping
    /// many records reuses one buffer; only the error path allocates.
    pub fn resource_into(
        &self,
        entry: &EventEntry,
        record: &RecordFacts<'_>,
        out: &mut String,
    ) -> Result<(), String> {
        out.clear();
        let types = || entry.resource_types.iter().map(|&i| &self.types[i]);
        let Some(first) = types().next() else {
            out.push('*');
            return Ok(());
        };
        for arn in record.resource_arns {
            if types().any(|t| wildcard_match(&t.shape, arn)) {
                out.push_str(arn);
                return Ok(());
            }
        }
        let mut first_missing = None;
        for t in types() {
            out.clear();
            match fill_template(t, entry, record, out) {
                Ok(()) => return Ok(()),
                Err(missing) => {
                    first_missing.get_or_insert(missing);
                }
            }
        }
        Err(format!(
            "no resource ARN: the record has no `resources[]` ARN of the action's type and no request parameter `{}` for `{}`",
            first_missing.unwrap_or_default(),
            first.template
        ))
    }
}

/// What [`ActionMap::resource`] reads from a record.
#[derive(Clone, Copy, Debug)]
pub struct RecordFacts<'r> {
    pub region: &'r str,
    pub account: &'r str,
    /// ARNs listed in the record's `resources[]`.
    pub resource_arns: &'r [&'r str],
    /// The record's `requestParameters` (an object, or null).
    pub parameters: &'r json::Value,
    /// The caller's IAM user name: IAM's user actions default to the caller when the
    /// request names no user (`iam:GetUser` with no parameters).
    pub caller_user: Option<&'r str>,
}

fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.starts_with('#') && !l.is_empty())
}

/// `GetFunction20150331v2` → `GetFunction`.
fn strip_version_suffix(event: &str) -> &str {
    let bytes = event.as_bytes();
    let mut end = bytes.len();
    // Optional `v<digits>`.
    let mut i = end;
    while i > 0 && bytes[i - 1].is_ascii_digit() {
        i -= 1;
    }
    if i < end && i > 0 && bytes[i - 1] == b'v' {
        end = i - 1;
    }
    let mut j = end;
    while j > 0 && bytes[j - 1].is_ascii_digit() {
        j -= 1;
    }
    if end - j == 8 && j > 0 {
        &event[..j]
    } else {
        event
    }
}

/// An ARN template as a glob over ARNs: every `${…}` becomes `*`.
fn template_shape(template: &str, pieces: &[Piece]) -> String {
    let mut out = String::with_capacity(template.len());
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(&template[text.clone()]),
            Piece::Var(_) | Piece::Unclosed(_) => out.push('*'),
        }
    }
    out
}

/// Fills an ARN template into `out`; `Err` names the first variable the record cannot
/// fill.
fn fill_template<'t>(
    t: &'t ResourceType,
    entry: &EventEntry,
    record: &RecordFacts<'_>,
    out: &mut String,
) -> Result<(), &'t str> {
    for piece in &t.pieces {
        let var = match piece {
            Piece::Text(text) => {
                out.push_str(&t.template[text.clone()]);
                continue;
            }
            Piece::Var(var) => &t.template[var.clone()],
            Piece::Unclosed(rest) => return Err(&t.template[rest.clone()]),
        };
        let value = match var {
            "Partition" => Some("aws"),
            "Region" => Some(record.region),
            "Account" => Some(record.account),
            _ => parameter_for(var, entry, record.parameters).or_else(|| {
                matches!(var, "UserName" | "UserNameWithPath")
                    .then_some(record.caller_user)
                    .flatten()
            }),
        };
        let Some(value) = value else {
            return Err(var);
        };
        // A parameter that is already an ARN (a KMS key id given as an ARN, a bucket given
        // as an access point ARN) is the resource itself.
        if value.starts_with("arn:") {
            out.clear();
            out.push_str(value);
            return Ok(());
        }
        out.push_str(value);
    }
    Ok(())
}

/// The request parameter for an ARN variable: by the variable's name, by the SDK parameter
/// the table names, or by the S3 spelling (`bucketName`); case-insensitive. Only a string
/// parameter fills a variable.
fn parameter_for<'p>(var: &str, entry: &EventEntry, params: &'p json::Value) -> Option<&'p str> {
    let obj = params.as_object()?;
    // The first key (in serde_json's sorted order, [`json::least_key`]) equal to a name
    // (ignoring case), if its value is a non-empty string.
    let by = |equal: &dyn Fn(&str) -> bool| {
        json::least_key(obj, equal)
            .and_then(json::as_str)
            .filter(|v| !v.is_empty())
    };
    let named = |name: &str| by(&|k: &str| k.eq_ignore_ascii_case(name));
    let hints = entry
        .hints
        .iter()
        .filter(|(v, _)| v == var)
        .map(|(_, p)| p.as_str());
    let s3_alias = match var {
        "BucketName" | "Bucket" => Some("bucketName"),
        "ObjectName" | "Key" => Some("key"),
        _ => None,
    };
    // The name with a path stripped of its variants: `UserNameWithPath` → `UserName`.
    let without_path = var.strip_suffix("WithPath").unwrap_or(var);
    let found = std::iter::once(var)
        .chain(hints)
        .chain(s3_alias)
        .chain(std::iter::once(without_path))
        .find_map(named);
    if found.is_some() {
        return found;
    }
    // The resource given as an ARN: `RoleNameWithPath` → `roleArn`, `KeyId` → `keyArn`
    // (`{stem}Arn`, compared in two parts rather than formatted per record).
    let stem = without_path
        .strip_suffix("Name")
        .or_else(|| without_path.strip_suffix("Id"))
        .unwrap_or(without_path);
    by(&|k: &str| {
        let k = k.as_bytes();
        k.len() == stem.len() + 3
            && k[..stem.len()].eq_ignore_ascii_case(stem.as_bytes())
            && k[stem.len()..].eq_ignore_ascii_case(b"Arn")
    })
    .or_else(|| (var == "InstanceId").then(|| only_instance(obj)).flatten())
}

/// The instance of an EC2 call on one instance. EC2's query API logs a list parameter as
/// a set of items: `StartInstances`, `StopInstances`, `TerminateInstances`… name theirs
/// as `instancesSet.items[].instanceId`. A call on several instances is authorised for
/// each, which one request cannot say: it names none here.
fn only_instance(params: &json::Object) -> Option<&str> {
    let set = json::field(params, "instancesSet")?;
    match json::get(set, "items")?.as_array()?.as_slice() {
        [item] => json::get(item, "instanceId")?
            .as_str()
            .filter(|id| !id.is_empty()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonic_rs::json;

    fn facts<'a>(arns: &'a [&'a str], params: &'a json::Value) -> RecordFacts<'a> {
        RecordFacts {
            region: "us-east-1",
            account: "111122223333",
            resource_arns: arns,
            parameters: params,
            caller_user: Some("carol"),
        }
    }

    #[test]
    fn bundled_table_reads() {
        let map = ActionMap::bundled();
        assert!(map.len() > 20_000, "{}", map.len());
        let kms = map.lookup("kms.amazonaws.com", "Decrypt").unwrap();
        assert_eq!(kms.action.as_deref(), Some("kms:Decrypt"));
        let login = map.lookup("signin.amazonaws.com", "ConsoleLogin").unwrap();
        assert_eq!(login.action, None);
        assert!(login.note.contains("sign-in"));
        assert!(map.lookup("nosuch.amazonaws.com", "Nothing").is_none());
    }

    #[test]
    fn version_suffixes() {
        assert_eq!(
            strip_version_suffix("ListFunctions20150331"),
            "ListFunctions"
        );
        assert_eq!(strip_version_suffix("GetFunction20150331v2"), "GetFunction");
        assert_eq!(strip_version_suffix("GetObject"), "GetObject");
        assert_eq!(strip_version_suffix("v2"), "v2");
    }

    #[test]
    fn resources_from_list_template_or_star() {
        let map = ActionMap::bundled();
        let get = map.lookup("s3.amazonaws.com", "GetObject").unwrap();
        // From the request parameters (S3's own spelling).
        let params = json!({"bucketName": "b", "key": "k/1.txt"});
        assert_eq!(
            map.resource(get, &facts(&[], &params)).unwrap(),
            "arn:aws:s3:::b/k/1.txt"
        );
        // From resources[]: the object ARN, not the bucket's.
        let arns = ["arn:aws:s3:::b", "arn:aws:s3:::b/k"];
        assert_eq!(
            map.resource(get, &facts(&arns, &json!(null))).unwrap(),
            "arn:aws:s3:::b/k"
        );
        // A key id that is already an ARN.
        let dec = map.lookup("kms.amazonaws.com", "Decrypt").unwrap();
        let params = json!({"keyId": "arn:aws:kms:us-east-1:111122223333:key/abc"});
        assert_eq!(
            map.resource(dec, &facts(&[], &params)).unwrap(),
            "arn:aws:kms:us-east-1:111122223333:key/abc"
        );
        // A parameter naming the resource by ARN (sts:AssumeRole's roleArn).
        let assume = map.lookup("sts.amazonaws.com", "AssumeRole").unwrap();
        let params = json!({"roleArn": "arn:aws:iam::111122223333:role/x", "roleSessionName": "s"});
        assert_eq!(
            map.resource(assume, &facts(&[], &params)).unwrap(),
            "arn:aws:iam::111122223333:role/x"
        );
        // IAM user actions default to the caller.
        let get_user = map.lookup("iam.amazonaws.com", "GetUser").unwrap();
        assert_eq!(
            map.resource(get_user, &facts(&[], &json!({}))).unwrap(),
            "arn:aws:iam::111122223333:user/carol"
        );
        // No resource type: `*`.
        let describe = map
            .lookup("ec2.amazonaws.com", "DescribeInstances")
            .unwrap();
        assert_eq!(
            map.resource(describe, &facts(&[], &json!({}))).unwrap(),
            "*"
        );
        // Missing parameter: the reason names it.
        let err = map.resource(dec, &facts(&[], &json!({}))).unwrap_err();
        assert!(err.contains("KeyId"), "{err}");
    }

    fn shape(template: &str) -> String {
        template_shape(template, &template_pieces(template))
    }

    #[test]
    fn template_pieces_cover_the_template() {
        let t = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
        assert_eq!(
            template_pieces(t),
            [
                Piece::Text(0..4),
                Piece::Var(6..15),
                Piece::Text(16..22),
                Piece::Var(24..34),
                Piece::Text(35..36),
                Piece::Var(38..48),
            ]
        );
        assert_eq!(
            template_pieces("arn:${A}x${B"),
            [
                Piece::Text(0..4),
                Piece::Var(6..7),
                Piece::Text(8..9),
                Piece::Unclosed(8..12)
            ]
        );
        assert_eq!(shape("arn:${A}x${B"), "arn:*x*");
    }

    #[test]
    fn template_shapes() {
        assert_eq!(
            shape("arn:${Partition}:s3:::${BucketName}/${ObjectName}"),
            "arn:*:s3:::*/*"
        );
    }
}
