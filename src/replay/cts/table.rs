//! Which Huawei action a CTS trace is, and which URN it acts on.
//!
//! CTS names an operation by the service's acronym (`service_type`, `KMS`) and the trace
//! name the service's "operations recorded by CTS" table lists (`trace_name`,
//! `createDataKey`); Huawei IAM authorises an *action* `service:type:operation`
//! (`kms:dek:create`). Neither table names the other, so the join is ours: the table is
//! data, built by `tools/build_cts_map.py` from the shared compilation
//! (`huawei-cts/trace-actions.tsv`, every row naming its sources) and shipped as
//! `corpus/replay/huawei/trace-actions.tsv` (compiled into the binary).
//!
//! A row's URN template is filled from the trace: `{account_id}` (the resource's account
//! when the trace names one, else the caller's), `{region}` (not in a trace: only from
//! `--context g:RequestedRegion=…`), `{resource_id}`, `{resource_name}`, and parts of the
//! name (`{bucket}`/`{key}` of an OBS object `bucket/key`, `{db}`/`{table}` of a DLI
//! `db.table`). A row without a template, or one the trace cannot fill, gives no URN but
//! the reason: the resource is then an unknown of the answer
//! ([`MappedRecord::resource_unknown`](crate::replay::MappedRecord::resource_unknown)),
//! never a guessed string.
//!
//! ```
//! use fastiam::replay::cts::{CtsMap, UrnFacts};
//! let map = CtsMap::bundled();
//! let entry = map.lookup("OBS", "deleteBucketPolicy").unwrap();
//! assert_eq!(entry.action.as_deref(), Some("obs:bucket:DeleteBucketPolicy"));
//! let facts = UrnFacts { account: "0a1b", resource_name: "data", ..UrnFacts::default() };
//! let mut urn = String::new();
//! map.urn_into(entry, &facts, &mut urn).unwrap();
//! assert_eq!(urn, "obs:*:0a1b:bucket:data");
//! // ECS URNs name a region, which traces do not carry.
//! let stop = map.lookup("ECS", "stopServer").unwrap();
//! assert!(map.urn_into(stop, &facts, &mut urn).unwrap_err().contains("no region"));
//! ```

use rustc_hash::FxHashMap;

use crate::replay::actions::ActionMapError;

/// The bundled table.
const BUNDLED: &str = include_str!("../../../corpus/replay/huawei/trace-actions.tsv");

/// What the table says about one trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtsEntry {
    /// The Huawei action; `None` when no single documented action exists.
    pub action: Option<String>,
    /// The URN template, if the row has one.
    pub urn: Option<String>,
    /// `source` (the shared table's), `spec` (a SEMANTICS.md R-HW-6 shape) or `-`.
    pub urn_origin: String,
    /// Why the row is what it is.
    pub note: String,
}

/// The trace → action table.
#[derive(Clone, Debug)]
pub struct CtsMap {
    /// `service_type` → `trace_name` → entry.
    services: FxHashMap<String, FxHashMap<String, CtsEntry>>,
}

/// What a URN template is filled from.
#[derive(Clone, Copy, Debug, Default)]
pub struct UrnFacts<'t> {
    /// `resource_account_id`, else the caller's account.
    pub account: &'t str,
    /// Empty when not known.
    pub region: &'t str,
    pub resource_id: &'t str,
    pub resource_name: &'t str,
}

impl CtsMap {
    /// The table compiled into the binary.
    pub fn bundled() -> CtsMap {
        // Checked by the unit tests; failing to read it is a build defect.
        CtsMap::parse(BUNDLED).expect("the bundled CTS table reads")
    }

    /// The bundled table, read once per process.
    pub fn shared() -> &'static CtsMap {
        static SHARED: std::sync::OnceLock<CtsMap> = std::sync::OnceLock::new();
        SHARED.get_or_init(CtsMap::bundled)
    }

    /// Reads the TSV format of `tools/build_cts_map.py`.
    pub fn parse(text: &str) -> Result<CtsMap, ActionMapError> {
        let mut services: FxHashMap<String, FxHashMap<String, CtsEntry>> = FxHashMap::default();
        let lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        for (n, line) in lines.filter(|(_, l)| !l.starts_with('#') && !l.is_empty()) {
            let fields: Vec<&str> = line.split('\t').collect();
            let [service, trace, action, urn, origin, note] = fields[..] else {
                return Err(ActionMapError(format!(
                    "trace-actions.tsv line {n}: expected 6 columns, found {}",
                    fields.len()
                )));
            };
            let some = |s: &str| (s != "-").then(|| s.to_string());
            let entry = CtsEntry {
                action: some(action),
                urn: some(urn),
                urn_origin: origin.to_string(),
                note: note.to_string(),
            };
            let previous = services
                .entry(service.to_string())
                .or_default()
                .insert(trace.to_string(), entry);
            if previous.is_some() {
                return Err(ActionMapError(format!(
                    "trace-actions.tsv line {n}: {service} {trace} is listed twice"
                )));
            }
        }
        Ok(CtsMap { services })
    }

    /// The number of traces the table knows.
    pub fn len(&self) -> usize {
        self.services.values().map(FxHashMap::len).sum()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// The entry of a trace: `service_type` ignoring ASCII case (`ModelArts`, `MODELARTS`),
    /// `trace_name` exactly.
    pub fn lookup(&self, service: &str, trace: &str) -> Option<&CtsEntry> {
        let traces = self.services.get(service).or_else(|| {
            self.services
                .iter()
                .find(|(s, _)| s.eq_ignore_ascii_case(service))
                .map(|(_, t)| t)
        })?;
        traces.get(trace)
    }

    /// The URN of a trace into `out` (cleared first): the entry's template filled from
    /// `facts`. When it cannot be built, `out` is left empty and the error says why (the
    /// static text of the reason; the caller adds the trace and the template).
    pub fn urn_into(
        &self,
        entry: &CtsEntry,
        facts: &UrnFacts<'_>,
        out: &mut String,
    ) -> Result<(), &'static str> {
        out.clear();
        let Some(template) = entry.urn.as_deref() else {
            return Err("no URN template is known for this trace");
        };
        fill(template, facts, out).inspect_err(|_| out.clear())
    }
}

/// Fills `template` into `out`; the reason when a variable has no value.
fn fill(template: &str, facts: &UrnFacts<'_>, out: &mut String) -> Result<(), &'static str> {
    let name = facts.resource_name;
    let split = |sep: char| {
        name.split_once(sep)
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
    };
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}').map(|i| open + i) else {
            return Err("the URN template has an unclosed `{`");
        };
        let var = &rest[open + 1..close];
        let value = match var {
            "account_id" => facts.account,
            "region" => facts.region,
            "resource_id" => facts.resource_id,
            "resource_name" => name,
            "bucket" => split('/').map_or(name, |(b, _)| b),
            "key" => split('/').map_or("", |(_, k)| k),
            "db" => split('.').map_or("", |(d, _)| d),
            "table" => split('.').map_or("", |(_, t)| t),
            _ => "",
        };
        if value.is_empty() {
            return Err(match var {
                "region" => {
                    "CTS traces carry no region (give it with --context g:RequestedRegion=…)"
                }
                "account_id" => "the trace names no account",
                "resource_id" => "the trace has no `resource_id`",
                "resource_name" => "the trace has no `resource_name`",
                "bucket" | "key" => "`resource_name` is not `bucket/key`",
                "db" | "table" => "`resource_name` is not `database.table`",
                _ => "the URN template has an unknown variable",
            });
        }
        out.push_str(value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_reads_and_counts() {
        let map = CtsMap::bundled();
        // 177 shared rows less the 3 OBS object rows without a trace name.
        assert_eq!(map.len(), 174);
        let entry = map.lookup("kms", "decryptDatakey").unwrap();
        assert_eq!(entry.action.as_deref(), Some("kms:dek:crypto"));
        assert_eq!(entry.urn_origin, "spec");
        let login = map.lookup("IAM", "login").unwrap();
        assert_eq!(login.action, None);
        assert!(login.note.contains("no single documented action"));
        assert!(
            map.lookup("IAM", "Login").is_none(),
            "trace names are exact"
        );
    }

    #[test]
    fn templates_fill_or_say_why_not() {
        let map = CtsMap::bundled();
        let mut out = String::new();
        let facts = UrnFacts {
            account: "0a1b",
            region: "eu-de",
            resource_id: "42d3",
            resource_name: "web-01",
        };
        let ecs = map.lookup("ECS", "stopServer").unwrap();
        assert_eq!(map.urn_into(ecs, &facts, &mut out), Ok(()));
        assert_eq!(out, "ecs:eu-de:0a1b:cloudservers:42d3");
        let cases = [
            (
                UrnFacts {
                    region: "",
                    ..facts
                },
                "carry no region",
            ),
            (
                UrnFacts {
                    resource_id: "",
                    ..facts
                },
                "no `resource_id`",
            ),
            (
                UrnFacts {
                    account: "",
                    ..facts
                },
                "names no account",
            ),
        ];
        for (f, reason) in cases {
            let e = map.urn_into(ecs, &f, &mut out).unwrap_err();
            assert!(e.contains(reason), "{e}");
            assert_eq!(out, "", "nothing half built");
        }
        // No template (EVS).
        let evs = map.lookup("EVS", "createVolume").unwrap();
        let e = map.urn_into(evs, &facts, &mut out).unwrap_err();
        assert!(e.contains("no URN template"), "{e}");
        // A DLI table needs `db.table`.
        let table = map.lookup("DLI", "deleteTable").unwrap();
        let named = UrnFacts {
            resource_name: "db1.tb1",
            ..facts
        };
        assert_eq!(map.urn_into(table, &named, &mut out), Ok(()));
        assert_eq!(out, "dli:*:0a1b:table:databases.db1.tables.tb1");
        let e = map.urn_into(table, &facts, &mut out).unwrap_err();
        assert!(e.contains("not `database.table`"), "{e}");
    }

    #[test]
    fn malformed_tables_are_errors_with_the_line() {
        let err = CtsMap::parse("# c\nKMS\tx\n").unwrap_err().to_string();
        assert!(err.contains("line 2: expected 6 columns, found 2"), "{err}");
        let row = "KMS\tx\t-\t-\t-\tn\n";
        let err = CtsMap::parse(&format!("{row}{row}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2: KMS x is listed twice"), "{err}");
    }
}
