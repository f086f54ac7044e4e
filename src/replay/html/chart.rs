//! Inline SVG bar charts of a report: denied and uncertain calls over time and by service.
//!
//! Drawn here, as SVG text, so that the report is one file that opens anywhere without a
//! network (no chart library, no script). A bar's height (or length) is the number of
//! calls the policies would deny — explicitly or implicitly — plus those whose answer
//! depends on an unlogged key, stacked in that order; every bar has a `<title>` (the
//! browser's tooltip) with all four counts, allowed included.
//!
//! Time buckets are chosen so that at most [`MAX_BARS`] bars cover the logged period:
//! a five-minute slice of logs draws minutes, a day hours, a year weeks
//! ([`time_buckets`]).
//!
//! ```
//! use fastiam::replay::html::chart::{time_buckets, STEPS_MINUTES};
//! use fastiam::replay::report::{Counts, Timeline};
//! let mut t = Timeline::default();
//! // Two records 3 hours apart: minute buckets would need 181 bars; 5-minute ones 37.
//! let minute = 28_000_000;
//! t.minutes.insert(minute, Counts { allowed: 1, ..Counts::default() });
//! t.minutes.insert(minute + 180, Counts { explicit_deny: 1, ..Counts::default() });
//! let (step, buckets) = time_buckets(&t);
//! assert_eq!((step, buckets.len()), (300, 37));
//! assert_eq!(buckets.last().unwrap().1.explicit_deny, 1);
//! # let _ = STEPS_MINUTES;
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::primitives::date::format_utc;

use super::super::report::{Counts, Timeline};
use super::esc;

/// The most bars a time chart draws.
pub const MAX_BARS: i64 = 60;

/// Bucket sizes tried, in minutes, smallest first; beyond the last, whole multiples of it.
pub const STEPS_MINUTES: [i64; 14] = [
    1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10_080,
];

/// Colours of the stacked parts, with their legend names.
pub const PARTS: [(&str, &str); 4] = [
    ("explicitly denied", "#c0392b"),
    ("implicitly denied", "#e67e22"),
    ("depends on unlogged keys", "#d4ac0d"),
    ("allowed", "#bdc3c7"),
];

/// The stacked values of a bar: explicit, implicit, depends.
fn stack(c: &Counts) -> [u64; 3] {
    [c.explicit_deny, c.implicit_deny, c.depends_on]
}

fn tooltip(label: &str, c: &Counts) -> String {
    format!(
        "{label}: {} explicitly denied, {} implicitly denied, {} depend on unlogged keys, {} allowed",
        c.explicit_deny, c.implicit_deny, c.depends_on, c.allowed
    )
}

/// The bucket size in seconds and every bucket `(start in seconds, counts)` from the first
/// timed record to the last, empty ones included; empty when no record had a time.
pub fn time_buckets(t: &Timeline) -> (i64, Vec<(i64, Counts)>) {
    // Minutes when kept, else hours; both as (unit in minutes, map).
    let (unit, map): (i64, &BTreeMap<i64, Counts>) = if t.minutes_dropped || t.minutes.is_empty() {
        (60, &t.hours)
    } else {
        (1, &t.minutes)
    };
    let (Some(first), Some(last)) = (map.keys().next(), map.keys().next_back()) else {
        return (0, Vec::new());
    };
    let (first, last) = (first * unit, last * unit);
    let bars = |step: i64| last.div_euclid(step) - first.div_euclid(step) + 1;
    let step = STEPS_MINUTES
        .iter()
        .copied()
        .filter(|s| s % unit == 0)
        .find(|&s| bars(s) <= MAX_BARS)
        .unwrap_or_else(|| {
            let week = STEPS_MINUTES[STEPS_MINUTES.len() - 1];
            let mut weeks = bars(week).div_euclid(MAX_BARS).max(1);
            while bars(week * weeks) > MAX_BARS {
                weeks += 1;
            }
            week * weeks
        });
    let start = first.div_euclid(step);
    let len = usize::try_from(bars(step)).unwrap_or(0);
    let mut buckets: Vec<(i64, Counts)> = (0..len as i64)
        // Saturating: the first bucket of a time near the epoch's limits starts before them.
        .map(|i| ((start + i).saturating_mul(step * 60), Counts::default()))
        .collect();
    for (key, counts) in map {
        let i = (key * unit).div_euclid(step) - start;
        if let Some((_, c)) = usize::try_from(i).ok().and_then(|i| buckets.get_mut(i)) {
            c.allowed += counts.allowed;
            c.explicit_deny += counts.explicit_deny;
            c.implicit_deny += counts.implicit_deny;
            c.depends_on += counts.depends_on;
        }
    }
    (step * 60, buckets)
}

/// A bucket's label: its start, to the minute, or to the day for day-sized buckets.
fn time_label(start: i64, step: i64) -> String {
    let text = format_utc(start);
    if step % 86_400 == 0 {
        text[..10].to_string()
    } else {
        format!("{} {}", &text[5..10], &text[11..16])
    }
}

/// The y-axis top: `max` rounded up to 1, 2 or 5 times a power of ten.
fn nice_ceiling(max: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if m * p >= max.max(1) {
                return m * p;
            }
        }
        p = p.saturating_mul(10);
    }
}

/// Denied and uncertain calls over time, as an SVG, with the step in the caption; `None`
/// when no evaluated record had a time.
pub fn time_chart(t: &Timeline) -> Option<String> {
    let (step, buckets) = time_buckets(t);
    if buckets.is_empty() {
        return None;
    }
    let (w, h, left, top, bottom) = (1120.0, 240.0, 56.0, 12.0, 44.0);
    let plot_h = h - top - bottom;
    let plot_w = w - left - 12.0;
    let max = buckets
        .iter()
        .map(|(_, c)| stack(c).iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    let ceiling = nice_ceiling(max);
    let slot = plot_w / buckets.len() as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="denied calls over time" viewBox="0 0 {w} {h}" width="100%">"#
    );
    for tick in [0, ceiling / 2, ceiling] {
        let y = top + plot_h - plot_h * tick as f64 / ceiling as f64;
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{tick}</text>"##,
            left + plot_w,
            left - 6.0,
            y + 4.0
        );
    }
    let every = (buckets.len() / 8).max(1);
    for (i, (start, c)) in buckets.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let label = time_label(*start, step);
        let _ = write!(s, "<g><title>{}</title>", esc(&tooltip(&label, c)));
        // A transparent full-height target, so that empty buckets have a tooltip too.
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{top}" width="{bar_w:.1}" height="{plot_h}" fill="transparent"/>"#
        );
        let mut y = top + plot_h;
        for (value, (_, colour)) in stack(c).iter().zip(PARTS) {
            if *value == 0 {
                continue;
            }
            let bh = plot_h * *value as f64 / ceiling as f64;
            y -= bh;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{bh:.1}" fill="{colour}"/>"#
            );
        }
        s.push_str("</g>");
        if i % every == 0 {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle" class="tick">{}</text>"#,
                x + bar_w / 2.0,
                top + plot_h + 18.0,
                esc(&label)
            );
        }
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" x2="{}" y1="{}" y2="{}" stroke="#888"/></svg>"##,
        left + plot_w,
        top + plot_h,
        top + plot_h
    );
    let _ = write!(
        s,
        r#"<p class="caption">One bar per {} (UTC), from {} to {}.{}</p>"#,
        step_name(step),
        esc(&format_utc(buckets[0].0)),
        esc(&format_utc(
            buckets[buckets.len() - 1].0.saturating_add(step)
        )),
        if t.untimed > 0 {
            format!(" {} evaluated records had no readable time.", t.untimed)
        } else {
            String::new()
        }
    );
    Some(s)
}

fn step_name(secs: i64) -> String {
    match secs {
        s if s % 604_800 == 0 => plural(s / 604_800, "week"),
        s if s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s % 3600 == 0 => plural(s / 3600, "hour"),
        s => plural(s / 60, "minute"),
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        unit.to_string()
    } else {
        format!("{n} {unit}s")
    }
}

/// The most services a service chart draws.
pub const MAX_SERVICES: usize = 25;

/// Services by denied and uncertain calls, most first, as an SVG; `None` when no call was
/// denied or uncertain.
pub fn service_chart(by_service: &BTreeMap<String, Counts>) -> Option<String> {
    let mut rows: Vec<(&String, &Counts)> = by_service
        .iter()
        .filter(|(_, c)| stack(c).iter().sum::<u64>() > 0)
        .collect();
    if rows.is_empty() {
        return None;
    }
    let weight = |c: &Counts| stack(c).iter().sum::<u64>();
    rows.sort_by(|a, b| weight(b.1).cmp(&weight(a.1)).then(a.0.cmp(b.0)));
    let hidden = rows.len().saturating_sub(MAX_SERVICES);
    rows.truncate(MAX_SERVICES);
    let (w, row_h, left, right) = (1120.0, 24.0, 220.0, 300.0);
    let h = row_h * rows.len() as f64 + 8.0;
    let plot_w = w - left - right;
    let max = rows.iter().map(|(_, c)| weight(c)).max().unwrap_or(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="denied calls by service" viewBox="0 0 {w} {h}" width="100%">"#
    );
    for (i, (service, c)) in rows.iter().enumerate() {
        let y = 4.0 + row_h * i as f64;
        let _ = write!(s, "<g><title>{}</title>", esc(&tooltip(service, c)));
        let _ = write!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end" class="label">{}</text>"#,
            left - 8.0,
            y + 16.0,
            esc(service)
        );
        let mut x = left;
        for (value, (_, colour)) in stack(c).iter().zip(PARTS) {
            if *value == 0 {
                continue;
            }
            let bw = (plot_w * *value as f64 / max).max(2.0);
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{:.1}" width="{bw:.1}" height="{}" fill="{colour}"/>"#,
                y + 3.0,
                row_h - 6.0
            );
            x += bw;
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="label">{} denied, {} uncertain, of {} calls</text></g>"#,
            x + 8.0,
            y + 16.0,
            c.explicit_deny + c.implicit_deny,
            c.depends_on,
            c.total()
        );
    }
    s.push_str("</svg>");
    if hidden > 0 {
        let _ = write!(
            s,
            r#"<p class="caption">{hidden} more services with denied or uncertain calls are in the table below.</p>"#
        );
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(n: u64) -> Counts {
        Counts {
            explicit_deny: n,
            ..Counts::default()
        }
    }

    #[test]
    fn buckets_cover_the_period_in_at_most_max_bars() {
        // (span in minutes between the two records, expected step in seconds)
        let table = [
            (1, 60),
            (59, 60),
            (60, 120),
            (299, 300),
            (600, 900),
            (1439, 1800),
        ];
        for (span, step) in table {
            let mut t = Timeline::default();
            t.minutes.insert(1_000_000, denied(1));
            t.minutes.insert(1_000_000 + span, denied(2));
            let (got, buckets) = time_buckets(&t);
            assert_eq!(got, step, "span {span}");
            assert!(buckets.len() as i64 <= MAX_BARS, "span {span}");
            let total: u64 = buckets.iter().map(|(_, c)| c.explicit_deny).sum();
            assert_eq!(total, 3, "span {span}: no count lost");
            assert!(buckets[0].0 <= 60_000_000);
            assert!(buckets.last().unwrap().0 + step > (1_000_000 + span) * 60);
        }
    }

    #[test]
    fn hours_are_used_when_minutes_were_dropped() {
        let mut t = Timeline {
            minutes_dropped: true,
            ..Timeline::default()
        };
        // Two years of hours: weekly buckets are too many, so a multiple of a week.
        t.hours.insert(400_000, denied(1));
        t.hours.insert(400_000 + 2 * 365 * 24, denied(1));
        let (step, buckets) = time_buckets(&t);
        assert_eq!(step % 604_800, 0);
        assert!(buckets.len() as i64 <= MAX_BARS);
        assert_eq!(buckets.iter().map(|(_, c)| c.explicit_deny).sum::<u64>(), 2);
        // A few days of hours: 3-hour or 6-hour buckets, aligned to the hour.
        let mut t = Timeline::default();
        t.hours.insert(400_000, denied(1));
        t.hours.insert(400_100, denied(1));
        let (step, buckets) = time_buckets(&t);
        assert_eq!(step, 2 * 3600);
        assert_eq!(buckets.len(), 51);
    }

    #[test]
    fn times_at_the_limits_of_i64_draw_without_overflow() {
        for dropped in [false, true] {
            let mut t = Timeline {
                minutes_dropped: dropped,
                ..Timeline::default()
            };
            let map = if dropped {
                &mut t.hours
            } else {
                &mut t.minutes
            };
            let unit = if dropped { 3600 } else { 60 };
            map.insert(i64::MIN.div_euclid(unit), denied(1));
            map.insert(0, denied(1));
            map.insert(i64::MAX.div_euclid(unit), denied(1));
            let (_, buckets) = time_buckets(&t);
            assert!(buckets.len() as i64 <= MAX_BARS);
            assert_eq!(buckets.iter().map(|(_, c)| c.explicit_deny).sum::<u64>(), 3);
            assert!(time_chart(&t).unwrap().contains("One bar per"));
        }
    }

    #[test]
    fn no_time_no_chart() {
        assert_eq!(time_buckets(&Timeline::default()).1.len(), 0);
        assert!(time_chart(&Timeline::default()).is_none());
        assert!(service_chart(&BTreeMap::new()).is_none());
    }

    #[test]
    fn charts_escape_service_names_and_say_the_counts() {
        let mut by_service = BTreeMap::new();
        by_service.insert("<script>x".to_string(), denied(3));
        by_service.insert(
            "quiet".to_string(),
            Counts {
                allowed: 5,
                ..Counts::default()
            },
        );
        let svg = service_chart(&by_service).unwrap();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;x"));
        assert!(svg.contains("3 denied, 0 uncertain, of 3 calls"));
        assert!(
            !svg.contains("quiet"),
            "services with nothing denied are not drawn"
        );
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(16), 20);
        assert_eq!(nice_ceiling(200), 200);
    }
}
