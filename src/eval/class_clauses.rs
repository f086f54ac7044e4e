//! The action patterns a service class's open action clauses are checked against: per
//! (class, statement), only those that could match an action of the class.
//!
//! A hop whose action the index does not name exactly reads its service's *class*
//! (`candidates`, `Evaluator::class_entry`), where a statement whose action clause depends
//! on the action's name is left open, for the hop to check. Checked over the whole
//! statement, that is every pattern of its action list: a managed policy's statement lists
//! up to hundreds (`ec2:DescribeInstances`, `ec2:Describe*`, `s3:GetObject`, …), and the
//! statement curve's 10,000 statements spent 43% of a hop there (issue 17). Most of those
//! patterns cannot match any action of the class, which is known when the evaluator is
//! built:
//! - a pattern with a literal service concerns only that service's class (`s3:GetObject`
//!   never matches an `ec2` action), or the unknown services' class when the index does
//!   not know the service;
//! - a literal pattern the index names exactly never matches a class's hop (its action is
//!   not one the index names exactly: that hop reads the action's own list);
//! - a service glob (`*:Get*`, `s?s:*`) concerns the classes whose service it matches (the
//!   unknown class: all of them, kept), a Huawei pattern every class (kept).
//!
//! So for each (class, open statement) the patterns that remain are kept here, and the hop
//! checks those few. For example, a statement `Action: [ec2:DescribeInstances, ec2:Get*,
//! s3:GetObject, s3:List*]` open in the `s3` class keeps `s3:List*` (and `s3:GetObject` when
//! the index does not name it exactly): a hop on `s3:ListBuckets2` matches one pattern, not
//! four. The table is bounded ([`MAX_CLASS_PATTERNS`]); past it, every hop checks the whole
//! list as before.

use crate::bytecode::*;

use super::candidates::action_glob;
use super::Evaluator;

/// The most patterns the table keeps (12 bytes each: 6 MiB); a program whose table would
/// be larger keeps none, and its hops check their open clauses over the whole list.
pub(super) const MAX_CLASS_PATTERNS: usize = 1 << 19;

/// Per class, its open statements and the patterns each is checked against (see the
/// module docs).
#[derive(Clone, Debug, Default)]
pub(super) struct ClassClauses {
    /// Per class (`class_entry` minus the `index_exact` entries): a range of `open`.
    classes: Vec<(u32, u32)>,
    /// The class's open statements, sorted by id, each with the end of its patterns in
    /// `patterns` (they start where the previous entry's end).
    open: Vec<(StatementId, u32)>,
    /// The patterns, copied from the program's `actions`.
    patterns: Vec<ActionRec>,
}

/// The class key of a pattern that concerns every class (sorted last).
const EVERY: u32 = u32::MAX;

impl ClassClauses {
    /// The patterns open statement `id` of class `class` is checked against, if the table
    /// has them.
    #[inline]
    pub(super) fn patterns(&self, class: u32, id: StatementId) -> Option<&[ActionRec]> {
        let &(first, end) = self.classes.get(class as usize)?;
        let open = self.open.get(first as usize..end as usize)?;
        let at = open.binary_search_by_key(&id, |(s, _)| *s).ok()?;
        let start = match (first as usize + at).checked_sub(1) {
            Some(before) => self.open[before].1,
            None => 0,
        };
        self.patterns.get(start as usize..open[at].1 as usize)
    }

    /// The bytes it holds on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        self.classes.capacity() * std::mem::size_of::<(u32, u32)>()
            + self.open.capacity() * std::mem::size_of::<(StatementId, u32)>()
            + self.patterns.capacity() * std::mem::size_of::<ActionRec>()
    }
}

impl<'p> Evaluator<'p> {
    /// The class clause table of the tabulated classes' open statements (empty when the
    /// classes are not tabulated, or the table would exceed [`MAX_CLASS_PATTERNS`]):
    /// `ranges` are the classes' lists (one per service, then the unknown services'), in
    /// `table`.
    /// Out of line: its cost in an evaluator build is then its own line in a profile.
    #[inline(never)]
    pub(super) fn build_class_clauses(&self, ranges: &[(u32, u32)], table: &[u32]) -> ClassClauses {
        let mut out = ClassClauses::default();
        let services = self.v.services.len();
        if ranges.len() != services + 1 {
            return out;
        }
        let known = KnownPatterns::of(self);
        // Per string id: 0 not yet seen, 1 a glob, 2 literal.
        let mut literal_names = vec![0u8; self.v.string_index.len()];
        // Each open statement's patterns, keyed by the class they concern and sorted by
        // key, classified once: per statement, the start of its range of `keyed`, the
        // start of its `EVERY` patterns there, and its end.
        let mut keyed: Vec<(u32, ActionRec)> = Vec::new();
        let mut seen: Vec<(u32, u32, u32)> = vec![(0, 0, u32::MAX); self.v.statements.len()];
        for (class, &(from, to)) in ranges.iter().enumerate() {
            let class = class as u32;
            let class_start = out.open.len() as u32;
            let service =
                (class < services as u32).then(|| self.s(self.v.services[class as usize].name));
            for code in &table[from as usize..to as usize] {
                if code & 1 == 1 {
                    continue;
                }
                let id = code >> 1;
                let Some(entry) = seen.get_mut(id as usize) else {
                    continue;
                };
                if entry.2 == u32::MAX {
                    let start = keyed.len();
                    self.classify_patterns(id, &known, &mut keyed, &mut literal_names);
                    let every = start + keyed[start..].partition_point(|(key, _)| *key != EVERY);
                    *entry = (start as u32, every as u32, keyed.len() as u32);
                }
                let (start, every, end) = *entry;
                let own = &keyed[start as usize..every as usize];
                let lo = own.partition_point(|(key, _)| *key < class);
                let hi = lo + own[lo..].partition_point(|(key, _)| *key == class);
                out.patterns.extend(own[lo..hi].iter().map(|(_, a)| *a));
                // A service glob that cannot match the class's service is left out.
                let others = keyed[every as usize..end as usize].iter().map(|(_, a)| a);
                out.patterns.extend(others.filter(|a| {
                    ActionKind::from_code(a.kind) != Some(ActionKind::Aws)
                        || service.is_none_or(|svc| action_glob(self.s(a.a), svc))
                }));
                if out.patterns.len() > MAX_CLASS_PATTERNS {
                    return ClassClauses::default();
                }
                out.open.push((id, out.patterns.len() as u32));
            }
            out.classes.push((class_start, out.open.len() as u32));
        }
        out.patterns.shrink_to_fit();
        out.open.shrink_to_fit();
        out
    }

    /// Appends statement `id`'s action patterns that could match an action the index does
    /// not name exactly to `keyed`, with the class each concerns (a service's index, the
    /// unknown services' class `services.len()`, or [`EVERY`]), sorted by class.
    fn classify_patterns(
        &self,
        id: StatementId,
        known: &KnownPatterns,
        keyed: &mut Vec<(u32, ActionRec)>,
        literal_names: &mut [u8],
    ) {
        let glob = |p: StrId| self.s(p).bytes().any(|b| b == b'*' || b == b'?');
        // An exact entry's name is literal in a program the compiler wrote: checked
        // anyway (a hostile file's), once per name.
        let mut literal_name = |p: StrId| match literal_names.get(p as usize).copied() {
            Some(0) => {
                let literal = !glob(p);
                literal_names[p as usize] = 1 + literal as u8;
                literal
            }
            Some(known) => known == 2,
            None => !glob(p),
        };
        let st = &self.v.statements[id as usize];
        let start = keyed.len();
        let actions = self.statement_actions(st);
        for a in actions {
            let key = match ActionKind::from_code(a.kind) {
                Some(ActionKind::Any) | Some(ActionKind::Huawei) => EVERY,
                Some(ActionKind::Aws) => match known.service(a.a) {
                    // The index names it exactly: never a class's hop.
                    Some(i) if known.is_exact(i, a.b) && literal_name(a.b) => continue,
                    Some(i) => i,
                    None if glob(a.a) => EVERY,
                    None => self.v.services.len() as u32,
                },
                // Matches nothing (`action_clause`).
                Some(ActionKind::Never) | None => continue,
            };
            keyed.push((key, *a));
        }
        keyed[start..].sort_by_key(|(key, _)| *key);
    }
}

/// The index's services and exact actions by string id, for classifying patterns without
/// hashing their text: a pattern's strings are the program's (the compiler stores each
/// text once), so a pattern naming an index service, or an exact action, has its ids.
/// A text stored twice would only be classified as not known: kept, never dropped.
struct KnownPatterns {
    /// Per string id: the index of the service of that literal name, or [`NONE`].
    services: Vec<u32>,
    /// Per string id: the service of the only `index_exact` entry of that name, [`NONE`],
    /// or [`SEVERAL`] (`listtags` in many services: then in `several`).
    exact_names: Vec<u32>,
    /// `service << 32 | name` of the `index_exact` entries whose name is in several services.
    several: rustc_hash::FxHashSet<u64>,
}

const NONE: u32 = u32::MAX;
const SEVERAL: u32 = u32::MAX - 1;

impl KnownPatterns {
    fn of(e: &Evaluator<'_>) -> Self {
        let strings = e.v.string_index.len();
        let mut known = KnownPatterns {
            services: vec![NONE; strings],
            exact_names: vec![NONE; strings],
            several: Default::default(),
        };
        let names = |svc: &ServiceRec| {
            e.v.index_exact
                .get(svc.exact_first as usize..(svc.exact_first + svc.exact_len) as usize)
                .unwrap_or_default()
        };
        for (i, svc) in e.v.services.iter().enumerate() {
            let literal = !e.s(svc.name).bytes().any(|b| b == b'*' || b == b'?');
            if let Some(slot) = known
                .services
                .get_mut(svc.name as usize)
                .filter(|_| literal)
            {
                *slot = i as u32;
            }
            for x in names(svc) {
                if let Some(slot) = known.exact_names.get_mut(x.name as usize) {
                    *slot = match *slot {
                        NONE => i as u32,
                        s if s == i as u32 => s,
                        _ => SEVERAL,
                    };
                }
            }
        }
        for (i, svc) in e.v.services.iter().enumerate() {
            for x in names(svc) {
                if known.exact_names.get(x.name as usize) == Some(&SEVERAL) {
                    known.several.insert((i as u64) << 32 | x.name as u64);
                }
            }
        }
        known
    }

    fn service(&self, name: StrId) -> Option<u32> {
        self.services
            .get(name as usize)
            .copied()
            .filter(|i| *i != NONE)
    }

    /// Whether `service:name` is an `index_exact` entry.
    fn is_exact(&self, service: u32, name: StrId) -> bool {
        match self.exact_names.get(name as usize).copied() {
            None | Some(NONE) => false,
            Some(SEVERAL) => self
                .several
                .contains(&((service as u64) << 32 | name as u64)),
            Some(only) => only == service,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{AlignedBytes, Program};

    /// Texts an action pattern's part stands for: itself, and its wildcards filled in
    /// several ways (`get*` → `get`, `getx`, `getxyz`; `?` → `q`).
    fn fillings(pattern: &str) -> Vec<String> {
        let mut out = vec![pattern.to_string()];
        for star in ["", "x", "xyz:"] {
            out.push(pattern.replace('*', star).replace('?', "q"));
        }
        out
    }

    /// Checks, for every open statement of every class of `e` (every `stride`-th pair),
    /// that the class's patterns answer as the whole list on actions of the class the
    /// index does not name exactly, built from the statement's own patterns (each filled
    /// in) and a few fixed names. Returns the number of actions checked.
    fn check_against_full_scan(e: &Evaluator<'_>, stride: usize) -> usize {
        let services = e.v.services.len();
        let first = e.v.index_exact.len();
        let mut checked = 0;
        let mut pair = 0;
        for (class, &(from, to)) in e.exact_candidate_ranges[first..].iter().enumerate() {
            for code in &e.exact_candidates[from as usize..to as usize] {
                if code & 1 == 1 {
                    continue;
                }
                pair += 1;
                if pair % stride != 0 {
                    continue;
                }
                let id = code >> 1;
                let st = &e.v.statements[id as usize];
                let patterns = e
                    .class_clauses
                    .patterns(class as u32, id)
                    .expect("every open statement of a class has its patterns");
                let actions = e.statement_actions(st);
                let mut names = vec!["".to_string(), "x".to_string(), "getobject2".to_string()];
                let mut unknown = vec!["benchsvc".to_string(), "zz".to_string()];
                for a in actions.iter().take(64) {
                    match ActionKind::from_code(a.kind) {
                        Some(ActionKind::Aws) => {
                            names.extend(fillings(e.s(a.b)));
                            unknown.extend(fillings(e.s(a.a)));
                        }
                        Some(ActionKind::Huawei) => {
                            // `svc:resource:name`: its name part, and the whole as one.
                            let p = e.s(a.a);
                            if let Some((s, n)) = p.split_once(':') {
                                names.extend(fillings(n));
                                unknown.extend(fillings(s));
                            }
                        }
                        _ => {}
                    }
                }
                let class_services: Vec<String> = if class < services {
                    vec![e.s(e.v.services[class].name).to_string()]
                } else {
                    unknown
                        .into_iter()
                        .filter(|s| !s.contains(':') && e.services.get(s).is_none())
                        .collect()
                };
                for service in &class_services {
                    for name in &names {
                        let action = format!("{service}:{name}");
                        if e.exact.get(&action).is_some()
                            || e.class_entry(&action) != Some((first + class) as u32)
                        {
                            continue;
                        }
                        assert_eq!(
                            e.action_clause_over(st, patterns, &action),
                            e.action_clause(st, &action),
                            "statement {id}, class {class}, {action}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        checked
    }

    fn program_of(policies: &str, dialect: &str) -> Program<AlignedBytes> {
        let case = crate::request::parse_case(
            &format!(
                r#"{{"id":"x","dialect":"{dialect}","principal":"arn:aws:iam::111122223333:user/a",
                "policies":{{"identity":[{policies}]}},
                "options":{{"mode":"lenient"}},
                "chain":[{{"action":"s3:GetObject","resource":"*"}}]}}"#
            ),
            "test",
        )
        .unwrap();
        crate::compile::compile(&case.chain.policies).unwrap()
    }

    /// The class of `service` (or of the unknown services, for `None`) of `e`.
    fn class_of(e: &Evaluator<'_>, service: Option<&str>) -> u32 {
        match service {
            Some(s) => e.services.get(s).unwrap(),
            None => e.v.services.len() as u32,
        }
    }

    /// The patterns kept for statement `id` in the class of `service`, as `service:name`.
    fn kept(e: &Evaluator<'_>, service: Option<&str>, id: StatementId) -> Vec<String> {
        let patterns = e.class_clauses.patterns(class_of(e, service), id).unwrap();
        patterns
            .iter()
            .map(|a| match ActionKind::from_code(a.kind) {
                Some(ActionKind::Aws) => format!("{}:{}", e.s(a.a), e.s(a.b)),
                _ => e.s(a.a).to_string(),
            })
            .collect()
    }

    /// A statement naming several services keeps, in each class, that service's patterns
    /// but those the index names exactly, and the service globs that match the service;
    /// a `NotAction` one likewise (its answer negated), and each answers as the full scan.
    #[test]
    fn classes_keep_only_their_services_patterns() {
        let program = program_of(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["ec2:DescribeInstances","ec2:Get*","s3:GetObject",
             "s3:List*","s?s:Put*","*:Tag*","foo:Bar*"],"Resource":"*"},
            {"Effect":"Deny","NotAction":["s3:Get*","iam:Create*","sqs:*","x*:y"],"Resource":"*"}]}"#,
            "aws",
        );
        let e = Evaluator::new(&program);
        assert_eq!(
            kept(&e, Some("s3"), 0),
            ["s3:list*", "*:tag*"],
            "s3:GetObject is named exactly; `s?s` does not match `s3`; the ec2 and foo \
             patterns concern other classes"
        );
        assert_eq!(kept(&e, Some("ec2"), 0), ["ec2:get*", "*:tag*"]);
        assert_eq!(kept(&e, Some("foo"), 0), ["foo:bar*", "*:tag*"]);
        assert_eq!(kept(&e, None, 0), ["s?s:put*", "*:tag*"]);
        assert_eq!(kept(&e, Some("s3"), 1), ["s3:get*"]);
        // No `Action` names `iam`: the index does not know it, and its patterns go to the
        // unknown class.
        assert!(e.services.get("iam").is_none());
        assert_eq!(kept(&e, None, 1), ["iam:create*", "sqs:*", "x*:y"]);
        assert!(check_against_full_scan(&e, 1) > 100);
        // Through a hop: `ec2:GetThing` is in the `ec2` class and matches `ec2:Get*`.
        for (action, matches) in [
            ("ec2:GetThing", true),
            ("ec2:DescribeVpcs", false),
            ("EC2:TagResource", true),
            ("s3:ListBucket", true),
            ("sns:PutThing", true),
            ("foo:BarBaz", true),
            ("foo:Baz", false),
        ] {
            let folded = action.to_lowercase();
            let class = e.class_entry(&folded).unwrap() - e.v.index_exact.len() as u32;
            let st = &e.v.statements[0];
            let patterns = e.class_clauses.patterns(class, 0).unwrap();
            assert_eq!(
                e.action_clause_over(st, patterns, &folded),
                matches,
                "{action}"
            );
        }
    }

    /// Huawei patterns (`svc:resource:name`, matched on the whole action) are kept in every
    /// class, and answer as the full scan.
    #[test]
    fn huawei_patterns_are_kept_in_every_class() {
        let program = program_of(
            r#"{"Version":"5.0","Statement":[
            {"Effect":"Allow","Action":["obs:bucket:list*","obs:object:GetObject","ecs:*:get*"],
             "Resource":["*"]},
            {"Effect":"Deny","NotAction":["obs:*:get*"],"Resource":["*"]}]}"#,
            "huawei",
        );
        let e = Evaluator::new(&program);
        let open: usize = e.class_clauses.open.len();
        assert!(open > 0, "the Huawei statements are open in some class");
        assert!(check_against_full_scan(&e, 1) > 10);
    }

    /// Over the programs of the spec vectors and conformance cases (resource policies,
    /// SCPs, Huawei actions, `NotAction`), and a sample of the AWS managed policies'
    /// classes, the class patterns answer as the whole list.
    #[test]
    fn class_patterns_answer_as_the_full_scan() {
        use std::io::Read;
        let mut text = String::new();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/managed/policies.tsv.gz");
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let options = crate::policy::ParseOptions::new(crate::policy::PolicyKind::Identity);
        let identity = text
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(name, json)| crate::policy::parse_policy(json, name, &options).unwrap());
        let managed = crate::request::PolicySet {
            identity: identity.collect(),
            ..Default::default()
        };
        let managed = crate::compile::compile(&managed).unwrap();
        let mut checked = 0;
        for program in super::super::tabulate::case_programs() {
            checked += check_against_full_scan(&Evaluator::new(&program), 1);
        }
        assert!(checked > 1_000, "{checked}");
        let e = Evaluator::new(&managed);
        assert!(
            !e.class_clauses.patterns.is_empty(),
            "the managed policies fit the table"
        );
        let checked = check_against_full_scan(&e, 13);
        assert!(checked > 10_000, "{checked}");
    }
}
