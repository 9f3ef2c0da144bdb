//! Statistics of a row, and the comparison of two rows.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::Summary;

/// Statistics of a set of samples (or of a recorded summary, where only the
/// mean, relative stddev and perhaps n are known).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Stats {
    pub n: Option<usize>,
    pub mean: f64,
    pub stddev: f64,
    /// Relative standard deviation, percent of the mean.
    pub rsd: f64,
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// The decimals the samples are written with (at most 9): a spread
/// smaller than half their last digit is rounding, not spread.
fn decimals(samples: &[f64]) -> i32 {
    (0..=9)
        .find(|&d| {
            let scale = 10f64.powi(d);
            samples
                .iter()
                .all(|x| ((x * scale).round() / scale - x).abs() <= x.abs() * 1e-12)
        })
        .unwrap_or(9)
}

impl Stats {
    /// Statistics of samples; the standard deviation is the sample one
    /// (n-1), shown to the precision the samples have: identical samples
    /// have none, not a float's remainder of it.
    pub fn of(samples: &[f64]) -> Stats {
        let n = samples.len();
        let mean = samples.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        let mut stddev = var.sqrt();
        if stddev < 0.5 * 10f64.powi(-decimals(samples)) {
            stddev = 0.0;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Stats {
            n: Some(n),
            mean,
            stddev,
            rsd: if mean != 0.0 {
                stddev / mean.abs() * 100.0
            } else {
                0.0
            },
            median: Some(median),
            min: sorted.first().copied(),
            max: sorted.last().copied(),
        }
    }

    pub fn from_summary(s: &Summary) -> Stats {
        Stats {
            n: s.n.map(|n| n as usize),
            mean: s.mean,
            stddev: s.mean.abs() * s.rsd / 100.0,
            rsd: s.rsd,
            median: None,
            min: None,
            max: None,
        }
    }
}

/// How row B compares with row A.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// (B - A) / A, in percent.
    pub change: f64,
    /// Welch's t-test two-sided p-value, when both rows know n >= 2.
    pub p_value: Option<f64>,
    /// p < 0.05.
    pub significant: Option<bool>,
}

/// Compare two rows' statistics with Welch's t-test.
pub fn compare(a: &Stats, b: &Stats) -> Comparison {
    let change = if a.mean != 0.0 {
        (b.mean - a.mean) / a.mean.abs() * 100.0
    } else {
        0.0
    };
    let p_value = match (a.n, b.n) {
        (Some(na), Some(nb)) if na >= 2 && nb >= 2 => welch(a, na as f64, b, nb as f64),
        _ => None,
    };
    Comparison {
        change,
        p_value,
        significant: p_value.map(|p| p < 0.05),
    }
}

fn welch(a: &Stats, na: f64, b: &Stats, nb: f64) -> Option<f64> {
    let va = a.stddev.powi(2) / na;
    let vb = b.stddev.powi(2) / nb;
    let se = (va + vb).sqrt();
    if se == 0.0 {
        return Some(if a.mean == b.mean { 1.0 } else { 0.0 });
    }
    let t = (a.mean - b.mean) / se;
    let df = (va + vb).powi(2) / (va.powi(2) / (na - 1.0) + vb.powi(2) / (nb - 1.0));
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    Some(2.0 * (1.0 - dist.cdf(t.abs())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples_have_no_spread() {
        let s = Stats::of(&[5.795, 5.795, 5.795]);
        assert_eq!((s.stddev, s.rsd), (0.0, 0.0));
        let s = Stats::of(&[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
        assert_eq!(s.rsd, 0.0);
        assert!(Stats::of(&[5.5, 6.0, 5.9]).rsd > 4.0);
    }

    #[test]
    fn basic_statistics() {
        let s = Stats::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        assert_eq!(s.median, Some(2.5));
        assert!((s.stddev - 1.290_994).abs() < 1e-6);
        assert!((s.rsd - 51.639_778).abs() < 1e-5);
        assert_eq!((s.min, s.max, s.n), (Some(1.0), Some(4.0), Some(4)));
    }

    #[test]
    fn welch_tells_apart_clearly_different_rows() {
        let a = Stats::of(&[10.0, 10.2, 9.9, 10.1, 10.0]);
        let b = Stats::of(&[5.0, 5.2, 4.9, 5.1, 5.0]);
        let c = compare(&a, &b);
        assert!((c.change + 50.0).abs() < 0.5);
        assert_eq!(c.significant, Some(true));
        let same = compare(&a, &Stats::of(&[10.1, 9.9, 10.0, 10.2, 10.0]));
        assert_eq!(same.significant, Some(false));
        let no_n = Stats::from_summary(&Summary {
            mean: 10.8,
            rsd: 2.8,
            n: None,
        });
        assert_eq!(compare(&no_n, &b).p_value, None);
    }
}
