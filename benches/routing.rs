//! Routing at scale (issue 3, figure b): 100,000 expense claims through
//! `examples/expense/expense.flow` against a directory of 100,000 employees,
//! each claim created and pushed to the archive by whoever is pending
//! (department approval by batch, finance by scoped role or amount, the
//! general manager above 10,000, the cashiers' countersign). Reports the
//! directory build, requests and actions per second, and peak memory.
//!
//! `cargo bench --bench routing` (`-- 20000` for fewer requests, `-- no-script` without the
//! ledger script the payment node runs). Not divan:
//! it is one long run, and peak memory only means something for a whole run.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Instant;

use flowc::check::{check_paths, FsLoader};
use flowc::org::{Department, DirectoryFile, Employee, MemoryDirectory, Project, RoleGrant, RoleScope, Subcompany};
use flowc::runtime::compiled::Compiled;
use flowc::runtime::request::{Action, ActionKind, FormInput, NewRequest, Runtime};
use flowc::runtime::values::dates::DateTime;

const EMPLOYEES: usize = 100_000;
const PER_DEPARTMENT: usize = 100;

fn main() {
    let requests: usize = std::env::args().skip(1).find_map(|argument| argument.parse().ok()).unwrap_or(100_000);

    let started = Instant::now();
    let directory = MemoryDirectory::from_records(directory_records()).expect("a valid directory");
    let directory_time = started.elapsed();

    // `-- no-script`: the same workflow without its ledger script, to see what routing alone costs.
    let without_script = std::env::args().any(|argument| argument == "no-script");
    let analysis = if without_script {
        let text = std::fs::read_to_string("examples/expense/expense.flow").expect("the example");
        let text: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("script "))
            .map(|line| format!("{line}\n"))
            .collect();
        flowc::check::check_source("examples/expense/expense.flow", &text)
    } else {
        check_paths(&["examples/expense/expense.flow".into()], &FsLoader)
    };
    assert_eq!(analysis.error_count(), 0);
    let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
    let runtime = Runtime::new(&compiled, &directory);
    let workflow = compiled.workflow_index(Some("费用报销")).expect("workflow");
    let now = DateTime::parse("2026-11-28T09:00:00+08:00").expect("now");

    let started = Instant::now();
    let (mut actions, mut archived) = (0usize, 0usize);
    for number in 0..requests {
        let creator = format!("E{:06}", 1 + (number * 7919) % EMPLOYEES);
        let new = claim(&creator, number);
        let (mut request, _) = runtime.create(workflow, &new, now).expect("created");
        for _ in 0..12 {
            if request.archived {
                archived += 1;
                break;
            }
            let by = request.pending[0].clone();
            let node = &compiled.program.workflows[workflow].nodes[request.node].name;
            let set = (node == "财务审核").then(|| FormInput::Text(r#"{"财务意见": "票据齐全"}"#.into()));
            let action = Action {
                by,
                kind: ActionKind::Submit,
                opinion: Some("同意".into()),
                set,
                to: Vec::new(),
                node: None,
                at: None,
                request: None,
            };
            let (next, _) = runtime.apply(&request, &action, now).unwrap_or_else(|error| panic!("{number}: {error}"));
            request = next;
            actions += 1;
        }
    }
    let routing_time = started.elapsed();
    assert_eq!(archived, requests, "every claim reaches the archive");

    let seconds = routing_time.as_secs_f64();
    println!("directory: {EMPLOYEES} employees indexed in {:.0} ms", directory_time.as_secs_f64() * 1000.0);
    println!(
        "routing: {requests} requests ({actions} actions) in {seconds:.2} s = {:.0} requests/s, {:.0} actions/s, {:.1} µs/action",
        requests as f64 / seconds,
        actions as f64 / seconds,
        seconds * 1e6 / actions as f64
    );
    println!("peak memory (VmHWM): {}", peak_memory());
}

/// Claims of every route: small ones (会计 of the creator's department),
/// large ones (财务经理), some above 10,000 (总经理), some with a project
/// (its manager approves first).
fn claim(creator: &str, number: usize) -> NewRequest {
    let price = match number % 4 {
        0 => "320.50",
        1 => "2890.00",
        2 => "6400.00",
        _ => "12800.00",
    };
    let project = if number.is_multiple_of(10) { r#""项目": "P1","# } else { "" };
    let form = format!(
        r#"{{ "日期": "2026-11-20", "类别": "差旅", {project} "发票": ["发票.pdf"],
             "明细": [ {{ "摘要": "机票", "数量": 1, "单价": "{price}", "张数": 1 }},
                       {{ "摘要": "酒店", "数量": 2, "单价": "188.00", "张数": 2 }} ] }}"#
    );
    NewRequest {
        workflow: None,
        creator: creator.to_owned(),
        form: FormInput::Fields(serde_json::from_str(&form).expect("form")),
        sequence: None,
        started_by: None,
    }
}

/// 1,000 departments of 100 in 10 subcompanies; the first of each
/// department heads it and manages the rest; one accountant per department
/// (scoped to it), finance managers, cashiers and the general manager.
pub fn directory_records() -> DirectoryFile {
    let departments = EMPLOYEES / PER_DEPARTMENT;
    let mut records = DirectoryFile::default();
    for subcompany in 0..10 {
        records.subcompanies.push(Subcompany { id: format!("S{subcompany}"), name: format!("分部{subcompany}") });
    }
    for department in 0..departments {
        records.departments.push(Department {
            id: format!("D{department:04}"),
            name: format!("部门{department}"),
            subcompany: format!("S{}", department % 10),
            parent: None,
            head: Some(employee_id(department * PER_DEPARTMENT)),
        });
    }
    for index in 0..EMPLOYEES {
        let department = index / PER_DEPARTMENT;
        let head = department * PER_DEPARTMENT;
        let mut roles = Vec::new();
        match index % PER_DEPARTMENT {
            1 => roles.push(RoleGrant {
                role: "会计".into(),
                scope: Some(RoleScope::Department(format!("D{department:04}"))),
            }),
            2 if department < 3 => roles.push(RoleGrant { role: "财务经理".into(), scope: None }),
            3 if department < 2 => roles.push(RoleGrant { role: "出纳".into(), scope: None }),
            _ => {}
        }
        if index == 0 {
            roles.push(RoleGrant { role: "总经理".into(), scope: None });
        }
        records.employees.push(Employee {
            id: employee_id(index),
            name: format!("员工{index}"),
            department: format!("D{department:04}"),
            manager: (index != head).then(|| employee_id(head)).or_else(|| (index != 0).then(|| employee_id(0))),
            security: 10 + (index % 50) as i64,
            roles,
        });
    }
    records.projects.push(Project {
        id: "P1".into(),
        name: "新厂房".into(),
        manager: employee_id(500),
        members: vec![employee_id(501)],
    });
    records
}

fn employee_id(index: usize) -> String {
    format!("E{:06}", index + 1)
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status.lines().find(|line| line.starts_with("VmHWM")).map(|line| line.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into())
}
