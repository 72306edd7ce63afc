//! Latency samples and the result rows every benchmark reports.

use std::time::Duration;

/// Latencies of one run, in microseconds, plus how long the run took.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub micros: Vec<u32>,
    pub errors: u64,
    pub elapsed: Duration,
}

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.micros
            .push(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
    }

    pub fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.errors += other.errors;
    }

    pub fn count(&self) -> usize {
        self.micros.len()
    }

    /// Successful operations per second of wall time.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.micros.len() as f64 / secs
        } else {
            0.0
        }
    }

    /// The `p`-th percentile (0–100) in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.micros.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.micros.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        f64::from(sorted[rank.min(sorted.len() - 1)]) / 1000.0
    }
}

/// One line of the results table: a measured path, its baseline, and how they compare.
#[derive(Debug, Clone)]
pub struct Row {
    pub group: &'static str,
    pub name: String,
    /// The main number, e.g. "12 345 req/s".
    pub value: String,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Extra facts (per-core rate, errors, counts).
    pub note: String,
    /// `real / baseline` where this row is a real path measured against a baseline.
    pub ratio: Option<f64>,
    /// What the issue asks for, in words, and whether this run met it.
    pub target: Option<(String, bool)>,
}

impl Row {
    pub fn new(group: &'static str, name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            group,
            name: name.into(),
            value: value.into(),
            p50_ms: None,
            p99_ms: None,
            note: String::new(),
            ratio: None,
            target: None,
        }
    }

    pub fn latency(mut self, s: &Samples) -> Self {
        self.p50_ms = Some(s.percentile_ms(50.0));
        self.p99_ms = Some(s.percentile_ms(99.0));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = Some(ratio);
        self
    }

    pub fn target(mut self, what: impl Into<String>, met: bool) -> Self {
        self.target = Some((what.into(), met));
        self
    }
}

/// A number with thin grouping, e.g. `12 345`.
pub fn grouped(n: f64) -> String {
    let n = n.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn ms(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.2}"),
        _ => "–".into(),
    }
}

/// The results as a Markdown table (what `docs/benchmarks.md` shows).
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| group | path | result | p50 ms | p99 ms | ratio | target | notes |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let ratio = r
            .ratio
            .map(|x| format!("{:.0} %", x * 100.0))
            .unwrap_or_else(|| "–".into());
        let target = match &r.target {
            Some((what, true)) => format!("met ({what})"),
            Some((what, false)) => format!("**unmet** ({what})"),
            None => "–".into(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.group,
            r.name,
            r.value,
            ms(r.p50_ms),
            ms(r.p99_ms),
            ratio,
            target,
            r.note
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_rate() {
        let mut s = Samples::default();
        for i in 1..=100 {
            s.push(Duration::from_micros(i * 1000));
        }
        s.elapsed = Duration::from_secs(2);
        assert_eq!(s.percentile_ms(50.0), 51.0);
        assert_eq!(s.percentile_ms(99.0), 99.0);
        assert_eq!(s.rate(), 50.0);
        assert_eq!(grouped(1234567.0), "1 234 567");
        assert_eq!(grouped(12.0), "12");
    }
}
