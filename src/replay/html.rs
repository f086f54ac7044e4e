//! The replay report as one self-contained HTML page (`fastiam replay --html FILE`).
//!
//! Security teams forward a page, not a terminal dump or a JSON file: this one opens in any
//! browser, offline, and reads top to bottom — the counts, when and where the would-be
//! denials happen (inline SVG charts, [`chart`]), who would be denied what and by which
//! statement, with the statement's JSON beside it ([`statements`]), the answers that depend
//! on keys the log does not carry and what would decide them, the forwarded (FAS) calls,
//! and every record that could not be evaluated.
//!
//! **Self-contained**: CSS inline, charts as inline SVG drawn here, no script, no fetch of
//! any kind (`<details>` folds the long parts without JavaScript).
//!
//! **Every string from a log or a policy is escaped** ([`esc`]): a principal, action,
//! event name or policy text holding `<script>` is shown as text and never becomes markup.
//! That is the only way text reaches the page.
//!
//! **Machine-checkable counts**: each summary count sits in an element with a `data-count`
//! attribute naming its place in [`Report::to_json`] (`all.allowed`, `forwarded.depends_on`,
//! `records`, `unmappable`, `unreadable`, `disagreements`), so a test can read the rendered
//! page and compare.
//!
//! ```
//! use fastiam::replay::html::{render, About, Statements};
//! use fastiam::replay::Report;
//! let page = render(&Report::new(true), &Statements::default(), &About::default());
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! assert!(page.contains(r#"data-count="all.allowed">0</td>"#));
//! ```

pub mod chart;
pub mod statements;

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

pub use statements::Statements;

use super::report::{Counts, Report};

/// What the page says about the run, besides the report: shown in its header.
#[derive(Clone, Debug, Default)]
pub struct About {
    /// The log files and directories replayed.
    pub inputs: Vec<String>,
    /// The policies given (`--scp FILE`, `--account-data FILE`, …), one line each.
    pub policies: Vec<String>,
    /// The program's name and version (`fastiam 0.1.0`).
    pub generator: String,
}

/// The most denied groups, and uncertain groups, listed (the rest are counted).
pub const MAX_ROWS: usize = 500;

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(text: &str) -> Escaped<'_> {
    Escaped(text)
}

/// Text that displays HTML-escaped ([`esc`]).
pub struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

const STYLE: &str = r#"
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;margin:0;background:#f6f7f9}
main{max-width:1160px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 10px;border-bottom:2px solid #dde1e6;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px;word-break:break-all}
.meta{color:#555;margin:2px 0}.warn{background:#fdecea;border:1px solid #e6a39a;padding:8px 12px;border-radius:4px}
table{border-collapse:collapse;background:#fff;margin:6px 0 12px;width:100%}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.summary{width:auto;min-width:480px}
td.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
pre{background:#fff;border:1px solid #dde1e6;padding:8px 10px;overflow-x:auto;font-size:12.5px;margin:4px 0 12px}
.chart{background:#fff;border:1px solid #dde1e6;font-size:12px}.chart .tick{fill:#555;font-size:11px}.chart .label{fill:#222;font-size:12px}
.caption{color:#555;margin:4px 0 12px}.legend span{display:inline-block;margin-right:16px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;border-radius:2px}
.x{color:#c0392b;font-weight:600}.d{color:#9a7d0a;font-weight:600}.muted{color:#777}
details{margin:4px 0 10px}summary{cursor:pointer;color:#1f4e79}
"#;

/// The page.
pub fn render(report: &Report, statements: &Statements, about: &About) -> String {
    let mut p = Page::default();
    p.s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    p.s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    p.s.push_str("<title>fastiam replay report</title><style>");
    p.s.push_str(STYLE);
    p.s.push_str("</style></head><body><main>\n");
    p.header(report, about);
    p.summary(report);
    p.charts(report);
    p.denied(report, statements);
    p.uncertain(report);
    p.forwarded(report);
    p.disagreements(report);
    p.unevaluated(report);
    let _ = writeln!(
        p.s,
        "<p class=\"meta muted\">Generated by {}.</p></main></body></html>",
        esc(if about.generator.is_empty() {
            "fastiam"
        } else {
            &about.generator
        })
    );
    p.s
}

/// One of the four counts of a [`Counts`].
type CountOf = fn(&Counts) -> u64;

/// The page being written.
#[derive(Default)]
struct Page {
    s: String,
}

impl Page {
    fn h2(&mut self, id: &str, title: &str) {
        let _ = writeln!(self.s, "<h2 id=\"{id}\">{}</h2>", esc(title));
    }

    fn para(&mut self, class: &str, text: &str) {
        let _ = writeln!(self.s, "<p class=\"{class}\">{}</p>", esc(text));
    }

    fn header(&mut self, report: &Report, about: &About) {
        self.s.push_str("<h1>CloudTrail replay report</h1>\n");
        let mode = if report.what_if {
            "What-if mode: every principal is assumed allowed by its identity and resource side; only the guardrails given can deny."
        } else {
            "Account-data mode: each record is evaluated against its principal's own policies and the guardrails given."
        };
        self.para("meta", mode);
        for (label, items) in [("Logs", &about.inputs), ("Policies", &about.policies)] {
            if !items.is_empty() {
                let _ = write!(self.s, "<p class=\"meta\">{label}: ");
                for (i, item) in items.iter().enumerate() {
                    let sep = if i > 0 { ", " } else { "" };
                    let _ = write!(self.s, "{sep}<code>{}</code>", esc(item));
                }
                self.s.push_str("</p>\n");
            }
        }
        if report.interrupted {
            self.para(
                "warn",
                "The replay was interrupted: every count below is partial.",
            );
        }
    }

    fn summary(&mut self, r: &Report) {
        self.h2("summary", "Summary");
        self.s.push_str(
            "<table class=\"summary\"><tr><th></th><th class=\"n\">all</th><th class=\"n\">forwarded</th></tr>\n",
        );
        let rows: [(&str, &str, CountOf); 4] = [
            ("allowed", "allowed", |c| c.allowed),
            ("explicitly denied", "explicit_deny", |c| c.explicit_deny),
            ("implicitly denied", "implicit_deny", |c| c.implicit_deny),
            ("depends on unlogged keys", "depends_on", |c| c.depends_on),
        ];
        for (label, field, get) in rows {
            let _ = writeln!(
                self.s,
                "<tr><th>{label}</th><td class=\"n\" data-count=\"all.{field}\">{}</td><td class=\"n\" data-count=\"forwarded.{field}\">{}</td></tr>",
                get(&r.all),
                get(&r.forwarded)
            );
        }
        let single = [
            ("unmappable", "unmappable", r.unmappable_total()),
            ("unreadable", "unreadable", r.unreadable.count),
            ("records read", "records", r.records_seen()),
        ];
        for (label, field, n) in single {
            let _ = writeln!(
                self.s,
                "<tr><th>{label}</th><td class=\"n\" data-count=\"{field}\">{n}</td><td></td></tr>"
            );
        }
        self.s.push_str("</table>\n");
        let label = disagreement_label(r.what_if);
        let _ = writeln!(
            self.s,
            "<p>{label}: <span class=\"x\" data-count=\"disagreements\">{}</span> (<a href=\"#disagreements\">examples</a>).</p>",
            r.disagreements.count
        );
    }

    fn legend(&mut self) {
        self.s.push_str("<p class=\"legend\">");
        for (name, colour) in &chart::PARTS[..3] {
            let _ = write!(
                self.s,
                "<span><i style=\"background:{colour}\"></i>{name}</span>"
            );
        }
        self.s.push_str("</p>\n");
    }

    /// A chart under its heading, with the legend; `none` in its place when there is none.
    fn chart(&mut self, id: &str, title: &str, svg: Option<String>, none: &str) {
        self.h2(id, title);
        match svg {
            Some(svg) => {
                self.legend();
                self.s.push_str(&svg);
            }
            None => self.para("muted", none),
        }
    }

    fn charts(&mut self, r: &Report) {
        self.chart(
            "over-time",
            "Denied and uncertain calls over time",
            chart::time_chart(&r.timeline),
            "No evaluated record had a readable eventTime.",
        );
        self.chart(
            "by-service",
            "Denied and uncertain calls by service",
            chart::service_chart(&r.by_service),
            "No call was denied or uncertain.",
        );
        if !r.by_service.is_empty() {
            self.s.push_str("<details><summary>Every service</summary><table><tr><th>service</th><th class=\"n\">allowed</th><th class=\"n\">explicitly denied</th><th class=\"n\">implicitly denied</th><th class=\"n\">depends</th></tr>\n");
            for (service, c) in &r.by_service {
                let _ = writeln!(
                    self.s,
                    "<tr><td class=\"mono\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(service),
                    c.allowed,
                    c.explicit_deny,
                    c.implicit_deny,
                    c.depends_on
                );
            }
            self.s.push_str("</table></details>\n");
        }
    }

    fn denied(&mut self, r: &Report, statements: &Statements) {
        self.h2(
            "denied",
            "Denied calls, by principal, action and deciding statement",
        );
        if r.denied.is_empty() {
            self.para("muted", "None.");
            return;
        }
        // Principal → its groups, principals with the most denials first.
        let mut by_principal: BTreeMap<&str, Vec<(&str, &str, u64)>> = BTreeMap::new();
        for ((p, a, d), n) in &r.denied {
            by_principal.entry(p).or_default().push((a, d, *n));
        }
        let mut principals: Vec<_> = by_principal.into_iter().collect();
        let total = |g: &[(&str, &str, u64)]| g.iter().map(|x| x.2).sum::<u64>();
        principals.sort_by(|a, b| total(&b.1).cmp(&total(&a.1)).then(a.0.cmp(b.0)));
        let mut cited: Vec<&str> = Vec::new();
        let mut rows = 0;
        for (principal, mut groups) in principals {
            if rows >= MAX_ROWS {
                break;
            }
            groups.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
            let _ = writeln!(
                self.s,
                "<h3><code>{}</code> <span class=\"muted\">— {} denied</span></h3>",
                esc(principal),
                total(&groups)
            );
            self.s.push_str("<table><tr><th>action</th><th>deciding statements</th><th class=\"n\">calls</th></tr>\n");
            for (action, deciders, n) in groups.into_iter().take(MAX_ROWS - rows) {
                rows += 1;
                let _ = write!(self.s, "<tr><td class=\"mono\">{}</td><td>", esc(action));
                for (label, known) in statements.split(deciders) {
                    if known {
                        let i = cited.iter().position(|c| *c == label).unwrap_or_else(|| {
                            cited.push(label);
                            cited.len() - 1
                        });
                        let _ = write!(
                            self.s,
                            "<a href=\"#stmt-{i}\"><code>{}</code></a> ",
                            esc(label)
                        );
                    } else {
                        let _ = write!(self.s, "<code>{}</code> ", esc(label));
                    }
                }
                let _ = writeln!(self.s, "</td><td class=\"n\">{n}</td></tr>");
            }
            self.s.push_str("</table>\n");
        }
        if r.denied.len() > rows {
            let more = format!(
                "… and {} more groups (every record: --output).",
                r.denied.len() - rows
            );
            self.para("muted", &more);
        }
        if !cited.is_empty() {
            self.s.push_str("<h3>The deciding statements</h3>\n");
            for (i, label) in cited.iter().enumerate() {
                let texts = statements.get(label);
                let _ = write!(self.s, "<div id=\"stmt-{i}\"><code>{}</code>", esc(label));
                if texts.len() > 1 {
                    let _ = write!(
                        self.s,
                        " <span class=\"muted\">— {} policies of this name have a statement of this name; each is shown</span>",
                        texts.len()
                    );
                }
                for text in texts {
                    let _ = write!(self.s, "<pre>{}</pre>", esc(text));
                }
                self.s.push_str("</div>\n");
            }
        }
    }

    fn uncertain(&mut self, r: &Report) {
        self.h2(
            "uncertain",
            "Decisions that depend on keys the log does not carry",
        );
        if r.depends.is_empty() && r.decided_by.is_empty() {
            self.para(
                "muted",
                "None: every evaluated record has a certain answer.",
            );
            return;
        }
        self.s.push_str(
            "<table class=\"summary\"><tr><th>unknown</th><th class=\"n\">records</th></tr>\n",
        );
        for (key, n) in &r.depends {
            let _ = writeln!(
                self.s,
                "<tr><td class=\"mono\">{}</td><td class=\"n\">{n}</td></tr>",
                esc(key)
            );
        }
        self.s
            .push_str("</table>\n<h3>What would decide them</h3>\n");
        let mut groups: Vec<_> = r.decided_by.iter().collect();
        groups.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        self.s.push_str("<table><tr><th>action</th><th>the decision for each value of the unknowns</th><th class=\"n\">records</th></tr>\n");
        for ((action, decided_by), n) in groups.iter().take(MAX_ROWS) {
            let _ = writeln!(
                self.s,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"n\">{n}</td></tr>",
                esc(action),
                esc(decided_by)
            );
        }
        self.s.push_str("</table>\n");
        if groups.len() > MAX_ROWS {
            let more = format!("… and {} more groups.", groups.len() - MAX_ROWS);
            self.para("muted", &more);
        }
    }

    fn forwarded(&mut self, r: &Report) {
        self.h2("forwarded", "Forwarded calls (forward access sessions)");
        self.para(
            "meta",
            "Calls a service made on a principal's behalf, evaluated as the forwarded hop of a chain (aws:ViaAWSService, aws:CalledVia, kms:ViaService; no VPC keys of the origin).",
        );
        let f = &r.forwarded;
        let _ = writeln!(
            self.s,
            "<p>{} forwarded calls: {} allowed, <span class=\"x\">{}</span> explicitly denied, <span class=\"x\">{}</span> implicitly denied, <span class=\"d\">{}</span> depend on unlogged keys.</p>",
            f.total(),
            f.allowed,
            f.explicit_deny,
            f.implicit_deny,
            f.depends_on
        );
        if r.via.is_empty() {
            return;
        }
        self.s.push_str("<table class=\"summary\"><tr><th>forwarding service</th><th class=\"n\">calls</th></tr>\n");
        let mut via: Vec<_> = r.via.iter().collect();
        via.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (service, n) in via {
            let _ = writeln!(
                self.s,
                "<tr><td class=\"mono\">{}</td><td class=\"n\">{n}</td></tr>",
                esc(service)
            );
        }
        self.s.push_str("</table>\n");
    }

    fn disagreements(&mut self, r: &Report) {
        self.h2("disagreements", disagreement_label(r.what_if));
        let shown = format!(
            "{} records; the first {}:",
            r.disagreements.count,
            r.disagreements.examples.len()
        );
        self.para("meta", &shown);
        self.examples(&r.disagreements.examples);
    }

    fn examples(&mut self, examples: &[String]) {
        if examples.is_empty() {
            return;
        }
        self.s.push_str("<pre>");
        for e in examples {
            let _ = writeln!(self.s, "{}", esc(e));
        }
        self.s.push_str("</pre>\n");
    }

    fn unevaluated(&mut self, r: &Report) {
        self.h2("unevaluated", "Records not evaluated");
        if r.unmappable.is_empty() && r.unreadable.count == 0 {
            self.para("muted", "None: every record read was evaluated.");
            return;
        }
        for (class, e) in &r.unmappable {
            let _ = writeln!(
                self.s,
                "<h3>Unmappable: <code>{}</code> <span class=\"muted\">— {} records</span></h3>",
                esc(class),
                e.count
            );
            self.examples(&e.examples);
        }
        if r.unreadable.count > 0 {
            let _ = writeln!(
                self.s,
                "<h3>Unreadable <span class=\"muted\">— {} records or files</span></h3>",
                r.unreadable.count
            );
            self.examples(&r.unreadable.examples);
        }
    }
}

fn disagreement_label(what_if: bool) -> &'static str {
    if what_if {
        "Recorded successes the guardrails would now explicitly deny"
    } else {
        "Records where the replay contradicts the log's outcome"
    }
}

#[cfg(test)]
mod tests;
