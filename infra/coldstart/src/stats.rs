//! Order statistics over the per-run samples.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Mean of the two middle values when the count is even.
    pub median: f64,
    /// Nearest rank: the smallest value with at least 90 % of the samples at or below it.
    pub p90: f64,
    pub min: f64,
    pub max: f64,
}

pub fn summarize(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    // ceil(0.9 n) computed in integers so 20 samples give rank 18, not 19 from float error.
    let rank = (9 * n).div_ceil(10).max(1);
    Some(Summary {
        median,
        p90: sorted[rank - 1],
        min: sorted[0],
        max: sorted[n - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_samples() {
        let values: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        let s = summarize(&values).unwrap();
        assert_eq!((s.median, s.p90, s.min, s.max), (10.5, 18.0, 1.0, 20.0));
    }

    #[test]
    fn odd_count_and_single_value() {
        let s = summarize(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.p90), (2.0, 3.0));
        let one = summarize(&[7.0]).unwrap();
        assert_eq!(
            (one.median, one.p90, one.min, one.max),
            (7.0, 7.0, 7.0, 7.0)
        );
        assert!(summarize(&[]).is_none());
    }
}
