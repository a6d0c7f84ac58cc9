//! Latencies in nanoseconds in log-linear buckets, as HdrHistogram keeps them: exact below
//! 256 ns, then 128 buckets per power of two, so every recorded value is known within 0.8%.
//! Recording is an index computation and an increment; one histogram per connection task,
//! merged at the end.

/// Buckets per power of two above the exact range.
const SUB_BUCKETS: u64 = 128;
const SUB_BITS: u32 = SUB_BUCKETS.trailing_zeros();
/// Enough buckets for any `u64`.
const BUCKETS: usize = 128 * 58;

pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

fn index(value: u64) -> usize {
    if value < 2 * SUB_BUCKETS {
        return usize::try_from(value).unwrap_or_default();
    }
    let shift = value.ilog2() - SUB_BITS;
    // (value >> shift) lies in [SUB_BUCKETS, 2 * SUB_BUCKETS).
    usize::try_from(u64::from(shift) * SUB_BUCKETS + (value >> shift)).unwrap_or(BUCKETS - 1)
}

/// The middle of the values bucket `index` holds.
fn value_of(index: usize) -> u64 {
    let index = index as u64;
    if index < 2 * SUB_BUCKETS {
        return index;
    }
    let shift = index / SUB_BUCKETS - 1;
    let low = (index % SUB_BUCKETS + SUB_BUCKETS) << shift;
    low + (1 << shift) / 2
}

impl Histogram {
    pub fn new() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }

    pub fn record(&mut self, nanos: u64) {
        self.counts[index(nanos)] += 1;
        self.total += 1;
    }

    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
    }

    /// The value at quantile `q` (0..=1) in nanoseconds; 0 when nothing was recorded.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return value_of(i);
            }
        }
        value_of(BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::{Histogram, index, value_of};

    #[test]
    fn buckets_are_within_one_percent() {
        for value in [
            0,
            1,
            255,
            256,
            257,
            1_000,
            123_456,
            9_999_999,
            5_000_000_000,
        ] {
            let back = value_of(index(value));
            let error = back.abs_diff(value);
            assert!(error * 100 <= value, "{value} -> {back}");
        }
        assert!(index(u64::MAX) < super::BUCKETS);
    }

    #[test]
    fn quantiles_of_a_uniform_range() {
        let mut h = Histogram::new();
        for value in 1..=10_000 {
            h.record(value * 1_000);
        }
        let p50 = h.quantile(0.5);
        let p99 = h.quantile(0.99);
        assert!(p50.abs_diff(5_000_000) < 50_000, "{p50}");
        assert!(p99.abs_diff(9_900_000) < 99_000, "{p99}");
        assert_eq!(Histogram::new().quantile(0.5), 0);
    }
}
