//! The organisation directory (docs/runtime.md §2, docs/language.md §7): loading TOML and JSON, the
//! lookups and member lists, the role scoping rule, validation messages, and load time.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use flowc::org::{
    Contact, Customer, Department, Directory, DirectoryError, DirectoryFile, Document, Employee, MeetingRoom,
    MemoryDirectory, People, Project, RecordKind, Scope, Subcompany,
};

const DATA: &str = "tests/data/directory";

fn org() -> MemoryDirectory {
    MemoryDirectory::load(Path::new("tests/data/directory/org.toml")).expect("org.toml loads")
}

fn ids(people: People<'_>) -> Vec<String> {
    people.to_vec()
}

fn owned(value: Option<Cow<'_, str>>) -> Option<String> {
    value.map(Cow::into_owned)
}

fn load_error(file: &str) -> DirectoryError {
    match MemoryDirectory::load(&Path::new(DATA).join("bad").join(file)) {
        Ok(_) => panic!("{file} should not load"),
        Err(error) => error,
    }
}

#[test]
fn org_toml_and_org_json_load_to_the_same_directory() {
    let from_toml = org();
    let from_json = MemoryDirectory::load(Path::new("tests/data/directory/org.json")).expect("org.json loads");
    assert_eq!(from_toml, from_json);
    assert_eq!(from_toml.everyone().len(), 20);
    assert_eq!(from_toml.records().departments.len(), 8);
}

#[test]
fn records_survive_a_round_trip_through_json_and_toml() {
    let directory = org();
    let json = serde_json::to_string(directory.records()).expect("serializes to JSON");
    assert_eq!(MemoryDirectory::from_json_str(&json).expect("JSON reloads"), directory);
    let toml = toml::to_string(directory.records()).expect("serializes to TOML");
    assert_eq!(MemoryDirectory::from_toml_str(&toml).expect("TOML reloads"), directory);
}

#[test]
fn an_empty_file_is_an_empty_directory() {
    let directory = MemoryDirectory::from_toml_str("").expect("empty TOML loads");
    assert!(directory.everyone().is_empty());
    assert_eq!(directory.records(), &DirectoryFile::default());
    let directory = MemoryDirectory::from_json_str("{}").expect("empty JSON loads");
    assert!(directory.employee("E0001").is_none());
}

#[test]
fn employee_members() {
    let directory = org();
    let employee = directory.employee("E0001").expect("E0001 exists");
    assert_eq!(employee.name, "马建国");
    assert!(matches!(employee, Cow::Borrowed(_)), "the memory directory lends its records");
    assert_eq!(owned(directory.manager_of("E0001")), None);
    assert_eq!(owned(directory.manager_of("E0101")).as_deref(), Some("E0102"));
    assert_eq!(owned(directory.department_of("E0101")).as_deref(), Some("FIN"));
    assert_eq!(owned(directory.subcompany_of_employee("E0101")).as_deref(), Some("HQ"));
    assert_eq!(owned(directory.subcompany_of_employee("T0101")).as_deref(), Some("SH"));
    assert_eq!(directory.security_of("E0101"), Some(20));
    assert_eq!(directory.security_of("T0101"), Some(15));
    assert_eq!(
        directory.roles_of("E0001").iter().map(|grant| grant.role.as_str()).collect::<Vec<_>>(),
        ["总经理", "董事长"]
    );
    assert_eq!(ids(directory.subordinates_of("E0001")), ["E0002", "E0003", "E0102"]);
    assert_eq!(ids(directory.subordinates_of("E0102")), ["E0101", "E0103", "E0104"]);
    assert!(directory.subordinates_of("T0102").is_empty());

    // Unknown ids answer nothing.
    assert!(directory.employee("E9999").is_none());
    assert_eq!(owned(directory.manager_of("E9999")), None);
    assert_eq!(owned(directory.subcompany_of_employee("E9999")), None);
    assert_eq!(directory.security_of("E9999"), None);
    assert!(directory.roles_of("E9999").is_empty());
    assert!(directory.subordinates_of("E9999").is_empty());
}

#[test]
fn department_and_subcompany_members() {
    let directory = org();
    assert_eq!(directory.department("FIN").expect("FIN exists").name, "财务部");
    assert_eq!(owned(directory.head_of("FIN")).as_deref(), Some("E0102"));
    assert_eq!(owned(directory.parent_of("FIN")).as_deref(), Some("ADMIN"));
    assert_eq!(owned(directory.parent_of("ADMIN")), None);
    assert_eq!(owned(directory.parent_of("TECH")).as_deref(), Some("AS"));
    assert_eq!(owned(directory.subcompany_of_department("TECH")).as_deref(), Some("SH"));
    assert_eq!(ids(directory.members_of_department("FIN")), ["E0101", "E0102", "E0103", "E0104"]);
    // Members are the department's own employees, not those of its sub-departments.
    assert_eq!(ids(directory.members_of_department("ADMIN")), ["E0001", "E0002"]);
    assert_eq!(ids(directory.members_of_department("AS")), ["E0221", "E0222", "E0223"]);
    assert!(directory.members_of_department("NOPE").is_empty());

    assert_eq!(directory.subcompany("SH").expect("SH exists").name, "上海分公司");
    assert_eq!(
        ids(directory.members_of_subcompany("SH")),
        ["E0003", "E0211", "E0212", "E0221", "E0222", "E0223", "T0100", "T0101", "T0102"]
    );
    assert_eq!(directory.members_of_subcompany("HQ").len(), 11);
    assert!(directory.members_of_subcompany("NOPE").is_empty());
    assert_eq!(directory.everyone().len(), 20);
}

#[test]
fn document_project_asset_customer_and_meeting_room_members() {
    let directory = org();
    assert_eq!(directory.document("D1").expect("D1 exists").name, "采购合同");
    assert_eq!(owned(directory.document_owner("D1")).as_deref(), Some("E0122"));
    assert_eq!(directory.project("P1").expect("P1 exists").name, "新厂房");
    assert_eq!(owned(directory.project_manager("P1")).as_deref(), Some("E0121"));
    assert_eq!(ids(directory.project_members("P1")), ["E0122", "E0123", "E0101"]);
    assert_eq!(directory.asset("A2").expect("A2 exists").name, "测试仪器");
    assert_eq!(owned(directory.asset_admin("A2")).as_deref(), Some("T0101"));
    assert_eq!(owned(directory.asset_department("A2")).as_deref(), Some("TECH"));
    assert_eq!(owned(directory.asset_subcompany("A2")).as_deref(), Some("SH"));
    assert_eq!(directory.customer("C1").expect("C1 exists").name, "华东客户");
    assert_eq!(owned(directory.customer_manager("C1")).as_deref(), Some("E0122"));
    assert_eq!(
        directory.customer_contacts("C2").into_owned(),
        [Contact { name: "刘总".to_owned(), manager: "E0221".to_owned() }]
    );
    // Each contact manager once, in order.
    assert_eq!(ids(directory.contact_managers("C1")), ["E0123", "E0122"]);
    assert_eq!(directory.meeting_room("R2").expect("R2 exists").name, "签约室");
    assert_eq!(owned(directory.meeting_room_admin("R2")).as_deref(), Some("E0121"));

    assert_eq!(owned(directory.document_owner("D9")), None);
    assert!(directory.project_members("P9").is_empty());
    assert!(directory.customer_contacts("C9").is_empty());
    assert!(directory.contact_managers("C9").is_empty());
    assert_eq!(owned(directory.asset_subcompany("A9")), None);
    assert_eq!(owned(directory.meeting_room_admin("R9")), None);
}

/// 会计 in org.toml: 张三 E0101 unscoped, 王五 E0103 scoped to the SALES department (HQ), 赵敏
/// E0211 scoped to the SH subcompany.
#[test]
fn role_scoping() {
    let directory = org();
    let holders = |scope| ids(directory.role_holders("会计", scope));

    // No scope: every holder, whatever the scope.
    assert_eq!(holders(None), ["E0101", "E0103", "E0211"]);
    // The unscoped holder and the one scoped to SALES; 赵敏 is scoped to another subcompany.
    assert_eq!(holders(Some(Scope::Department("SALES"))), ["E0101", "E0103"]);
    // 王五 is scoped to another department (SALES), so only the unscoped holder answers for FIN.
    assert_eq!(holders(Some(Scope::Department("FIN"))), ["E0101"]);
    // 赵敏 is scoped to TECH's subcompany, SH.
    assert_eq!(holders(Some(Scope::Department("TECH"))), ["E0101", "E0211"]);
    // A subcompany scope: unscoped and subcompany-scoped holders, not department-scoped ones.
    assert_eq!(holders(Some(Scope::Subcompany("SH"))), ["E0101", "E0211"]);
    assert_eq!(holders(Some(Scope::Subcompany("HQ"))), ["E0101"]);
    // An unknown scope leaves the unscoped holders.
    assert_eq!(holders(Some(Scope::Department("NOPE"))), ["E0101"]);

    // A role nobody holds unscoped: only the right department's manager.
    assert_eq!(ids(directory.role_holders("部门经理", Some(Scope::Department("FIN")))), ["E0102"]);
    assert_eq!(ids(directory.role_holders("部门经理", Some(Scope::Department("TECH")))), ["T0100"]);
    assert_eq!(directory.role_holders("部门经理", None).len(), 7);
    // Scoped to a subcompany only: 人事专员 for a department of SH is 黄磊, for FIN 刘芳.
    assert_eq!(ids(directory.role_holders("人事专员", Some(Scope::Department("AS")))), ["E0112"]);
    assert_eq!(ids(directory.role_holders("人事专员", Some(Scope::Department("FIN")))), ["E0111"]);
    assert!(directory.role_holders("不存在的角色", None).is_empty());

    // The roles the expense example needs.
    assert_eq!(ids(directory.role_holders("财务经理", None)), ["E0102"]);
    assert_eq!(ids(directory.role_holders("出纳", None)), ["E0104", "E0212"]);
    assert_eq!(ids(directory.role_holders("总经理", None)), ["E0001"]);
}

/// `holds_role` (the default method, working from an employee's grants) agrees with
/// `role_holders` (the memory directory's indexes) for every employee, role and scope.
#[test]
fn holds_role_agrees_with_role_holders() {
    let directory = org();
    let records = directory.records();
    let mut roles: Vec<&str> =
        records.employees.iter().flat_map(|employee| employee.roles.iter().map(|grant| grant.role.as_str())).collect();
    roles.sort_unstable();
    roles.dedup();
    let mut scopes: Vec<Option<Scope<'_>>> = vec![None];
    scopes.extend(records.departments.iter().map(|department| Some(Scope::Department(&department.id))));
    scopes.extend(records.subcompanies.iter().map(|subcompany| Some(Scope::Subcompany(&subcompany.id))));
    scopes.push(Some(Scope::Department("NOPE")));
    for role in &roles {
        for scope in &scopes {
            let holders = directory.role_holders(role, *scope);
            for employee in &records.employees {
                assert_eq!(
                    directory.holds_role(&employee.id, role, *scope),
                    holders.contains(&employee.id),
                    "{} {role} {scope:?}",
                    employee.id
                );
            }
        }
    }
}

/// A host's directory that builds every answer (as one backed by a database would): the
/// default methods work from its owned records.
struct HostDirectory(MemoryDirectory);

impl Directory for HostDirectory {
    fn employee(&self, id: &str) -> Option<Cow<'_, Employee>> {
        self.0.employee(id).map(|record| Cow::Owned(record.into_owned()))
    }
    fn department(&self, id: &str) -> Option<Cow<'_, Department>> {
        self.0.department(id).map(|record| Cow::Owned(record.into_owned()))
    }
    fn subcompany(&self, id: &str) -> Option<Cow<'_, Subcompany>> {
        self.0.subcompany(id).map(|record| Cow::Owned(record.into_owned()))
    }
    fn document(&self, id: &str) -> Option<Cow<'_, Document>> {
        self.0.document(id).map(|record| Cow::Owned(record.into_owned()))
    }
    fn project(&self, id: &str) -> Option<Cow<'_, Project>> {
        self.0.project(id).map(|record| Cow::Owned(record.into_owned()))
    }
    fn asset(&self, id: &str) -> Option<Cow<'_, flowc::org::Asset>> {
        self.0.asset(id).map(|record| Cow::Owned(record.into_owned()))
    }
    fn customer(&self, id: &str) -> Option<Cow<'_, Customer>> {
        self.0.customer(id).map(|record| Cow::Owned(record.into_owned()))
    }
    fn meeting_room(&self, id: &str) -> Option<Cow<'_, MeetingRoom>> {
        self.0.meeting_room(id).map(|record| Cow::Owned(record.into_owned()))
    }
    fn everyone(&self) -> People<'_> {
        People::from(self.0.everyone().to_vec())
    }
    fn members_of_department(&self, department: &str) -> People<'_> {
        People::from(self.0.members_of_department(department).to_vec())
    }
    fn members_of_subcompany(&self, subcompany: &str) -> People<'_> {
        People::from(self.0.members_of_subcompany(subcompany).to_vec())
    }
    fn subordinates_of(&self, employee: &str) -> People<'_> {
        People::from(self.0.subordinates_of(employee).to_vec())
    }
    fn role_holders(&self, role: &str, scope: Option<Scope<'_>>) -> People<'_> {
        People::from(self.0.role_holders(role, scope).to_vec())
    }
}

#[test]
fn a_host_directory_gets_the_default_methods() {
    let host = HostDirectory(org());
    let directory: &dyn Directory = &host;
    assert_eq!(owned(directory.manager_of("T0101")).as_deref(), Some("T0100"));
    assert_eq!(owned(directory.subcompany_of_employee("T0101")).as_deref(), Some("SH"));
    assert_eq!(owned(directory.head_of("AS")).as_deref(), Some("E0221"));
    assert_eq!(owned(directory.asset_subcompany("A3")).as_deref(), Some("SH"));
    assert_eq!(ids(directory.project_members("P2")), ["E0222", "T0101"]);
    assert_eq!(ids(directory.contact_managers("C1")), ["E0123", "E0122"]);
    assert!(directory.holds_role("E0211", "会计", Some(Scope::Department("TECH"))));
    assert!(!directory.holds_role("E0211", "会计", Some(Scope::Department("FIN"))));
    assert!(directory.holds_role("E0103", "会计", Some(Scope::Department("SALES"))));
    assert!(!directory.holds_role("E0103", "会计", Some(Scope::Subcompany("HQ"))));
    assert!(directory.holds_role("E0101", "会计", Some(Scope::Subcompany("SH"))));
}

#[test]
fn an_unknown_key_is_a_parse_error_with_its_line() {
    let error = load_error("unknown_key.toml");
    assert_eq!(
        error.to_string(),
        "invalid TOML directory `tests/data/directory/bad/unknown_key.toml` at line 15, column 1: unknown field \
         `dept`, expected one of `id`, `name`, `department`, `manager`, `security`, `roles`"
    );
    assert!(matches!(error, DirectoryError::Parse { line: Some(15), column: Some(1), .. }));
    assert_eq!(
        load_error("unknown_key.json").to_string(),
        "invalid JSON directory `tests/data/directory/bad/unknown_key.json` at line 5, column 69: unknown field \
         `securty`, expected one of `id`, `name`, `department`, `manager`, `security`, `roles`"
    );
    assert_eq!(
        load_error("unknown_top_level.toml").to_string(),
        "invalid TOML directory `tests/data/directory/bad/unknown_top_level.toml` at line 3, column 3: unknown \
         field `employees`, expected one of `subcompany`, `department`, `employee`, `document`, `project`, \
         `asset`, `customer`, `meeting_room`, `administrators`, `deputies`, `calendar`"
    );
    assert_eq!(
        load_error("role_unknown_key.toml").to_string(),
        "invalid TOML directory `tests/data/directory/bad/role_unknown_key.toml` at line 16, column 10: unknown \
         field `dept`, expected one of `role`, `department`, `subcompany`"
    );
}

#[test]
fn a_wrong_type_is_a_parse_error() {
    assert_eq!(
        load_error("wrong_type.toml").to_string(),
        "invalid TOML directory `tests/data/directory/bad/wrong_type.toml` at line 16, column 12: invalid type: \
         string \"高\", expected a security level: a whole number from -9223372036854775808 to 9223372036854775807"
    );
    assert_eq!(
        load_error("role_both_scopes.toml").to_string(),
        "invalid TOML directory `tests/data/directory/bad/role_both_scopes.toml` at line 16, column 16: role \
         `会计` is scoped to a department or to a subcompany, not both"
    );
    // From a string there is no file to name.
    assert_eq!(
        MemoryDirectory::from_json_str("{\"employee\": 3}").map(|_| ()).unwrap_err().to_string(),
        "invalid JSON directory at line 1, column 14: invalid type: integer `3`, expected a sequence"
    );
    assert_eq!(
        MemoryDirectory::from_toml_str("[[employee]]\nid = \"E1\"\nname = \"甲\"\n")
            .map(|_| ())
            .unwrap_err()
            .to_string(),
        "invalid TOML directory at line 1, column 1: missing field `department`"
    );
}

#[test]
fn dangling_references_are_all_reported() {
    let error = load_error("dangling.toml");
    let messages: Vec<String> = error.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "department `FIN` (财务部): parent department `ADMIN` does not exist",
            "department `FIN` (财务部): head `E0100` does not exist",
            "department `IT` (信息部): subcompany `BJ` does not exist",
            "employee `E0101` (张三): department `FIN2` does not exist",
            "employee `E0101` (张三): manager `E0102` does not exist",
            "document `D1` (采购合同): owner `E0104` does not exist",
            "project `P1` (新厂房): member `E0105` does not exist",
            "project `P1` (新厂房): member `E0106` does not exist",
            "asset `A1` (服务器): admin `E0107` does not exist",
            "asset `A1` (服务器): department `OPS` does not exist",
            "customer `C1` (华东客户): manager `E0108` does not exist",
            "customer `C1` (华东客户): manager `E0109` of contact 陈主任 does not exist",
            "meeting room `R1` (一号会议室): admin `E0110` does not exist",
        ]
    );
    let first = error.problems().first().expect("a problem");
    assert_eq!((first.kind, first.id.as_str(), first.field), (RecordKind::Department, "FIN", "parent"));
    let employee = error.problems().get(3).expect("a fourth problem");
    assert_eq!((employee.kind, employee.name.as_str(), employee.field), (RecordKind::Employee, "张三", "department"));
    assert!(error.to_string().starts_with(
        "invalid directory `tests/data/directory/bad/dangling.toml` (13 problems):\n  department `FIN` (财务部): \
         parent department `ADMIN` does not exist\n  department `FIN` (财务部): head `E0100` does not exist\n"
    ));
}

#[test]
fn a_single_problem_is_one_line() {
    let text = "[[subcompany]]\nid = \"HQ\"\nname = \"总部\"\n[[department]]\nid = \"FIN\"\nname = \"财务部\"\n\
                subcompany = \"HQ\"\n[[employee]]\nid = \"E0101\"\nname = \"张三\"\ndepartment = \"FIN2\"\n";
    assert_eq!(
        MemoryDirectory::from_toml_str(text).map(|_| ()).unwrap_err().to_string(),
        "invalid directory: employee `E0101` (张三): department `FIN2` does not exist"
    );
}

#[test]
fn duplicate_and_empty_ids() {
    assert_eq!(
        load_error("duplicate_id.toml").to_string(),
        "invalid directory `tests/data/directory/bad/duplicate_id.toml` (4 problems):\n  \
         department `FIN` (财务二部): duplicate id, already used by 财务部\n  \
         employee `E0101` (李四): duplicate id, already used by 张三\n  \
         employee (无名): the id is empty\n  \
         meeting room `R1` (二号会议室): duplicate id, already used by 一号会议室"
    );
}

#[test]
fn bad_role_scopes() {
    let messages: Vec<String> = load_error("role_scope.toml").problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "employee `E0101` (张三): department `FIN2` of role `部门经理` does not exist",
            "employee `E0102` (李四): subcompany `SH` of role `出纳` does not exist",
            "employee `E0102` (李四): a role name is empty",
        ]
    );
}

#[test]
fn cycles_are_reported_once_each() {
    let messages: Vec<String> = load_error("parent_cycle.toml").problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "department `D` (丁部): parent chain loops: D → B → C → D",
            "department `E` (戊部): parent chain loops: E → E"
        ]
    );
    let messages: Vec<String> = load_error("manager_cycle.toml").problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "employee `E1` (张三): manager chain loops: E1 → E2 → E3 → E1",
            "employee `E6` (赵六): manager chain loops: E6 → E6",
        ]
    );
}

#[test]
fn files_that_cannot_be_read() {
    assert_eq!(
        MemoryDirectory::load(Path::new("tests/data/directory/org.yaml")).map(|_| ()).unwrap_err().to_string(),
        "cannot tell the format of the directory `tests/data/directory/org.yaml`: its name must end in `.toml` or \
         `.json`"
    );
    let missing = MemoryDirectory::load(Path::new("tests/data/directory/missing.toml")).map(|_| ()).unwrap_err();
    assert!(matches!(missing, DirectoryError::Read { .. }), "{missing}");
    assert!(missing.to_string().starts_with("cannot read the directory `tests/data/directory/missing.toml`: "));
}

/// A company of 100,000 employees: 10 subcompanies of 100 departments of 100 employees, each
/// department with a head and a parent, a manager for everyone, and roles of all three scopes.
fn big_company() -> String {
    let mut text = String::with_capacity(16 << 20);
    for subcompany in 0..10 {
        let _ = write!(text, "[[subcompany]]\nid = \"S{subcompany}\"\nname = \"分部{subcompany}\"\n\n");
    }
    for department in 0..1000 {
        let subcompany = department / 100;
        let _ = write!(
            text,
            "[[department]]\nid = \"D{department}\"\nname = \"部门{department}\"\nsubcompany = \"S{subcompany}\"\n\
             head = \"E{}\"\n",
            department * 100
        );
        if department % 100 != 0 {
            let _ = writeln!(text, "parent = \"D{}\"", subcompany * 100);
        }
        text.push('\n');
    }
    for employee in 0..100_000 {
        let department = employee / 100;
        let _ = write!(
            text,
            "[[employee]]\nid = \"E{employee}\"\nname = \"员工{employee}\"\ndepartment = \"D{department}\"\n\
             security = {}\n",
            employee % 100
        );
        if employee % 100 != 0 {
            let _ = writeln!(text, "manager = \"E{}\"", department * 100);
        } else if department % 100 != 0 {
            let _ = writeln!(text, "manager = \"E{}\"", department / 100 * 10_000);
        } else if department != 0 {
            text.push_str("manager = \"E0\"\n");
        }
        match employee % 100 {
            0 => {
                let _ = writeln!(text, "roles = [{{ role = \"部门经理\", department = \"D{department}\" }}, \"员工\"]");
            }
            remainder if remainder % 10 == 1 => {
                let _ =
                    writeln!(text, "roles = [{{ role = \"会计\", subcompany = \"S{}\" }}, \"员工\"]", department / 100);
            }
            _ => text.push_str("roles = [\"员工\"]\n"),
        }
        text.push('\n');
    }
    text
}

#[test]
fn a_hundred_thousand_employees_load_quickly() {
    let text = big_company();
    // `from_toml_str` is these two steps, timed apart to show where the time goes: parsing (the
    // toml crate) and validating and indexing (ours).
    let started = Instant::now();
    let records: DirectoryFile = toml::from_str(&text).expect("the big company parses");
    let parse_time = started.elapsed();
    let started = Instant::now();
    let directory = MemoryDirectory::from_records(records).expect("the big company validates");
    let index_time = started.elapsed();
    let toml_time = parse_time + index_time;

    let json = serde_json::to_string(directory.records()).expect("serializes");
    let started = Instant::now();
    let from_json = MemoryDirectory::from_json_str(&json).expect("the big company loads from JSON");
    let json_time = started.elapsed();
    println!(
        "100,000 employees: TOML ({} MB) {toml_time:?} (parse {parse_time:?}, validate and index {index_time:?}), \
         JSON ({} MB) {json_time:?}",
        text.len() >> 20,
        json.len() >> 20
    );
    assert_eq!(from_json.everyone().len(), 100_000);

    assert_eq!(directory.everyone().len(), 100_000);
    assert_eq!(directory.members_of_department("D512").len(), 100);
    assert_eq!(directory.members_of_subcompany("S5").len(), 10_000);
    assert_eq!(directory.subordinates_of("E51200").len(), 99);
    assert_eq!(ids(directory.role_holders("部门经理", Some(Scope::Department("D512")))), ["E51200"]);
    assert_eq!(directory.role_holders("会计", Some(Scope::Department("D512"))).len(), 1000);
    assert_eq!(directory.role_holders("员工", None).len(), 100_000);
    assert_eq!(owned(directory.subcompany_of_employee("E99999")).as_deref(), Some("S9"));

    // The bound is generous so a busy machine does not fail it; the goal is well under a second.
    if !cfg!(debug_assertions) {
        assert!(toml_time.as_secs_f64() < 3.0, "loading 100,000 employees from TOML took {toml_time:?}");
        assert!(json_time.as_secs_f64() < 3.0, "loading 100,000 employees from JSON took {json_time:?}");
    }
}
