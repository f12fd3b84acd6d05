//! A host's own HR data behind the `Directory` trait (docs/runtime.md §5): a
//! directory that answers with owned records and plain id lists, found by
//! scanning (as rows fetched from a database would be), implementing only
//! the required methods. Every example runs through it to the same end,
//! step for step, as through the built-in `MemoryDirectory`.

use std::borrow::Cow;

use flowc::check::{check_paths, FsLoader};
use flowc::org::{
    scope_admits, Asset, Customer, Department, Directory, DirectoryFile, Document, Employee, MeetingRoom,
    MemoryDirectory, People, Project, Scope, Subcompany,
};
use flowc::runtime::compiled::Compiled;
use flowc::runtime::report::session::{report, RunFiles, Start};
use flowc::runtime::request::{Action, NewRequest, Runtime};
use flowc::runtime::values::dates::DateTime;

/// Records copied out of the memory directory; every answer is a fresh copy.
struct HostDirectory(DirectoryFile);

fn owned<T: Clone>(found: Option<&T>) -> Option<Cow<'_, T>> {
    found.cloned().map(Cow::Owned)
}

impl Directory for HostDirectory {
    fn employee(&self, id: &str) -> Option<Cow<'_, Employee>> {
        owned(self.0.employees.iter().find(|record| record.id == id))
    }
    fn department(&self, id: &str) -> Option<Cow<'_, Department>> {
        owned(self.0.departments.iter().find(|record| record.id == id))
    }
    fn subcompany(&self, id: &str) -> Option<Cow<'_, Subcompany>> {
        owned(self.0.subcompanies.iter().find(|record| record.id == id))
    }
    fn document(&self, id: &str) -> Option<Cow<'_, Document>> {
        owned(self.0.documents.iter().find(|record| record.id == id))
    }
    fn project(&self, id: &str) -> Option<Cow<'_, Project>> {
        owned(self.0.projects.iter().find(|record| record.id == id))
    }
    fn asset(&self, id: &str) -> Option<Cow<'_, Asset>> {
        owned(self.0.assets.iter().find(|record| record.id == id))
    }
    fn customer(&self, id: &str) -> Option<Cow<'_, Customer>> {
        owned(self.0.customers.iter().find(|record| record.id == id))
    }
    fn meeting_room(&self, id: &str) -> Option<Cow<'_, MeetingRoom>> {
        owned(self.0.meeting_rooms.iter().find(|record| record.id == id))
    }
    fn everyone(&self) -> People<'_> {
        People::from(self.0.employees.iter().map(|employee| employee.id.clone()).collect::<Vec<_>>())
    }
    fn members_of_department(&self, department: &str) -> People<'_> {
        let ids = self.0.employees.iter().filter(|employee| employee.department == department);
        People::from(ids.map(|employee| employee.id.clone()).collect::<Vec<_>>())
    }
    fn members_of_subcompany(&self, subcompany: &str) -> People<'_> {
        let in_subcompany = |employee: &&Employee| {
            self.0.departments.iter().any(|record| record.id == employee.department && record.subcompany == subcompany)
        };
        People::from(
            self.0.employees.iter().filter(in_subcompany).map(|employee| employee.id.clone()).collect::<Vec<_>>(),
        )
    }
    fn subordinates_of(&self, manager: &str) -> People<'_> {
        let ids = self.0.employees.iter().filter(|employee| employee.manager.as_deref() == Some(manager));
        People::from(ids.map(|employee| employee.id.clone()).collect::<Vec<_>>())
    }
    fn role_holders(&self, role: &str, scope: Option<Scope<'_>>) -> People<'_> {
        let department_subcompany = match scope {
            Some(Scope::Department(department)) => {
                self.0.departments.iter().find(|record| record.id == department).map(|record| record.subcompany.clone())
            }
            _ => None,
        };
        let holds = |employee: &&Employee| {
            employee.roles.iter().any(|grant| {
                grant.role == role && scope_admits(scope, department_subcompany.as_deref(), grant.scope.as_ref())
            })
        };
        People::from(self.0.employees.iter().filter(holds).map(|employee| employee.id.clone()).collect::<Vec<_>>())
    }
}

#[test]
fn every_example_runs_the_same_through_a_host_directory() {
    let now = DateTime::parse("2026-11-28T09:00:00+08:00").expect("now");
    let mut folders = 0;
    for example in ["expense", "leave", "contract", "complaint", "aftersales", "realestate"] {
        let folder = std::path::PathBuf::from("examples").join(example);
        let files = RunFiles::from_folder(&folder).expect("files");
        let analysis = check_paths(&[files.flow.clone().expect("flow")], &FsLoader);
        let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
        let memory = MemoryDirectory::load(files.org.as_deref().expect("org")).expect("org");
        let host = HostDirectory(memory.records().clone());
        let new: NewRequest =
            serde_json::from_str(&std::fs::read_to_string(folder.join("request.json")).expect("request"))
                .expect("json");
        let actions: Vec<Action> =
            serde_json::from_str(&std::fs::read_to_string(folder.join("actions.json")).expect("actions"))
                .expect("json");
        let workflow = compiled.workflow_index(new.workflow.as_deref()).expect("workflow");

        let mut reports = Vec::new();
        for directory in [&memory as &dyn Directory, &host] {
            let runtime = Runtime::new(&compiled, directory);
            let result = runtime.run(Start::New { workflow, request: &new }, &actions, now);
            assert!(result.error.is_none(), "{example}: {:?}", result.error);
            reports.push(serde_json::to_value(report(&runtime, &result, now, &analysis.sources)).expect("json"));
        }
        assert_eq!(reports[0], reports[1], "{example}: the host directory gives the same run");
        assert_eq!(reports[1]["status"], "archived", "{example}");
        folders += 1;
    }
    assert_eq!(folders, 6);
}
