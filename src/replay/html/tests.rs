//! The page: escaping, counts, self-containment.

use super::*;
use crate::policy::{parse_policy, ParseOptions, PolicyKind};
use crate::replay::report::Examples;

const HOSTILE: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;";

/// The element names a page uses; anything else came from the data.
const TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "code",
    "span", "table", "tr", "th", "td", "a", "div", "pre", "details", "summary", "svg", "line",
    "text", "g", "rect", "i",
];

/// The names of every start tag in `page` (`<name`).
fn tags(page: &str) -> Vec<String> {
    let b = page.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'<' && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic))
        .map(|i| {
            page[i + 1..]
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect()
        })
        .collect()
}

fn counts(n: u64) -> Counts {
    Counts {
        allowed: n,
        explicit_deny: n + 1,
        implicit_deny: n + 2,
        depends_on: n + 3,
    }
}

/// A report with a hostile string in every field that holds text from a log or a policy.
fn hostile_report() -> (Report, Statements) {
    let mut r = Report::new(true);
    r.all = counts(10);
    r.forwarded = counts(1);
    r.denied.insert(
        (HOSTILE.into(), HOSTILE.into(), format!("guard#{HOSTILE}")),
        4,
    );
    r.denied
        .insert((HOSTILE.into(), "s3:GetObject".into(), HOSTILE.into()), 2);
    r.depends.insert(HOSTILE.into(), 3);
    r.decided_by.insert((HOSTILE.into(), HOSTILE.into()), 3);
    r.via.insert(HOSTILE.into(), 1);
    r.by_service.insert(HOSTILE.into(), counts(2));
    r.timeline.minutes.insert(28_000_000, counts(1));
    r.timeline.hours.insert(466_666, counts(1));
    let ex = || Examples {
        count: 2,
        examples: vec![HOSTILE.into()],
    };
    r.unmappable.insert(HOSTILE.into(), ex());
    r.unreadable = ex();
    r.disagreements = ex();
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Deny","Action":"*","Resource":"*","Condition":{{"StringEquals":{{"aws:PrincipalTag/x":"</pre><script>alert(3)</script>"}}}}}}]}}"#,
        HOSTILE.replace('"', "\\\"")
    );
    let policy = parse_policy(&text, "guard", &ParseOptions::new(PolicyKind::Scp)).unwrap();
    let mut statements = Statements::default();
    statements.add_policy(&policy);
    (r, statements)
}

#[test]
fn escapes_the_five_characters() {
    let table = [
        ("plain", "plain"),
        ("a<b>c", "a&lt;b&gt;c"),
        ("\"'&", "&quot;&#39;&amp;"),
        ("&amp;", "&amp;amp;"),
        ("é<", "é&lt;"),
        ("", ""),
    ];
    for (raw, escaped) in table {
        assert_eq!(esc(raw).to_string(), escaped, "{raw}");
    }
}

#[test]
fn text_from_logs_and_policies_never_becomes_markup() {
    let (r, statements) = hostile_report();
    let about = About {
        inputs: vec![HOSTILE.into()],
        policies: vec![HOSTILE.into()],
        generator: HOSTILE.into(),
    };
    let page = render(&r, &statements, &about);
    for tag in tags(&page) {
        assert!(TAGS.contains(&tag.as_str()), "<{tag}> in the page");
    }
    assert!(!page.contains("<script") && !page.contains("<img"));
    // The hostile text is shown, escaped, in each place.
    let shown = esc(HOSTILE).to_string();
    assert!(page.matches(&shown).count() >= 10, "{page}");
    // The statement was found and shown, escaped too.
    assert!(page.contains("&lt;/pre&gt;&lt;script&gt;alert(3)"));
    assert!(page.contains("href=\"#stmt-0\""));
}

#[test]
fn counts_are_marked_with_their_place_in_the_json_summary() {
    let (r, statements) = hostile_report();
    let page = render(&r, &statements, &About::default());
    let json = r.to_json();
    let mut seen = 0;
    for (i, _) in page.match_indices("data-count=\"") {
        let rest = &page[i + "data-count=\"".len()..];
        let (name, rest) = rest.split_once('"').unwrap();
        let value: u64 = rest[1..rest.find('<').unwrap()].parse().unwrap();
        let expected = match name {
            "unmappable" => r.unmappable_total(),
            "disagreements" => json["disagreements"]["count"].as_u64().unwrap(),
            "unreadable" => json["unreadable"]["count"].as_u64().unwrap(),
            _ => json
                .pointer(&format!("/{}", name.replace('.', "/")))
                .and_then(serde_json::Value::as_u64)
                .unwrap_or_else(|| panic!("{name} is not in the JSON summary")),
        };
        assert_eq!(value, expected, "{name}");
        seen += 1;
    }
    assert_eq!(seen, 4 + 4 + 4, "every count of the summary is marked");
}

#[test]
fn the_page_fetches_nothing() {
    let mut r = Report::new(true);
    r.all = counts(5);
    r.denied
        .insert(("p".into(), "a:B".into(), "guard#x".into()), 1);
    r.decided_by
        .insert(("a:B".into(), "Allow if k = \"v\"".into()), 1);
    r.via.insert("ssm.amazonaws.com".into(), 1);
    r.by_service.insert("a".into(), counts(5));
    r.timeline.minutes.insert(28_000_000, counts(1));
    r.timeline.minutes.insert(28_000_090, counts(2));
    let page = render(&r, &Statements::default(), &About::default());
    for needle in [
        "src=", "http:", "https:", "url(", "@import", "<link", "<script",
    ] {
        assert!(!page.contains(needle), "{needle}");
    }
    assert!(page.contains("<svg") && page.contains("<rect"));
}

#[test]
fn an_interrupted_report_says_so() {
    let mut r = Report::new(false);
    assert!(!render(&r, &Statements::default(), &About::default()).contains("interrupted"));
    r.interrupted = true;
    let page = render(&r, &Statements::default(), &About::default());
    assert!(page.contains("The replay was interrupted"));
    assert!(page.contains("Records where the replay contradicts the log"));
}
