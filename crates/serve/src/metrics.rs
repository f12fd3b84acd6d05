//! `/metrics` in the Prometheus text format: requests by workflow and status (read from the
//! database, so every server of a shared database reports the same), and this server's actions
//! by workflow, action and outcome with their latency.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    /// Observations at or under each bucket's bound (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    actions: Mutex<BTreeMap<(String, String, &'static str), Series>>,
}

impl Metrics {
    pub fn action(&self, workflow: &str, action: &str, outcome: &'static str, took: Duration) {
        let Ok(mut actions) = self.actions.lock() else { return };
        let series = actions.entry((workflow.to_owned(), action.to_owned(), outcome)).or_default();
        let seconds = took.as_secs_f64();
        series.count += 1;
        series.sum += seconds;
        if let Some(index) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            if let Some(bucket) = series.buckets.get_mut(index) {
                *bucket += 1;
            }
        }
    }

    pub fn render(&self, requests: &[(String, String, i64)]) -> String {
        let mut text = String::new();
        text.push_str("# HELP flowc_requests Requests in the database, by workflow and status.\n");
        text.push_str("# TYPE flowc_requests gauge\n");
        for (workflow, status, count) in requests {
            let _ = writeln!(
                text,
                "flowc_requests{{workflow=\"{}\",status=\"{}\"}} {count}",
                label(workflow),
                label(status)
            );
        }
        text.push_str("# HELP flowc_action_seconds Actions handled by this server (create included), by outcome.\n");
        text.push_str("# TYPE flowc_action_seconds histogram\n");
        let Ok(actions) = self.actions.lock() else { return text };
        for ((workflow, action, outcome), series) in actions.iter() {
            let labels = format!("workflow=\"{}\",action=\"{}\",outcome=\"{outcome}\"", label(workflow), label(action));
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(series.buckets.iter()) {
                cumulative += count;
                let _ = writeln!(text, "flowc_action_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(text, "flowc_action_seconds_bucket{{{labels},le=\"+Inf\"}} {}", series.count);
            let _ = writeln!(text, "flowc_action_seconds_sum{{{labels}}} {}", series.sum);
            let _ = writeln!(text, "flowc_action_seconds_count{{{labels}}} {}", series.count);
        }
        text
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
