//! Plain-text tables of a bench, in the shape kernel cover letters use:
//! label, mean with unit, and the relative standard deviation.

use super::{Bench, BenchError, Stats};

/// Round to `digits` significant digits and drop trailing zeros.
pub fn sig(x: f64, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// How a row's numbers are written: as recorded for a summary, rounded to
/// four significant digits when computed from samples.
fn cells(stats: &Stats, from_samples: bool) -> (String, String) {
    if from_samples {
        (sig(stats.mean, 4), sig(stats.rsd, 2))
    } else {
        (format!("{}", stats.mean), format!("{}", stats.rsd))
    }
}

/// Render `bench` as an aligned table. `ascii` writes `+-` for `±`, for mails
/// that declare no UTF-8 charset.
pub fn render(name: &str, bench: &Bench, ascii: bool) -> Result<String, BenchError> {
    if bench.rows.is_empty() {
        return Err(BenchError::Empty(name.to_string()));
    }
    let pm = if ascii { "+-" } else { "\u{b1}" };
    let mut rows: Vec<[String; 3]> = vec![[bench.label.clone(), "mean".into(), "stddev".into()]];
    for r in &bench.rows {
        let Some(st) = r.stats() else {
            return Err(BenchError::Malformed {
                name: name.to_string(),
                msg: format!("row {:?} has neither samples nor a summary", r.label),
            });
        };
        let (mean, rsd) = cells(&st, !r.samples.is_empty());
        // Numbers someone else posted are shown as theirs.
        let label = match r.by.as_deref() {
            Some(by) => {
                let who = crate::model::Person::parse(by)
                    .map(|p| p.name)
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| by.to_string());
                format!("{} ({who}'s)", r.label)
            }
            None => r.label.clone(),
        };
        rows.push([
            label,
            format!("{mean}{}", bench.unit),
            format!("{pm}{rsd}%"),
        ]);
    }
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::new();
    for r in &rows {
        let line = format!("{:<w0$}  {:>w1$}  {:>w2$}", r[0], r[1], r[2]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// The labels measured in both versions as a table: each version's mean,
/// the change, and whether Welch's t-test finds it significant.
pub fn render_across(bench: &Bench, old: u32, new: u32) -> String {
    let across = bench.across(old, new);
    let mut rows: Vec<[String; 5]> = vec![[
        bench.label.clone(),
        format!("v{old}"),
        format!("v{new}"),
        "change".into(),
        "Welch's t-test".into(),
    ]];
    for a in &across {
        let verdict = match (a.comparison.p_value, a.comparison.significant) {
            (Some(p), Some(true)) if p < 0.001 => "p < 0.001".into(),
            (Some(p), Some(true)) => format!("p = {}", sig(p, 2)),
            (Some(p), _) => format!("p = {}, not significant", sig(p, 2)),
            _ => "n unknown".into(),
        };
        let change = a.comparison.change;
        rows.push([
            a.label.clone(),
            format!("{}{}", sig(a.old.mean, 4), bench.unit),
            format!("{}{}", sig(a.new.mean, 4), bench.unit),
            format!(
                "{}{}%",
                if change >= 0.0 { "+" } else { "" },
                sig(change, 3)
            ),
            verdict,
        ]);
    }
    if across.is_empty() {
        return format!("no {} measured in both v{old} and v{new}\n", bench.label);
    }
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let w: Vec<usize> = (0..5).map(width).collect();
    let mut out = String::new();
    for r in &rows {
        let line = format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::Summary;

    #[test]
    fn seed_shape() {
        let mut b = Bench::new("free() of a 320G malloc", "s", "kernel");
        b.row_mut("v4.10").summary = Some(Summary {
            mean: 10.8,
            rsd: 2.8,
            n: None,
        });
        b.row_mut("this patch (default setting)").summary = Some(Summary {
            mean: 5.795,
            rsd: 5.8,
            n: None,
        });
        let t = render("free-320g", &b, false).unwrap();
        assert_eq!(
            t,
            "kernel                          mean  stddev\n\
             v4.10                          10.8s   \u{b1}2.8%\n\
             this patch (default setting)  5.795s   \u{b1}5.8%\n"
        );
        assert!(render("free-320g", &b, true).unwrap().contains("+-2.8%"));
    }

    #[test]
    fn computed_rows_are_rounded() {
        let mut b = Bench::new("t", "s", "size");
        b.row_mut("1G").samples = vec![0.123_456, 0.123_456, 0.130_001];
        let t = render("t", &b, true).unwrap();
        assert!(t.contains("1G    0.1256s"), "{t}");
        assert_eq!(sig(0.16, 2), "0.16");
        assert_eq!(sig(123.456, 4), "123.5");
    }
}
