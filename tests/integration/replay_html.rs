//! `fastiam replay --html`: the page opens and renders in a real browser (headless
//! Chromium), shows the counts of the JSON summary, and keeps hostile log text as text.
//!
//! Chromium is looked for in `FASTIAM_CHROMIUM`, `/usr/bin/chromium`, then `chromium` and
//! `chromium-browser` on the `PATH`; where there is none the browser tests print
//! `skipped: …` and pass (`.ci/run` installs Debian's `chromium`). The screenshot of the
//! bundled replay is saved as `replay-report.png` in Cargo's integration-test temporary
//! directory (`target/tmp/`); `docs/replay-report.png` is a copy of it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::fastiam;
use crate::util::corpus;

const SCP: &str = "replay/policies/network-perimeter-iam-users-scp.json";

/// The element names the page may contain; any other came from the data.
const TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "code",
    "span", "table", "tbody", "tr", "th", "td", "a", "div", "pre", "details", "summary", "svg",
    "line", "text", "g", "rect", "i",
];

fn chromium() -> Option<PathBuf> {
    let named = std::env::var_os("FASTIAM_CHROMIUM").map(PathBuf::from);
    let candidates = named
        .into_iter()
        .chain([PathBuf::from("/usr/bin/chromium")])
        .chain(["chromium", "chromium-browser"].iter().filter_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        }));
    candidates.into_iter().find(|p| p.is_file())
}

/// A fresh directory under Cargo's temporary directory for integration tests.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("replay-html-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium on `page` with `extra` flags; its standard output. Killed after
/// two minutes, so a browser that hangs fails the test instead of hanging it.
fn run_chromium(browser: &Path, page: &Path, extra: &[&str], profile: &Path) -> String {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", browser.display()));
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("{} did not finish in 120 s on {url}", browser.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{} {extra:?} {url}: {}\n{}",
        browser.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `fastiam replay --quiet --json ARGS…`, which must succeed: the JSON summary.
fn replay_json(args: &[&OsStr]) -> Value {
    let out = fastiam()
        .args(["replay", "--quiet", "--json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `fastiam replay --html PAGE` on `logs` under the bundled SCP; the JSON summary.
fn replay_to_page(logs: &Path, page: &Path) -> Value {
    let scp = corpus(SCP);
    replay_json(&[
        "--scp".as_ref(),
        scp.as_ref(),
        "--html".as_ref(),
        page.as_ref(),
        logs.as_ref(),
    ])
}

/// Every `data-count="NAME">N<` of a page, in order.
fn marked_counts(dom: &str) -> Vec<(String, u64)> {
    dom.match_indices("data-count=\"")
        .map(|(i, m)| {
            let rest = &dom[i + m.len()..];
            let (name, rest) = rest.split_once('"').unwrap();
            let rest = &rest[rest.find('>').unwrap() + 1..];
            let value = rest[..rest.find('<').unwrap()].trim().parse().unwrap();
            (name.to_string(), value)
        })
        .collect()
}

/// What the JSON summary says a marked count is.
fn summary_count(summary: &Value, name: &str) -> u64 {
    match name {
        "unmappable" => summary["unmappable"]
            .as_object()
            .unwrap()
            .values()
            .map(|c| c["count"].as_u64().unwrap())
            .sum(),
        "unreadable" | "disagreements" => summary[name]["count"].as_u64().unwrap(),
        _ => summary
            .pointer(&format!("/{}", name.replace('.', "/")))
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("`{name}` is not a count of the JSON summary")),
    }
}

/// The names of the start tags of `dom`.
fn tags(dom: &str) -> Vec<&str> {
    dom.match_indices('<')
        .filter_map(|(i, _)| {
            let name = &dom[i + 1..];
            let len = name
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(name.len());
            (len > 0 && name.as_bytes()[0].is_ascii_alphabetic()).then(|| &name[..len])
        })
        .collect()
}

/// The counts a browser renders are those of the JSON summary, and the page's charts and
/// statement text are there; the screenshot is saved.
#[test]
fn bundled_replay_renders_in_chromium() {
    let Some(browser) = chromium() else {
        println!("skipped: no chromium binary (FASTIAM_CHROMIUM, /usr/bin/chromium, PATH)");
        return;
    };
    let dir = scratch("bundled");
    let page = dir.join("replay-report.html");
    let summary = replay_to_page(&corpus("replay/logs"), &page);
    let html = std::fs::read_to_string(&page).unwrap();
    for needle in [
        "src=", "http:", "https:", "url(", "@import", "<link", "<script",
    ] {
        assert!(
            !html.contains(needle),
            "the page fetches or runs `{needle}`"
        );
    }

    let dom = run_chromium(&browser, &page, &["--dump-dom"], &dir.join("profile-dom"));
    let counts = marked_counts(&dom);
    let names: Vec<&str> = counts.iter().map(|(n, _)| n.as_str()).collect();
    for field in ["allowed", "explicit_deny", "implicit_deny", "depends_on"] {
        for population in ["all", "forwarded"] {
            let name = format!("{population}.{field}");
            assert!(names.contains(&name.as_str()), "{name} is not on the page");
        }
    }
    for name in ["unmappable", "unreadable", "records", "disagreements"] {
        assert!(names.contains(&name), "{name} is not on the page");
    }
    for (name, value) in &counts {
        assert_eq!(*value, summary_count(&summary, name), "{name}");
    }
    // The bundled replay denies and is uncertain: the figures are not all zero.
    assert_eq!(summary["records"], 698);
    assert!(summary["all"]["explicit_deny"].as_u64().unwrap() > 0);
    // Both charts drew bars; the deciding statement is shown with its text.
    assert_eq!(dom.matches("<svg").count(), 2, "two charts");
    assert!(dom.matches("<rect").count() > 10);
    assert!(dom.contains("\"Sid\":\"EnforceNetworkPerimeterOnIAMUsers\""));
    assert!(dom.contains("NotIpAddressIfExists"));
    for tag in tags(&dom) {
        assert!(TAGS.contains(&tag), "<{tag}> in the rendered page");
    }

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay-report.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &browser,
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
            "--hide-scrollbars",
        ],
        &dir.join("profile-shot"),
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{}", shot.display());
    assert!(
        png.len() > 20_000,
        "a screenshot of a blank page is smaller"
    );
    println!("screenshot: {}", shot.display());
}

/// Records whose principal and event name are markup: the browser shows them as text, runs
/// no script and loads no image.
#[test]
fn hostile_log_text_stays_text_in_chromium() {
    let dir = scratch("hostile");
    let record = |id: &str, name: &str, user: &str| {
        serde_json::json!({
            "eventVersion": "1.08", "eventID": id, "eventTime": "2024-03-01T10:00:00Z",
            "eventSource": "s3.amazonaws.com", "eventName": name, "eventType": "AwsApiCall",
            "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9",
            "userIdentity": {"type": "IAMUser", "accountId": "111122223333",
                             "arn": format!("arn:aws:iam::111122223333:user/{user}")}
        })
        .to_string()
    };
    let script = "<script>document.title='pwned'</script>";
    let img = "<img src=x onerror=\"document.title='pwned'\">";
    let logs = dir.join("hostile.jsonl");
    std::fs::write(
        &logs,
        [
            record("e1", "ListBuckets", script),
            record("e2", img, "alice"),
            record("e3<b>", "ListBuckets", "bob"),
        ]
        .join("\n"),
    )
    .unwrap();
    let page = dir.join("hostile.html");
    let summary = replay_to_page(&logs, &page);
    assert_eq!(summary["all"]["explicit_deny"], 2, "{summary}");
    assert_eq!(summary["unmappable"]["unknown-action"]["count"], 1);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>"));
    assert!(html.contains("user/&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;"));

    let Some(browser) = chromium() else {
        println!("skipped: no chromium binary (FASTIAM_CHROMIUM, /usr/bin/chromium, PATH)");
        return;
    };
    let dom = run_chromium(&browser, &page, &["--dump-dom"], &dir.join("profile"));
    assert!(
        dom.contains("<title>fastiam replay report</title>"),
        "no script ran"
    );
    for tag in tags(&dom) {
        assert!(TAGS.contains(&tag), "<{tag}> in the rendered page");
    }
    assert!(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
    for (name, value) in marked_counts(&dom) {
        assert_eq!(value, summary_count(&summary, &name), "{name}");
    }
}

/// A page that cannot be written is refused before the replay starts, naming the flag; so is
/// a page with `--parse-only`, which makes no report.
#[test]
fn an_unwritable_page_is_refused_naming_the_flag() {
    let dir = scratch("unwritable");
    let unwritable = dir.join("no-such-directory").join("report.html");
    let writable = dir.join("report.html");
    let table: [(&[&OsStr], String); 2] = [
        (
            &["--html".as_ref(), unwritable.as_ref()],
            format!("--html {}: ", unwritable.display()),
        ),
        (
            &[
                "--parse-only".as_ref(),
                "--html".as_ref(),
                writable.as_ref(),
            ],
            "--html: --parse-only makes no report".to_string(),
        ),
    ];
    for (args, expected) in table {
        let out = fastiam()
            .args(["replay", "--quiet"])
            .args(args)
            .arg(corpus("replay/logs"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{args:?}: no report, the replay did not run"
        );
    }
}

/// Every evaluated record is in one hour of the timeline or counted untimed, and in one
/// service, for CloudTrail records and Huawei CTS traces alike (whose `time` is epoch
/// milliseconds).
#[test]
fn timeline_and_services_account_for_every_evaluated_record() {
    for (logs, timed_at_least) in [
        (corpus("replay/logs"), 698 - 4),
        (corpus("replay/huawei/traces"), 20),
    ] {
        let summary = replay_json(&[logs.as_ref()]);
        let total = |c: &Value| -> u64 {
            ["allowed", "explicit_deny", "implicit_deny", "depends_on"]
                .iter()
                .map(|k| c[k].as_u64().unwrap())
                .sum()
        };
        let evaluated = total(&summary["all"]);
        let hours: Vec<&Value> = summary["by_hour"].as_array().unwrap().iter().collect();
        let timed: u64 = hours.iter().map(|h| total(&h["counts"])).sum();
        let untimed = summary["untimed"].as_u64().unwrap();
        assert_eq!(timed + untimed, evaluated, "{}", logs.display());
        assert!(timed >= timed_at_least, "{}: {timed} timed", logs.display());
        let hour_names: Vec<&str> = hours.iter().map(|h| h["hour"].as_str().unwrap()).collect();
        assert!(hour_names.windows(2).all(|w| w[0] < w[1]), "{hour_names:?}");
        assert!(
            hour_names.iter().all(|h| h.ends_with(":00:00Z")),
            "{hour_names:?}"
        );
        let services = summary["by_service"].as_object().unwrap();
        assert_eq!(services.values().map(total).sum::<u64>(), evaluated);
    }
}
