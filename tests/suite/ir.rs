//! Lowering to the IR: every example and ok case lowers, and the IR of
//! `tests/data/ir/*.flow` is snapshot-tested (reviewed JSON).

use flowc::check::{check_paths, FsLoader};
use flowc::ir;

fn lower(path: &std::path::Path) -> ir::Program {
    let analysis = check_paths(&[path.to_path_buf()], &FsLoader);
    assert_eq!(analysis.error_count(), 0, "{} has errors", path.display());
    ir::lower(&analysis).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn every_example_and_ok_case_lowers() {
    let mut files = super::flow_files("tests/data/check/ok");
    files.extend(super::example_files());
    for path in files {
        let program = lower(&path);
        assert!(
            !program.forms.is_empty() || !program.functions.is_empty() || !program.constants.is_empty(),
            "{}",
            path.display()
        );
    }
}

#[test]
fn formulas_come_in_dependency_order_and_batches_sorted() {
    let program = lower(std::path::Path::new("tests/data/ir/small.flow"));
    let form = &program.forms[0];
    let position = |name: &str| {
        let field = form.fields.iter().position(|field| field.name == name).expect("field");
        form.formula_order.iter().position(|&index| index == field).expect("computed")
    };
    assert!(position("金额") < position("合计"));
    assert!(position("合计") < position("含税"));
    assert!(position("含税") < position("大写"));
    let approval = &program.workflows[0].nodes[1];
    assert_eq!(approval.batches.iter().map(|batch| batch.number).collect::<Vec<_>>(), vec![1, 2]);
    // `editable 明细` opens the table and its input columns, not the computed 金额.
    let create = &program.workflows[0].nodes[0];
    let names: Vec<&str> = create.editable.iter().map(|&index| form.fields[index].name.as_str()).collect();
    assert_eq!(names, vec!["数量", "单价"]);
    assert_eq!(create.editable_tables, vec![0]);
}

#[test]
fn ir_snapshots() {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::glob!(super::repo_root().join("tests/data/ir"), "*.flow", |path| {
            let relative = path.strip_prefix(super::repo_root()).unwrap_or(path).to_path_buf();
            let program = lower(&relative);
            insta::assert_json_snapshot!(program);
        });
    });
}

#[test]
fn forks_know_their_merges_and_nodes_their_branches() {
    let program = lower(std::path::Path::new("tests/data/ir/forks.flow"));
    let workflow = &program.workflows[0];
    let index = |name: &str| workflow.nodes.iter().position(|node| node.name == name).expect("node");
    let forks: Vec<(usize, &[String], usize)> =
        workflow.forks.iter().map(|fork| (fork.node, fork.branches.as_slice(), fork.merge)).collect();
    assert_eq!(
        forks,
        vec![
            (index("申请"), &["物流".to_string(), "库房".to_string()][..], index("汇合")),
            (index("库房出库"), &["质检".to_string(), "包装".to_string()][..], index("库房汇合")),
        ]
    );
    let path =
        |name: &str| workflow.nodes[index(name)].branch.iter().map(|step| (step.fork, step.branch)).collect::<Vec<_>>();
    assert_eq!(path("申请"), vec![]);
    assert_eq!(path("物流发运"), vec![(0, 0)]);
    assert_eq!(path("库房出库"), vec![(0, 1)]);
    assert_eq!(path("质检确认"), vec![(0, 1), (1, 0)]);
    assert_eq!(path("库房汇合"), vec![(0, 1)]);
    assert_eq!(path("汇合"), vec![]);
    assert_eq!(workflow.nodes[index("申请")].fork, Some(0));
    assert_eq!(workflow.nodes[index("库房出库")].fork, Some(1));
    let merge = |name: &str| workflow.nodes[index(name)].merge.clone().expect("a merge");
    assert_eq!(merge("汇合"), ir::MergeRule { fork: 0, wait: ir::Wait::Count(1) });
    assert_eq!(merge("库房汇合"), ir::MergeRule { fork: 1, wait: ir::Wait::Branches(vec![0]) });
}
