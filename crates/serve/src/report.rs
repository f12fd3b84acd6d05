//! Reports over a service's database (the manual's opening page: which workflows are created
//! most, who handles most, how long nodes take, what waits longest): `GET /reports` and
//! `flowc report`, computed from the stored steps over a date range.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::AnyPool;

use crate::db;

#[derive(Serialize)]
pub struct Report {
    /// Requests created in the range, per workflow, by status.
    pub workflows: Vec<WorkflowCount>,
    /// Actions taken in the range, per person, most first.
    pub handlers: Vec<HandlerCount>,
    /// How long requests waited at each node before the action that moved or answered them.
    pub nodes: Vec<NodeDuration>,
    /// The pending requests untouched longest.
    pub waiting: Vec<Waiting>,
}

#[derive(Serialize)]
pub struct WorkflowCount {
    pub workflow: String,
    pub created: usize,
    pub pending: usize,
    pub archived: usize,
}

#[derive(Serialize)]
pub struct HandlerCount {
    pub person: String,
    pub actions: usize,
}

#[derive(Serialize)]
pub struct NodeDuration {
    pub workflow: String,
    pub node: String,
    pub actions: usize,
    pub median_seconds: f64,
    pub p90_seconds: f64,
}

#[derive(Serialize)]
pub struct Waiting {
    pub id: i64,
    pub workflow: String,
    pub title: String,
    pub node: String,
    pub waiting_seconds: f64,
}

/// The report over `[from_ms, to_ms)` (either end open).
pub async fn compute(pool: &AnyPool, from_ms: Option<i64>, to_ms: Option<i64>) -> Result<Report, sqlx::Error> {
    let rows = db::report_rows(pool, from_ms.unwrap_or(i64::MIN), to_ms.unwrap_or(i64::MAX), 20).await?;
    let mut workflows: BTreeMap<String, WorkflowCount> = BTreeMap::new();
    for (workflow, status) in rows.requests {
        let count = workflows.entry(workflow.clone()).or_insert(WorkflowCount {
            workflow,
            created: 0,
            pending: 0,
            archived: 0,
        });
        count.created += 1;
        match status.as_str() {
            "archived" => count.archived += 1,
            _ => count.pending += 1,
        }
    }
    let mut workflows: Vec<WorkflowCount> = workflows.into_values().collect();
    workflows.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.workflow.cmp(&b.workflow)));

    let mut handlers: BTreeMap<String, usize> = BTreeMap::new();
    let mut durations: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for (workflow, node, person, _action, waited_ms) in rows.steps {
        *handlers.entry(person).or_default() += 1;
        durations.entry((workflow, node)).or_default().push(waited_ms);
    }
    let mut handlers: Vec<HandlerCount> =
        handlers.into_iter().map(|(person, actions)| HandlerCount { person, actions }).collect();
    handlers.sort_by(|a, b| b.actions.cmp(&a.actions).then_with(|| a.person.cmp(&b.person)));
    let nodes = durations
        .into_iter()
        .map(|((workflow, node), mut waits)| {
            waits.sort_unstable();
            NodeDuration {
                workflow,
                node,
                actions: waits.len(),
                median_seconds: seconds(percentile(&waits, 50)),
                p90_seconds: seconds(percentile(&waits, 90)),
            }
        })
        .collect();
    let now = crate::clock::now_ms();
    let waiting = rows
        .waiting
        .into_iter()
        .map(|(id, workflow, title, node, updated_ms)| Waiting {
            id,
            workflow,
            title,
            node,
            waiting_seconds: seconds(now.saturating_sub(updated_ms)),
        })
        .collect();
    Ok(Report { workflows, handlers, nodes, waiting })
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], percent: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or(0)
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// The report as text, for `flowc report`.
pub fn to_text(report: &Report) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    text.push_str("Requests created, per workflow\n");
    for count in &report.workflows {
        let _ = writeln!(
            text,
            "  {:<24} {:>6} created  {:>6} pending  {:>6} archived",
            count.workflow, count.created, count.pending, count.archived
        );
    }
    text.push_str("\nActions, per person\n");
    for handler in &report.handlers {
        let _ = writeln!(text, "  {:<24} {:>6}", handler.person, handler.actions);
    }
    text.push_str("\nTime at each node before its action (median, p90)\n");
    for node in &report.nodes {
        let _ = writeln!(
            text,
            "  {:<24} {:<16} {:>6} actions  {:>10.1} s  {:>10.1} s",
            node.workflow, node.node, node.actions, node.median_seconds, node.p90_seconds
        );
    }
    text.push_str("\nWaiting longest\n");
    for waiting in &report.waiting {
        let _ = writeln!(
            text,
            "  #{:<6} {:<24} at {:<16} {:>10.0} s  {}",
            waiting.id, waiting.workflow, waiting.node, waiting.waiting_seconds, waiting.title
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&values, 50), 5);
        assert_eq!(percentile(&values, 90), 9);
        assert_eq!(percentile(&[7], 90), 7);
        assert_eq!(percentile(&[], 50), 0);
    }
}
