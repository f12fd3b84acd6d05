//! `script "path.rhai"` (language.md §9): a sandboxed Rhai runner.
//!
//! [`Scripts`] holds compiled scripts keyed by the path written in the `.flow` file: compile each
//! once with [`Scripts::add`], then [`Scripts::run`] it against a request's [`FormData`] as often
//! as needed. A run never touches the caller's data: it returns the new form data, or a
//! [`ScriptError`] and the caller keeps what it had (the action is undone).
//!
//! What the script sees:
//! - `form`, a map keyed by field name. `int` fields are Rhai integers; `float`, `money` and
//!   `money_upper` are decimals (Rhai's `Decimal` is `rust_decimal::Decimal`, and a literal such
//!   as `0.5` is a decimal too: there are no binary floats); `text`, `textarea` and `select`
//!   (the option key) are strings; `check` is a bool; an empty field is `()`; references are id
//!   strings, `employees`/`departments`/`attachment` arrays of strings; dates, times and
//!   datetimes ISO strings (`2026-11-28`, `09:30:00`, `2026-11-28T09:00:00+08:00`); a role is its
//!   name. A detail table is an array of rows, each a map keyed by column name.
//! - `creator`, the creator's employee id (a constant).
//!
//! What it may do: set a field (`form["备注"] = "…"` or `form.备注 = "…"`), edit, add or remove
//! detail rows (a missing column in a row is empty), `throw "message"` to refuse the action.
//! After the run every changed value is converted back by its field's kind and checked:
//! numbers may be integers, decimals or numeric strings; a decimal is rounded half away from zero
//! to the field's scale (`money`/`money_upper` 2, `float(S)` S) and must be whole for `int`;
//! `text(N)` holds at most N characters; a `select` takes an option key or label (stored as the
//! key); `()` or `""` empties a non-text field (a `check` empties to `false`, as everywhere in the
//! runtime); a single id is accepted for `employees`/`departments`/`attachment`; a `money_upper`
//! must be writable in Chinese capitals. Setting a computed (formula), `link` or `note`
//! field, a field the form lacks, a detail column outside its row, or removing a field from
//! `form` is an error naming the field. Directory ids are not looked up here: the caller checks
//! them as it does for any `set`.
//!
//! The sandbox: no file, network, clock, module, `eval`, `sleep` or printing (`print`/`debug`
//! go nowhere); the packages are Rhai's arithmetic, logic, strings, arrays, maps, iterators and
//! function pointers, plus `round(x)`/`round(x, places)` (half away from zero, like the
//! language's `round`), `floor`, `ceiling`, `to_int`, `to_decimal`, `parse_int` and
//! `parse_decimal`. Variables must be declared (`let`) and may not shadow; reading a map
//! property that does not exist is an error (a misspelt field name fails loudly). Operations,
//! string/array/map sizes, variables, call depth and expression depth are bounded by
//! [`ScriptLimits`]; Rhai counts sizes over a whole value, so `form` itself — every text's bytes,
//! every detail row and cell — must fit in them. Breaking a bound gives a [`ScriptError`] with
//! `limit: true`. Compiling and running happen on a helper thread with a large stack
//! ([`script_stack_bytes`]), so deep recursion or deeply nested values cannot overflow the
//! caller's stack, and a panic inside Rhai comes back as an error instead of unwinding into the
//! caller.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicFnPackage, BasicIteratorPackage, BasicMapPackage, BasicStringPackage,
    LogicPackage, MoreStringPackage, Package,
};
use rhai::{
    Array, Dynamic, Engine, EvalAltResult, LexError, Map, ParseError, ParseErrorType, Position, Scope, AST, INT,
};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::check::types::FieldKind;
use crate::ir::{Field, Form};
use crate::runtime::values::dates::{Date, DateTime, Time};
use crate::runtime::values::field_values::{empty_of, scale_of};
use crate::runtime::values::money::{rmb_upper, round_half_away};
use crate::runtime::values::value::{FormData, RefKind, Value};

/// The stack of the thread that compiles and runs a script: a base, plus room for values nested
/// as deep as the size bounds allow (every array item or map entry can be one more level, and
/// measuring, cloning or dropping a nested value recurses once per level: up to about 2 KiB per
/// array level and 4 KiB per map level in a debug build, far less optimised). Only the pages
/// touched are committed. The defaults give 272 MiB. The stack is capped at 2 GiB (about 350,000
/// levels): a host that raises the sizes beyond that, to run trusted scripts over big tables,
/// reserves less stack than the worst nesting its bounds would allow.
pub fn script_stack_bytes(limits: &ScriptLimits) -> usize {
    const BASE: usize = 32 << 20;
    const PER_LEVEL: usize = 6 << 10;
    const MOST: usize = 2 << 30;
    let levels = limits.max_array_len.max(1).saturating_add(limits.max_map_len.max(1));
    BASE.saturating_add(levels.saturating_mul(PER_LEVEL)).min(MOST)
}

thread_local! {
    /// When the run on this (script) thread must stop, and operations seen since the last look
    /// at the clock.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static TICKS: Cell<u32> = const { Cell::new(0) };
}

/// Operations between two looks at the clock.
const TICKS_PER_CLOCK_CHECK: u32 = 512;

/// Longest error message kept (a thrown value or a data-size message could be huge).
const MAX_MESSAGE_CHARS: usize = 500;

/// The bounds a script runs under. A zero is raised to one: no bound can be switched off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptLimits {
    /// Rhai operations per run (each expression node, loop iteration, call counts one or more).
    pub max_operations: u64,
    /// Bytes of text in one value, counted over all the strings inside an array or map.
    pub max_string_len: usize,
    /// Items in one array, counted over nested arrays (and the rows of maps inside it).
    pub max_array_len: usize,
    /// Entries in one map, counted over nested maps (a detail table's rows count every cell).
    pub max_map_len: usize,
    /// Depth of nested function calls.
    pub max_call_levels: usize,
    /// Depth of nested expressions and blocks when compiling (half of it inside functions).
    pub max_expr_depth: usize,
    /// Variables alive in one scope (and functions one script may define).
    pub max_variables: usize,
    /// Wall-clock time of one run. A safety net, not the main bound: some operations cost time
    /// in proportion to the data (Rhai re-measures a whole value after each change to it, so a
    /// loop writing into a large `form`, or nesting a value deeper each turn, is quadratic);
    /// ordinary scripts reach `max_operations` long before this.
    pub max_duration: Duration,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits {
            max_operations: 1_000_000,
            max_string_len: 1 << 20,
            max_array_len: 20_000,
            max_map_len: 20_000,
            max_call_levels: 64,
            max_expr_depth: 64,
            max_variables: 1_000,
            max_duration: Duration::from_secs(5),
        }
    }
}

/// Why a script could not be compiled or run, or why its result was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub message: String,
    /// 1-based line and column in the script, when the error has a place there.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// A bound of [`ScriptLimits`] was broken (operations, sizes, call or expression depth).
    pub limit: bool,
}

impl ScriptError {
    fn data(message: String) -> Self {
        ScriptError { message, line: None, column: None, limit: false }
    }

    fn at(message: String, position: Position, limit: bool) -> Self {
        ScriptError { message: truncate(message), line: position.line(), column: position.position(), limit }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)?;
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(formatter, " (line {line}, column {column})"),
            (Some(line), None) => write!(formatter, " (line {line})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for ScriptError {}

/// Compiled scripts, keyed by the path written in the `.flow` file; compile once, run many times.
pub struct Scripts {
    engine: Engine,
    compiled: HashMap<String, AST>,
    limits: ScriptLimits,
}

impl fmt::Debug for Scripts {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut paths: Vec<&String> = self.compiled.keys().collect();
        paths.sort();
        formatter.debug_struct("Scripts").field("paths", &paths).field("limits", &self.limits).finish()
    }
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts::new(ScriptLimits::default())
    }
}

impl Scripts {
    pub fn new(limits: ScriptLimits) -> Self {
        Scripts { engine: sandbox_engine(&limits), compiled: HashMap::new(), limits }
    }

    pub fn limits(&self) -> &ScriptLimits {
        &self.limits
    }

    /// Compile `source` under `path` (replacing a script already there); syntax errors come back
    /// with their line.
    pub fn add(&mut self, path: &str, source: &str) -> Result<(), ScriptError> {
        let engine = &self.engine;
        let limits = &self.limits;
        let ast = on_script_thread(limits, || {
            // The same variables as at run time, so strict variables accept `form` and `creator`.
            let scope = script_scope(Map::new(), "");
            engine.compile_with_scope(&scope, source).map_err(|error| parse_error(&error, limits))
        })??;
        self.compiled.insert(path.to_owned(), ast);
        Ok(())
    }

    pub fn contains(&self, path: &str) -> bool {
        self.compiled.contains_key(path)
    }

    /// The paths compiled so far, in no particular order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.compiled.keys().map(String::as_str)
    }

    /// Run the script at `path` against `data` (form definition `form`) with `creator`
    /// (employee id). On success returns the new form data with every field the script set
    /// converted back and checked; on any error `data` is untouched (the caller keeps its copy).
    pub fn run(&self, path: &str, form: &Form, data: &FormData, creator: &str) -> Result<FormData, ScriptError> {
        let Some(ast) = self.compiled.get(path) else {
            return Err(ScriptError::data(format!("no script `{path}` has been loaded")));
        };
        let limits = &self.limits;
        on_script_thread(limits, || {
            let deadline = Instant::now().checked_add(limits.max_duration.max(Duration::from_millis(1)));
            DEADLINE.with(|cell| cell.set(deadline));
            let original = form_map(form, data);
            check_input_size(&original, &self.limits)?;
            let mut scope = script_scope(original.clone(), creator);
            self.engine.run_ast_with_scope(&mut scope, ast).map_err(|error| eval_error(&error, &self.limits))?;
            let Some(after) = scope.get_mut("form").map(std::mem::take) else {
                return Err(ScriptError::data("the script removed the variable `form`".to_owned()));
            };
            let after = match after.try_cast::<Map>() {
                Some(map) => map,
                None => {
                    return Err(ScriptError::data("the script replaced `form` with something that is not a map".into()))
                }
            };
            apply_changes(form, data, &original, after)
        })?
    }
}

/// An engine with only the packages a form script needs and every bound set.
fn sandbox_engine(limits: &ScriptLimits) -> Engine {
    let mut engine = Engine::new_raw();
    // Not `CorePackage`: its `LanguageCorePackage` brings `sleep`, `exit` and `parse_json`.
    engine.register_global_module(ArithmeticPackage::new().as_shared_module());
    engine.register_global_module(LogicPackage::new().as_shared_module());
    engine.register_global_module(BasicStringPackage::new().as_shared_module());
    engine.register_global_module(MoreStringPackage::new().as_shared_module());
    engine.register_global_module(BasicIteratorPackage::new().as_shared_module());
    engine.register_global_module(BasicFnPackage::new().as_shared_module());
    engine.register_global_module(BasicArrayPackage::new().as_shared_module());
    engine.register_global_module(BasicMapPackage::new().as_shared_module());
    // Not `BasicMathPackage`: rust_decimal's `sin`, `cos`, `tan`, `ln`… panic on bad input, and
    // its `round` rounds half to even. These round half away from zero, like the language.
    engine.register_fn("round", |value: Decimal| round_half_away(value, 0));
    engine.register_fn("round", |value: INT| value);
    engine.register_fn("round", |value: Decimal, places: INT| -> Result<Decimal, Box<EvalAltResult>> {
        let places = u32::try_from(places).ok().filter(|places| *places <= 28).ok_or_else(|| {
            Box::<EvalAltResult>::from(format!("round: places must be between 0 and 28, not {places}"))
        })?;
        Ok(round_half_away(value, places))
    });
    engine.register_fn("round", |value: INT, _places: INT| value);
    engine.register_fn("floor", |value: Decimal| value.floor());
    engine.register_fn("ceiling", |value: Decimal| value.ceil());
    engine.register_fn("to_int", |value: Decimal| -> Result<INT, Box<EvalAltResult>> {
        value.trunc().to_i64().ok_or_else(|| format!("to_int: {value} is out of the integer range").into())
    });
    engine.register_fn("to_int", |value: INT| value);
    engine.register_fn("to_decimal", |value: INT| Decimal::from(value));
    engine.register_fn("to_decimal", |value: Decimal| value);
    engine.register_fn("parse_int", |text: &str| -> Result<INT, Box<EvalAltResult>> {
        text.trim().parse::<INT>().map_err(|_| format!("parse_int: `{}` is not an integer", clip(text)).into())
    });
    engine.register_fn("parse_decimal", |text: &str| -> Result<Decimal, Box<EvalAltResult>> {
        Decimal::from_str(text.trim()).map_err(|_| format!("parse_decimal: `{}` is not a number", clip(text)).into())
    });

    // The clock is the host's, never the script's: it only ends a run that takes too long.
    engine.on_progress(|_| {
        let ticks = TICKS.with(|cell| {
            let ticks = cell.get().wrapping_add(1);
            cell.set(ticks);
            ticks
        });
        if !ticks.is_multiple_of(TICKS_PER_CLOCK_CHECK) {
            return None;
        }
        let deadline = DEADLINE.with(Cell::get)?;
        (Instant::now() >= deadline).then_some(Dynamic::UNIT)
    });
    engine.disable_symbol("eval");
    // A curried function pointer holds values that Rhai's size bounds do not count, so nesting
    // them is unbounded.
    engine.disable_symbol("curry");
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine.set_strict_variables(true);
    engine.set_allow_shadowing(false);
    engine.set_fail_on_invalid_map_property(true);

    engine.set_max_operations(limits.max_operations.max(1));
    engine.set_max_string_size(limits.max_string_len.max(1));
    engine.set_max_array_size(limits.max_array_len.max(1));
    engine.set_max_map_size(limits.max_map_len.max(1));
    engine.set_max_call_levels(limits.max_call_levels.max(1));
    engine.set_max_expr_depths(limits.max_expr_depth.max(1), (limits.max_expr_depth / 2).max(1));
    engine.set_max_variables(limits.max_variables.max(1));
    engine.set_max_functions(limits.max_variables.max(1));
    engine
}

fn script_scope(form: Map, creator: &str) -> Scope<'static> {
    let mut scope = Scope::new();
    scope.push("form", form);
    scope.push_constant("creator", creator.to_owned());
    scope
}

/// Runs `work` with at least [`script_stack_bytes`] of stack: on the caller's stack when that
/// much is left, else on a fresh stack segment (`stacker`, no thread: spawning one per run cost
/// more than the script itself). A panic there is an error here.
fn on_script_thread<R: Send>(limits: &ScriptLimits, work: impl FnOnce() -> R + Send) -> Result<R, ScriptError> {
    let stack = script_stack_bytes(limits);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stacker::maybe_grow(stack, stack, work))).map_err(
        |payload| {
            let reason = payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            ScriptError::data(truncate(format!("the script engine failed unexpectedly: {reason}")))
        },
    )
}

fn parse_error(error: &ParseError, limits: &ScriptLimits) -> ScriptError {
    let (message, limit) = match error.err_type() {
        ParseErrorType::ExprTooDeep => (
            format!("expressions or blocks are nested too deeply (the limit is {} levels)", limits.max_expr_depth),
            true,
        ),
        ParseErrorType::TooManyFunctions => ("the script defines too many functions".to_owned(), true),
        ParseErrorType::LiteralTooLarge(kind, max) => (format!("{kind} is longer than the limit of {max}"), true),
        ParseErrorType::BadInput(LexError::StringTooLong(max)) => {
            (format!("a string literal is longer than the limit of {max} bytes"), true)
        }
        other => (format!("syntax error: {other}"), false),
    };
    ScriptError::at(message, error.position(), limit)
}

fn eval_error(error: &EvalAltResult, limits: &ScriptLimits) -> ScriptError {
    // Errors inside a script function come wrapped once per call; report the innermost place.
    let mut functions = Vec::new();
    let mut current = error;
    let mut position = error.position();
    while let EvalAltResult::ErrorInFunctionCall(name, _, inner, _) = current {
        functions.push(name.as_str());
        current = inner;
        if !current.position().is_none() {
            position = current.position();
        }
    }
    let (mut message, limit) = match current {
        EvalAltResult::ErrorTooManyOperations(_) => {
            (format!("the script ran more than its limit of {} operations", limits.max_operations), true)
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            (format!("function calls are nested deeper than the limit of {} levels", limits.max_call_levels), true)
        }
        EvalAltResult::ErrorTooManyVariables(_) => {
            (format!("the script defines more than its limit of {} variables", limits.max_variables), true)
        }
        EvalAltResult::ErrorTerminated(..) => {
            (format!("the script ran longer than its limit of {:?}", limits.max_duration), true)
        }
        EvalAltResult::ErrorTooManyModules(_) => ("the script imports modules".to_owned(), true),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let bound = match what.as_str() {
                "Length of string" => format!("{} bytes of text", limits.max_string_len),
                "Size of object map" => format!("{} map entries", limits.max_map_len),
                _ => format!("{} array items", limits.max_array_len),
            };
            (format!("a value grew past the limit of {bound}"), true)
        }
        EvalAltResult::ErrorRuntime(value, _) => {
            let thrown = if value.is_unit() { "the script threw an error".to_owned() } else { value.to_string() };
            (thrown, false)
        }
        other => {
            let text = other.to_string();
            let place = format!(" ({})", other.position());
            (text.strip_suffix(&place).map(str::to_owned).unwrap_or(text), false)
        }
    };
    for name in functions {
        if name.starts_with("anon$") {
            message.push_str(" (in an anonymous function)");
        } else {
            message.push_str(&format!(" (in function `{name}`)"));
        }
    }
    ScriptError::at(message, position, limit)
}

fn truncate(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", message.get(..cut).unwrap_or_default()),
        None => message,
    }
}

/// The first 40 characters of a text, for messages.
fn clip(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Form data → the `form` map.

fn form_map(form: &Form, data: &FormData) -> Map {
    let mut map = Map::new();
    for (index, field) in form.fields.iter().enumerate() {
        if field.detail.is_none() {
            let value = data.main.get(index).unwrap_or(&Value::Null);
            map.insert(field.name.as_str().into(), to_dynamic(value, &field.kind));
        }
    }
    for (table, detail) in form.details.iter().enumerate() {
        let rows = data.tables.get(table).map(Vec::as_slice).unwrap_or_default();
        let rows: Array = rows
            .iter()
            .map(|row| {
                let mut cells = Map::new();
                for (position, field) in columns(form, table) {
                    let value = row.get(position).unwrap_or(&Value::Null);
                    cells.insert(field.name.as_str().into(), to_dynamic(value, &field.kind));
                }
                Dynamic::from_map(cells)
            })
            .collect();
        map.insert(detail.name.as_str().into(), Dynamic::from_array(rows));
    }
    map
}

/// A detail table's columns: (position in a row, field).
fn columns(form: &Form, table: usize) -> impl Iterator<Item = (usize, &Field)> {
    let indexes = form.details.get(table).map(|detail| detail.columns.as_slice()).unwrap_or_default();
    indexes.iter().enumerate().filter_map(|(position, &index)| Some((position, form.fields.get(index)?)))
}

fn to_dynamic(value: &Value, kind: &FieldKind) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(flag) => Dynamic::from_bool(*flag),
        Value::Number(number) => match (kind, number.fract().is_zero(), number.to_i64()) {
            (FieldKind::Int, true, Some(integer)) => Dynamic::from_int(integer),
            _ => Dynamic::from_decimal(*number),
        },
        Value::Text(text) => Dynamic::from(text.clone()),
        Value::Date(date) => Dynamic::from(date.to_string()),
        Value::Time(time) => Dynamic::from(time.to_string()),
        Value::DateTime(instant) => Dynamic::from(instant.to_string()),
        Value::Ref(_, id) => Dynamic::from(id.clone()),
        // A role field stores the role's name; a scoped role shows its name too.
        Value::Role { name, .. } => Dynamic::from(name.clone()),
        Value::Contact { name, manager } => {
            let mut map = Map::new();
            map.insert("name".into(), Dynamic::from(name.clone()));
            map.insert("manager".into(), Dynamic::from(manager.clone()));
            Dynamic::from_map(map)
        }
        Value::Everyone => Dynamic::from("everyone".to_owned()),
        Value::List(items) => Dynamic::from_array(items.iter().map(|item| to_dynamic(item, kind)).collect()),
    }
}

/// Refuses a form whose data alone breaks the size bounds, before the script trips on it.
fn check_input_size(form: &Map, limits: &ScriptLimits) -> Result<(), ScriptError> {
    /// Array items, map entries and text bytes, counted as Rhai counts them. The form's values
    /// are at most a table of rows of short lists deep, so the recursion is shallow.
    fn measure(value: &Dynamic, sizes: &mut (usize, usize, usize)) {
        if let Ok(text) = value.as_immutable_string_ref() {
            sizes.2 += text.len();
        } else if let Ok(array) = value.as_array_ref() {
            sizes.0 += array.len();
            array.iter().for_each(|item| measure(item, sizes));
        } else if let Ok(map) = value.as_map_ref() {
            sizes.1 += map.len();
            map.values().for_each(|item| measure(item, sizes));
        }
    }
    let mut sizes = (0, form.len(), 0);
    form.values().for_each(|value| measure(value, &mut sizes));
    let (items, entries, bytes) = sizes;
    let over = if bytes > limits.max_string_len {
        format!("{bytes} bytes of text, over the limit of {}", limits.max_string_len)
    } else if items > limits.max_array_len {
        format!("{items} array items, over the limit of {}", limits.max_array_len)
    } else if entries > limits.max_map_len {
        format!("{entries} map entries, over the limit of {}", limits.max_map_len)
    } else {
        return Ok(());
    };
    Err(ScriptError {
        message: format!("the form is too large for scripts: it holds {over}"),
        line: None,
        column: None,
        limit: true,
    })
}

// ---------------------------------------------------------------------------------------------
// The `form` map after the run → new form data.

enum Slot {
    Main(usize),
    Table(usize),
    Column(usize),
}

fn apply_changes(form: &Form, data: &FormData, original: &Map, mut after: Map) -> Result<FormData, ScriptError> {
    let mut slots: HashMap<&str, Slot> = HashMap::new();
    for (index, field) in form.fields.iter().enumerate() {
        let slot = match field.detail {
            Some(table) => Slot::Column(table),
            None => Slot::Main(index),
        };
        slots.insert(field.name.as_str(), slot);
    }
    for (table, detail) in form.details.iter().enumerate() {
        slots.insert(detail.name.as_str(), Slot::Table(table));
    }

    for name in original.keys() {
        if !after.contains_key(name) {
            return Err(ScriptError::data(format!(
                "the script removed field `{name}` from `form`; set it to () to empty it"
            )));
        }
    }

    let mut result = data.clone();
    let needed = form.fields.len();
    if result.main.len() < needed {
        result.main.resize(needed, Value::Null);
    }
    if result.tables.len() < form.details.len() {
        result.tables.resize(form.details.len(), Vec::new());
    }
    for (name, value) in std::mem::take(&mut after) {
        let old = original.get(&name);
        match slots.get(name.as_str()) {
            None => return Err(ScriptError::data(format!("the form has no field `{name}`"))),
            Some(Slot::Column(table)) => {
                let table_name = form.details.get(*table).map(|detail| detail.name.as_str()).unwrap_or_default();
                return Err(ScriptError::data(format!(
                    "`{name}` is a column of detail table `{table_name}`, not a main field: set it in a row, \
                     as in form[\"{table_name}\"][0][\"{name}\"]"
                )));
            }
            Some(Slot::Main(index)) => {
                if old.is_some_and(|old| same(old, &value)) {
                    continue;
                }
                let Some(field) = form.fields.get(*index) else { continue };
                let place = Place::Main(&field.name);
                refuse_fixed(field, &place)?;
                let converted =
                    convert(field, value).map_err(|problem| ScriptError::data(format!("{place}: {problem}")))?;
                if let Some(slot) = result.main.get_mut(*index) {
                    *slot = converted;
                }
            }
            Some(Slot::Table(table)) => {
                if old.is_some_and(|old| same(old, &value)) {
                    continue;
                }
                let old_rows = data.tables.get(*table).map(Vec::as_slice).unwrap_or_default();
                let old_array =
                    old.and_then(|old| old.as_array_ref().ok().map(|rows| rows.clone())).unwrap_or_default();
                let rows = convert_table(form, *table, &name, value, old_rows, &old_array)?;
                if let Some(slot) = result.tables.get_mut(*table) {
                    *slot = rows;
                }
            }
        }
    }
    Ok(result)
}

enum Place<'a> {
    Main(&'a str),
    Cell { table: &'a str, row: usize, column: &'a str },
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Main(name) => write!(formatter, "field `{name}`"),
            Place::Cell { table, row, column } => write!(formatter, "`{table}` row {row}, column `{column}`"),
        }
    }
}

/// Computed, `link` and `note` fields cannot be set by a script.
fn refuse_fixed(field: &Field, place: &Place<'_>) -> Result<(), ScriptError> {
    let why = if field.formula.is_some() {
        "is computed by its formula"
    } else if matches!(field.kind, FieldKind::Link) {
        "is a `link` (display only)"
    } else if matches!(field.kind, FieldKind::Note) {
        "is a `note` (display only)"
    } else if matches!(field.kind, FieldKind::Serial) {
        "is a `serial` (numbered by the system)"
    } else {
        return Ok(());
    };
    Err(ScriptError::data(format!("{place} {why}; a script cannot set it")))
}

fn convert_table(
    form: &Form,
    table: usize,
    table_name: &str,
    value: Dynamic,
    old_rows: &[Vec<Value>],
    old_array: &[Dynamic],
) -> Result<Vec<Vec<Value>>, ScriptError> {
    let Some(rows) = value.clone().try_cast::<Array>() else {
        return Err(ScriptError::data(format!(
            "detail table `{table_name}` must be an array of rows (maps), not {}",
            describe(&value)
        )));
    };
    let columns: Vec<(usize, &Field)> = columns(form, table).collect();
    let width = form.details.get(table).map_or(0, |detail| detail.columns.len());
    let mut converted = Vec::with_capacity(rows.len());
    for (row_index, row) in rows.into_iter().enumerate() {
        let number = row_index + 1;
        let Some(mut cells) = row.clone().try_cast::<Map>() else {
            return Err(ScriptError::data(format!(
                "`{table_name}` row {number} must be a map of columns, not {}",
                describe(&row)
            )));
        };
        if let Some(unknown) = cells.keys().find(|key| !columns.iter().any(|(_, field)| field.name == key.as_str())) {
            return Err(ScriptError::data(format!("`{table_name}` row {number}: the table has no column `{unknown}`")));
        }
        let old_row = old_array.get(row_index).and_then(|row| row.as_map_ref().ok().map(|map| map.clone()));
        let mut values = vec![Value::Null; width];
        for &(position, field) in &columns {
            let cell = cells.remove(field.name.as_str()).unwrap_or(Dynamic::UNIT);
            let place = Place::Cell { table: table_name, row: number, column: &field.name };
            let unchanged =
                old_row.as_ref().and_then(|old| old.get(field.name.as_str())).is_some_and(|old| same(old, &cell));
            let value = if unchanged {
                old_rows.get(row_index).and_then(|row| row.get(position)).cloned().unwrap_or(Value::Null)
            } else if field.formula.is_some() || field.kind.is_display_only() {
                // Rows may move, be copied or be added: a computed cell may carry any value the
                // column already held (it is recomputed after the script), or be empty.
                if cell.is_unit() {
                    Value::Null
                } else {
                    let carried = old_array.iter().enumerate().find_map(|(index, old)| {
                        let old = old.as_map_ref().ok()?;
                        same(old.get(field.name.as_str())?, &cell).then_some(index)
                    });
                    match carried {
                        Some(index) => {
                            old_rows.get(index).and_then(|row| row.get(position)).cloned().unwrap_or(Value::Null)
                        }
                        None => {
                            refuse_fixed(field, &place)?;
                            Value::Null
                        }
                    }
                }
            } else {
                convert(field, cell).map_err(|problem| ScriptError::data(format!("{place}: {problem}")))?
            };
            if let Some(slot) = values.get_mut(position) {
                *slot = value;
            }
        }
        converted.push(values);
    }
    Ok(converted)
}

/// Whether a value is unchanged from what the script was given. Values of other types (or an
/// integer where there was a decimal) count as changed and are converted and checked.
fn same(old: &Dynamic, new: &Dynamic) -> bool {
    if old.is_unit() || new.is_unit() {
        return old.is_unit() && new.is_unit();
    }
    if let (Ok(old), Ok(new)) = (old.as_bool(), new.as_bool()) {
        return old == new;
    }
    if let (Ok(old), Ok(new)) = (old.as_int(), new.as_int()) {
        return old == new;
    }
    if let (Ok(old), Ok(new)) = (old.as_decimal(), new.as_decimal()) {
        return old == new && old.scale() == new.scale();
    }
    if let (Ok(old), Ok(new)) = (old.as_immutable_string_ref(), new.as_immutable_string_ref()) {
        return *old == *new;
    }
    // `old` came from the form, so this recursion is as shallow as the form's data.
    if let (Ok(old), Ok(new)) = (old.as_array_ref(), new.as_array_ref()) {
        return old.len() == new.len() && old.iter().zip(new.iter()).all(|(old, new)| same(old, new));
    }
    if let (Ok(old), Ok(new)) = (old.as_map_ref(), new.as_map_ref()) {
        return old.len() == new.len()
            && old.iter().all(|(key, old)| new.get(key.as_str()).is_some_and(|new| same(old, new)));
    }
    false
}

/// A value in a message: its kind, and a short rendering of scalars.
fn describe(value: &Dynamic) -> String {
    if value.is_unit() {
        return "()".to_owned();
    }
    if let Ok(flag) = value.as_bool() {
        return format!("the boolean {flag}");
    }
    if let Ok(integer) = value.as_int() {
        return format!("the integer {integer}");
    }
    if let Ok(number) = value.as_decimal() {
        return format!("the decimal {number}");
    }
    if let Ok(text) = value.as_immutable_string_ref() {
        return format!("the text \"{}\"", clip(&text));
    }
    if let Ok(character) = value.as_char() {
        return format!("the character '{character}'");
    }
    if let Ok(array) = value.as_array_ref() {
        return format!("an array of {} items", array.len());
    }
    if value.is_map() {
        return "a map".to_owned();
    }
    format!("a value of type {}", value.type_name())
}

/// Converts a value the script set back by the field's kind; the error is the problem alone
/// (the caller names the place).
fn convert(field: &Field, value: Dynamic) -> Result<Value, String> {
    let kind = &field.kind;
    let expects = |what: &str, value: &Dynamic| format!("a {} field expects {what}, not {}", kind, describe(value));
    if value.is_unit() {
        return Ok(empty_of(kind));
    }
    match kind {
        FieldKind::Text(max) => {
            let text = text_of(&value).ok_or_else(|| expects("text (use `to_string()` for a number)", &value))?;
            let length = text.chars().count();
            match max {
                Some(max) if length > *max as usize => {
                    Err(format!("a {} field holds at most {max} characters, not {length}", kind))
                }
                _ => Ok(Value::Text(text)),
            }
        }
        FieldKind::Textarea => {
            text_of(&value).map(Value::Text).ok_or_else(|| expects("text (use `to_string()` for a number)", &value))
        }
        FieldKind::Int | FieldKind::Float(_) | FieldKind::Money | FieldKind::MoneyUpper => {
            let number = match number_of(&value) {
                Some(Some(number)) => number,
                Some(None) => return Ok(empty_of(kind)),
                None => return Err(expects("a number", &value)),
            };
            let stored = match kind {
                FieldKind::Int if number.fract().is_zero() => number.trunc(),
                FieldKind::Int => {
                    return Err(format!(
                        "an int field expects a whole number, not {number}; round it first (`round(x)`)"
                    ))
                }
                _ => round_half_away(number, scale_of(kind).unwrap_or(2)),
            };
            if matches!(kind, FieldKind::MoneyUpper) {
                rmb_upper(stored).map_err(|error| error.to_string())?;
            }
            Ok(Value::Number(stored))
        }
        FieldKind::Check => value.as_bool().map(Value::Bool).map_err(|_| expects("true or false", &value)),
        FieldKind::Select => {
            let text = text_of(&value).ok_or_else(|| expects("an option key", &value))?;
            if text.is_empty() {
                return Ok(Value::Null);
            }
            let option = field
                .options
                .iter()
                .find(|option| option.key == text)
                .or_else(|| field.options.iter().find(|option| option.label == text));
            match option {
                Some(option) => Ok(Value::Text(option.key.clone())),
                None => {
                    let keys: Vec<String> = field.options.iter().map(|option| format!("`{}`", option.key)).collect();
                    Err(format!("\"{}\" is none of the options {}", clip(&text), keys.join(", ")))
                }
            }
        }
        FieldKind::SelectMultiple => {
            let items = list_of(value, &expects)?;
            let mut keys: Vec<Value> = Vec::with_capacity(items.len());
            for item in &items {
                let text = text_of(item).ok_or_else(|| expects("an array of option keys", item))?;
                let key = field
                    .options
                    .iter()
                    .find(|option| option.key == text)
                    .or_else(|| field.options.iter().find(|option| option.label == text))
                    .map(|option| option.key.clone())
                    .ok_or_else(|| format!("\"{}\" is none of the options", clip(&text)))?;
                if !keys.iter().any(|known| matches!(known, Value::Text(k) if *k == key)) {
                    keys.push(Value::Text(key));
                }
            }
            Ok(Value::List(keys))
        }
        FieldKind::Employee => reference(RefKind::Employee, &value, &expects),
        FieldKind::Department => reference(RefKind::Department, &value, &expects),
        FieldKind::Subcompany => reference(RefKind::Subcompany, &value, &expects),
        FieldKind::Document => reference(RefKind::Document, &value, &expects),
        FieldKind::Project => reference(RefKind::Project, &value, &expects),
        FieldKind::Asset => reference(RefKind::Asset, &value, &expects),
        FieldKind::Customer => reference(RefKind::Customer, &value, &expects),
        FieldKind::MeetingRoom => reference(RefKind::MeetingRoom, &value, &expects),
        FieldKind::Employees => references(RefKind::Employee, value, &expects),
        FieldKind::Departments => references(RefKind::Department, value, &expects),
        FieldKind::Attachment => {
            let items = list_of(value, &expects)?;
            let texts: Option<Vec<Value>> = items.iter().map(|item| text_of(item).map(Value::Text)).collect();
            texts
                .map(Value::List)
                .ok_or_else(|| "an attachment field expects an array of file references (strings)".into())
        }
        FieldKind::Role => role(&value, &expects),
        FieldKind::Date => {
            // A datetime keeps its date, as when a formula stores one.
            let date = |text: &str| Date::parse(text).or_else(|| DateTime::parse(text).map(|instant| instant.date));
            parsed(&value, date, Value::Date, "a date like 2026-11-28", &expects)
        }
        FieldKind::Time => parsed(&value, Time::parse, Value::Time, "a time like 09:30", &expects),
        FieldKind::DateTime => {
            parsed(&value, DateTime::parse, Value::DateTime, "a datetime like 2026-11-28T09:00:00+08:00", &expects)
        }
        FieldKind::Link | FieldKind::Note => Err(format!("a {} field is display only", kind)),
        FieldKind::Serial => Err("a serial field is numbered by the system".to_owned()),
    }
}

fn text_of(value: &Dynamic) -> Option<String> {
    if let Ok(text) = value.as_immutable_string_ref() {
        return Some(text.to_string());
    }
    value.as_char().ok().map(String::from)
}

/// `Some(None)` for an empty string.
fn number_of(value: &Dynamic) -> Option<Option<Decimal>> {
    if let Ok(integer) = value.as_int() {
        return Some(Some(Decimal::from(integer)));
    }
    if let Ok(number) = value.as_decimal() {
        return Some(Some(number));
    }
    let text = value.as_immutable_string_ref().ok()?;
    let text = text.trim();
    if text.is_empty() {
        return Some(None);
    }
    Decimal::from_str(text).ok().map(Some)
}

fn reference(kind: RefKind, value: &Dynamic, expects: &dyn Fn(&str, &Dynamic) -> String) -> Result<Value, String> {
    match value.as_immutable_string_ref() {
        Ok(id) if id.trim().is_empty() => Ok(Value::Null),
        Ok(id) => Ok(Value::Ref(kind, id.trim().to_owned())),
        Err(_) => Err(expects(&format!("a {} id (a string)", kind.noun()), value)),
    }
}

/// An array, or a single string as a list of one.
fn list_of(value: Dynamic, expects: &dyn Fn(&str, &Dynamic) -> String) -> Result<Array, String> {
    if value.is_string() {
        return Ok(vec![value]);
    }
    if !value.is_array() {
        return Err(expects("an array of strings", &value));
    }
    value.try_cast::<Array>().ok_or_else(|| "expects an array of strings".to_owned())
}

fn references(kind: RefKind, value: Dynamic, expects: &dyn Fn(&str, &Dynamic) -> String) -> Result<Value, String> {
    let items = list_of(value, expects)?;
    let mut ids = Vec::with_capacity(items.len());
    for item in &items {
        match reference(kind, item, expects)? {
            Value::Null => {}
            id if ids.contains(&id) => {}
            id => ids.push(id),
        }
    }
    Ok(Value::List(ids))
}

/// A role field holds the role's name as text (as `set` and formulas store it).
fn role(value: &Dynamic, expects: &dyn Fn(&str, &Dynamic) -> String) -> Result<Value, String> {
    let name = value.as_immutable_string_ref().map_err(|_| expects("a role name", value))?;
    let name = name.trim();
    Ok(if name.is_empty() { Value::Null } else { Value::Text(name.to_owned()) })
}

fn parsed<T>(
    value: &Dynamic,
    parse: impl Fn(&str) -> Option<T>,
    wrap: fn(T) -> Value,
    shape: &str,
    expects: &dyn Fn(&str, &Dynamic) -> String,
) -> Result<Value, String> {
    let text = value.as_immutable_string_ref().map_err(|_| expects(shape, value))?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    parse(&text).map(wrap).ok_or_else(|| expects(shape, value))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::ir::{Detail, Expr, ExprKind, Loc, SelectOption};

    const AT: Loc = Loc { file: 0, start: 0, end: 0 };

    fn field(name: &str, kind: FieldKind, detail: Option<usize>, computed: bool) -> Field {
        Field {
            name: name.to_owned(),
            label: name.to_owned(),
            kind,
            detail,
            formula: computed.then_some(Expr { kind: ExprKind::Null, at: AT }),
            options: Vec::new(),
            serial: Vec::new(),
            at: AT,
        }
    }

    /// 说明 text(10), 数量 int, 单价 money, 金额 money, 合计 money = formula, 链接 link, 提示 note,
    /// 类别 select, 加急 check, 日期 date, 审批人 employee, 明细 { 项目 text, 件数 int, 小计 money = formula },
    /// 比例 float(4), 抄送 employees, 大写 money_upper.
    fn form() -> Form {
        let mut category = field("类别", FieldKind::Select, None, false);
        category.options = vec![
            SelectOption { key: "travel".into(), label: "差旅".into(), default: true },
            SelectOption { key: "office".into(), label: "办公".into(), default: false },
        ];
        Form {
            name: "报销".into(),
            label: "报销".into(),
            fields: vec![
                field("说明", FieldKind::Text(Some(10)), None, false),
                field("数量", FieldKind::Int, None, false),
                field("单价", FieldKind::Money, None, false),
                field("金额", FieldKind::Money, None, false),
                field("合计", FieldKind::Money, None, true),
                field("链接", FieldKind::Link, None, false),
                field("提示", FieldKind::Note, None, false),
                category,
                field("加急", FieldKind::Check, None, false),
                field("日期", FieldKind::Date, None, false),
                field("审批人", FieldKind::Employee, None, false),
                field("项目", FieldKind::Text(None), Some(0), false),
                field("件数", FieldKind::Int, Some(0), false),
                field("小计", FieldKind::Money, Some(0), true),
                field("比例", FieldKind::Float(4), None, false),
                field("抄送", FieldKind::Employees, None, false),
                field("大写", FieldKind::MoneyUpper, None, false),
            ],
            details: vec![Detail { name: "明细".into(), label: "明细".into(), columns: vec![11, 12, 13] }],
            validates: Vec::new(),
            formula_order: vec![13, 4],
        }
    }

    fn number(text: &str) -> Value {
        Value::Number(Decimal::from_str(text).unwrap())
    }

    fn text(value: &str) -> Value {
        Value::Text(value.to_owned())
    }

    fn data() -> FormData {
        let mut main = vec![Value::Null; 17];
        main[0] = text("hello");
        main[1] = number("3");
        main[2] = number("4.69");
        main[4] = number("100.00");
        main[7] = text("travel");
        main[8] = Value::Bool(false);
        FormData {
            main,
            tables: vec![vec![
                vec![text("机票"), number("1"), number("1200.00")],
                vec![text("酒店"), number("2"), number("300.00")],
            ]],
        }
    }

    fn run_with(limits: ScriptLimits, source: &str, data: &FormData) -> Result<FormData, ScriptError> {
        let mut scripts = Scripts::new(limits);
        scripts.add("test.rhai", source)?;
        assert!(scripts.contains("test.rhai"));
        scripts.run("test.rhai", &form(), data, "E0101")
    }

    fn run(source: &str) -> Result<FormData, ScriptError> {
        run_with(ScriptLimits::default(), source, &data())
    }

    fn refused(source: &str) -> ScriptError {
        match run(source) {
            Ok(data) => panic!("expected an error from {source:?}, got {data:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn reads_and_sets_a_text_field() {
        let result = run(r#"if form["说明"] == "hello" { form["说明"] = "你好 " + creator; }"#).unwrap();
        assert_eq!(result.main[0], text("你好 E0101"));
        let mut expected = data();
        expected.main[0] = text("你好 E0101");
        assert_eq!(result, expected, "nothing else changes");
        // Unicode property syntax works too.
        assert_eq!(run("form.说明 = creator;").unwrap().main[0], text("E0101"));
    }

    #[test]
    fn an_untouched_form_comes_back_unchanged() {
        assert_eq!(run("let x = form.数量 + 1;").unwrap(), data());
        assert_eq!(run("form.明细 = form.明细; form.合计 = form.合计;").unwrap(), data());
    }

    #[test]
    fn money_from_int_times_money_rounds_half_away_from_zero() {
        let script = "form.金额 = form.数量 * form.单价 * 0.5;";
        let mut input = data();
        input.main[1] = number("1");
        assert_eq!(run_with(ScriptLimits::default(), script, &input).unwrap().main[3], number("2.35"));
        input.main[1] = number("-1");
        assert_eq!(run_with(ScriptLimits::default(), script, &input).unwrap().main[3], number("-2.35"));
        // int * money stays exact: 3 × 4.69.
        assert_eq!(run("form.金额 = form.数量 * form.单价;").unwrap().main[3], number("14.07"));
        // float(4) keeps four places; numeric strings and integers are numbers too.
        assert_eq!(run("form.比例 = 2.0 / 3;").unwrap().main[14], number("0.6667"));
        assert_eq!(run(r#"form.金额 = " 12.345 ";"#).unwrap().main[3], number("12.35"));
        assert_eq!(run("form.金额 = 7;").unwrap().main[3], number("7"));
        // `round` rounds half away from zero, like the language's.
        assert_eq!(run("form.金额 = round(2.5) + round(-0.125, 2);").unwrap().main[3], number("2.87"));
        assert_eq!(run("form.数量 = to_int(round(2.5));").unwrap().main[1], number("3"));
        assert_eq!(run("form.数量 = 4.00;").unwrap().main[1], number("4"));
    }

    #[test]
    fn sets_a_detail_rows_column_and_adds_rows() {
        let result = run(r#"form.明细[0].件数 = 5; form["明细"].push(#{ "项目": "出租车" });"#).unwrap();
        let rows = &result.tables[0];
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], vec![text("机票"), number("5"), number("1200.00")], "the computed cell is kept");
        assert_eq!(rows[1], data().tables[0][1]);
        assert_eq!(rows[2], vec![text("出租车"), Value::Null, Value::Null]);
        // Rows may move with their computed cells (they are recomputed afterwards).
        let swapped = run("let first = form.明细[0]; form.明细[0] = form.明细[1]; form.明细[1] = first;").unwrap();
        assert_eq!(swapped.tables[0][0], data().tables[0][1]);
        assert_eq!(swapped.tables[0][1], data().tables[0][0]);
        assert_eq!(run("form.明细 = [];").unwrap().tables[0], Vec::<Vec<Value>>::new());
    }

    #[test]
    fn refuses_computed_link_note_and_unknown_fields() {
        let error = refused("form.合计 = 1;");
        assert!(error.message.contains("`合计`") && error.message.contains("computed"), "{error}");
        assert!(!error.limit);
        let error = refused("form.明细[1].小计 = 99;");
        assert!(error.message.contains("`明细` row 2, column `小计`") && error.message.contains("computed"), "{error}");
        let error = refused(r#"form.链接 = "https://example.com";"#);
        assert!(error.message.contains("`链接`") && error.message.contains("link"), "{error}");
        let error = refused(r#"form.提示 = "x";"#);
        assert!(error.message.contains("`提示`") && error.message.contains("note"), "{error}");
        let error = refused(r#"form["不存在"] = 1;"#);
        assert!(error.message.contains("no field `不存在`"), "{error}");
        let error = refused("form.不存在 = 1;");
        assert!(error.message.contains("no field `不存在`"), "{error}");
        let error = refused("form.件数 = 1;");
        assert!(error.message.contains("column of detail table `明细`"), "{error}");
        let error = refused(r#"form.明细.push(#{ "颜色": "红" });"#);
        assert!(error.message.contains("no column `颜色`"), "{error}");
        let error = refused(r#"form.remove("说明");"#);
        assert!(error.message.contains("removed field `说明`"), "{error}");
        let error = refused("form = 5;");
        assert!(error.message.contains("not a map"), "{error}");
        // Reading a misspelt field fails too, with its line.
        let error = refused("let a = 1;\nlet b = form.数两;");
        assert_eq!(error.line, Some(2), "{error}");
    }

    #[test]
    fn refuses_values_of_the_wrong_type() {
        let error = refused(r#"form.数量 = "abc";"#);
        assert!(error.message.contains("field `数量`") && error.message.contains("number"), "{error}");
        let error = refused("form.数量 = 2.5;");
        assert!(error.message.contains("whole number"), "{error}");
        let error = refused("form.加急 = 1;");
        assert!(error.message.contains("field `加急`"), "{error}");
        let error = refused("form.说明 = 12;");
        assert!(error.message.contains("to_string"), "{error}");
        let error = refused(r#"form.日期 = "28/11/2026";"#);
        assert!(error.message.contains("date"), "{error}");
        let error = refused(r#"form.类别 = "食品";"#);
        assert!(error.message.contains("`travel`, `office`"), "{error}");
        let error = refused("form.大写 = 10000000000000000;");
        assert!(error.message.contains("field `大写`") && error.message.contains("Chinese capitals"), "{error}");
        assert_eq!(run("form.大写 = 1680.325;").unwrap().main[16], number("1680.33"));
        let error = refused("form.明细 = 3;");
        assert!(error.message.contains("array of rows"), "{error}");
        let error = refused("form.明细[0] = 3;");
        assert!(error.message.contains("row 1"), "{error}");
    }

    #[test]
    fn converts_other_kinds() {
        let result = run(r#"form.类别 = "办公"; form.加急 = true; form.日期 = "2026-11-28"; form.审批人 = "E0102";
               form.抄送 = ["E0103", "E0104"]; form.单价 = ();"#)
        .unwrap();
        assert_eq!(result.main[7], text("office"), "a label is stored as its key");
        assert_eq!(result.main[8], Value::Bool(true));
        assert_eq!(result.main[9], Value::Date(Date::parse("2026-11-28").unwrap()));
        assert_eq!(result.main[10], Value::Ref(RefKind::Employee, "E0102".into()));
        assert_eq!(
            result.main[15],
            Value::List(vec![
                Value::Ref(RefKind::Employee, "E0103".into()),
                Value::Ref(RefKind::Employee, "E0104".into())
            ])
        );
        assert_eq!(result.main[2], Value::Null);
        let result = run(r#"form.加急 = (); form.日期 = "2026-11-28T09:00:00+08:00"; form.抄送 = "E0105";"#).unwrap();
        assert_eq!(result.main[8], Value::Bool(false), "an emptied check is false");
        assert_eq!(result.main[9], Value::Date(Date::parse("2026-11-28").unwrap()));
        assert_eq!(result.main[15], Value::List(vec![Value::Ref(RefKind::Employee, "E0105".into())]));
        // Dates are read as ISO strings.
        let mut input = data();
        input.main[9] = Value::Date(Date::parse("2026-01-05").unwrap());
        let result = run_with(ScriptLimits::default(), r#"if form.日期 == "2026-01-05" { form.说明 = "ok"; }"#, &input);
        assert_eq!(result.unwrap().main[0], text("ok"));
    }

    #[test]
    fn refuses_an_over_long_text() {
        assert_eq!(run(r#"form.说明 = "一二三四五六七八九十";"#).unwrap().main[0], text("一二三四五六七八九十"));
        let error = refused(r#"form.说明 = "一二三四五六七八九十一";"#);
        assert!(error.message.contains("at most 10 characters, not 11"), "{error}");
    }

    #[test]
    fn an_infinite_loop_stops_on_the_operation_limit() {
        let error = refused("let a = 0;\nloop {}");
        assert!(error.limit, "{error}");
        assert!(error.message.contains("1000000 operations"), "{error}");
        assert_eq!(error.line, Some(2));
        // With no practical operation bound, the time bound ends it.
        let error = run_with(
            ScriptLimits {
                max_duration: Duration::from_millis(50),
                max_operations: u64::MAX,
                ..ScriptLimits::default()
            },
            "loop {}",
            &data(),
        )
        .unwrap_err();
        assert!(error.limit && error.message.contains("longer than its limit of 50ms"), "{error}");
    }

    #[test]
    fn growing_values_stop_on_the_size_limits() {
        let error = refused(r#"let s = "x"; loop { s += s; }"#);
        assert!(error.limit && error.message.contains("bytes of text"), "{error}");
        let error = refused("let a = [1]; loop { a += a; }");
        assert!(error.limit && error.message.contains("array items"), "{error}");
        // Deep nesting overflows no stack building, measuring or dropping it. Each turn re-measures
        // the whole value, so these are quadratic: the time bound ends them when the size bound
        // is too far away.
        let quick = ScriptLimits { max_duration: Duration::from_millis(300), ..ScriptLimits::default() };
        for source in ["let a = []; loop { a = [a]; }", "let m = #{}; loop { m = #{ inner: m }; }"] {
            let error = run_with(quick.clone(), source, &data()).unwrap_err();
            assert!(error.limit, "{error}");
        }
        // Values that double, or nest through other routes, are bounded too.
        for source in [
            "let a = [1]; loop { a.push(a); }",
            "let a = [1]; loop { a.append(a); }",
            "let a = [1]; loop { a.insert(0, a); }",
            "let a = [1]; loop { a = [a, a]; }",
            "let m = #{ x: 1 }; loop { m.x = m; }",
            "let m = #{ x: 1 }; loop { m[\"y\" + m.len()] = m; }",
            "let m = #{ x: 1 }; loop { m.mixin(#{ y: m }); }",
            "let a = [#{}]; loop { a[0].x = a; }",
            r#"let s = "ab"; loop { s = s + s; }"#,
            r#"let s = "ab"; loop { s.append(s); }"#,
            r#"let a = ["abc"]; loop { a += a; }"#,
            "form.明细 = [form.明细]; loop { form.明细.push(form.明细); }",
        ] {
            let error = run_with(quick.clone(), source, &data()).unwrap_err();
            assert!(error.limit, "{source}: {error}");
        }
        // The size bound, not the time bound, must end these: give them time even on a loaded machine.
        let small = ScriptLimits {
            max_array_len: 2_000,
            max_map_len: 2_000,
            max_duration: Duration::from_secs(120),
            ..ScriptLimits::default()
        };
        let error = run_with(small.clone(), "let a = []; loop { a = [a]; }", &data()).unwrap_err();
        assert!(error.limit && error.message.contains("2000 array items"), "{error}");
        let error = run_with(small, "let m = #{}; loop { m = #{ inner: m }; }", &data()).unwrap_err();
        assert!(error.limit && error.message.contains("2000 map entries"), "{error}");
        let error = refused("fn deeper(n) { deeper(n + 1) }\ndeeper(0);");
        assert!(error.limit && error.message.contains("nested"), "{error}");
        let error = refused(&format!("let x = {}1{};", "(".repeat(200), ")".repeat(200)));
        assert!(error.limit, "{error}");
        let error = refused(r#"form.说明 = "x".pad(2000000, "y");"#);
        assert!(error.limit, "{error}");
    }

    #[test]
    fn a_form_larger_than_the_limits_is_refused_up_front() {
        let limits = ScriptLimits { max_string_len: 8, ..ScriptLimits::default() };
        let error = run_with(limits, "let a = 1;", &data()).unwrap_err();
        assert!(error.limit && error.message.contains("too large"), "{error}");
    }

    #[test]
    fn syntax_errors_report_their_line() {
        let mut scripts = Scripts::default();
        let error = scripts.add("bad.rhai", "let a = 1;\nlet b = ;\n").unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
        assert!(error.column.is_some());
        assert!(error.message.starts_with("syntax error"), "{error}");
        assert!(!scripts.contains("bad.rhai"));
        // Undeclared variables are compile errors.
        let error = scripts.add("bad.rhai", "let a = 1;\n\nb = 2;").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
    }

    #[test]
    fn runtime_errors_report_their_line() {
        let error = refused("let a = 1;\nlet b = 0;\nlet c = a / b;\n");
        assert_eq!(error.line, Some(3), "{error}");
        assert!(!error.limit);
        let error = refused("fn check(x) {\n  if x > 1 {\n    throw \"预算不足\";\n  }\n}\ncheck(form.数量);");
        assert_eq!(error.message, "预算不足 (in function `check`)");
        assert_eq!(error.line, Some(3));
        let error = refused("let a = [1, 0];\nlet b = a.map(|x| 1 / x);");
        assert!(error.message.contains("anonymous"), "{error}");
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn creator_is_visible_and_constant() {
        assert_eq!(run(r#"if creator == "E0101" { form.说明 = "mine"; }"#).unwrap().main[0], text("mine"));
        let mut scripts = Scripts::default();
        let outcome =
            scripts.add("c.rhai", r#"creator = "E9";"#).and_then(|()| scripts.run("c.rhai", &form(), &data(), "E1"));
        assert!(outcome.is_err());
    }

    #[test]
    fn no_clock_eval_sleep_or_output() {
        for source in [
            "let t = timestamp();",
            "sleep(1);",
            "let f = Fn(\"x\"); let g = f.curry(1);",
            "let x = eval(\"1\");",
            "exit();",
            "import \"x\" as y;",
        ] {
            assert!(run(source).is_err(), "{source} should fail");
        }
        assert_eq!(run(r#"print("hi"); debug(form); form.说明 = "printed";"#).unwrap().main[0], text("printed"));
    }

    #[test]
    fn scripts_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Scripts>();
    }

    #[test]
    fn unknown_script_is_an_error() {
        let error = Scripts::default().run("missing.rhai", &form(), &data(), "E1").unwrap_err();
        assert!(error.message.contains("missing.rhai"));
    }

    #[test]
    fn edge_cases_are_errors_not_panics() {
        let sources = [
            "let x = 9223372036854775807 + 1;",
            "let x = -9223372036854775807 - 2;",
            "let x = abs(-9223372036854775807 - 1);",
            "let x = (-9223372036854775807 - 1) / -1;",
            "let x = (-9223372036854775807 - 1) % -1;",
            "let x = 1 << 64; let y = 1 >> -1; let z = 2 ** 100;",
            "let x = 79228162514264337593543950335.0 * 10;",
            "let x = 1.5 / 0.0;",
            "let x = 2.5 ** 1000000;",
            "let x = (-2.5) ** 0.5;",
            "let x = 0.0 ** -1;",
            "let x = round(1.5, -1);",
            "let x = to_int(79228162514264337593543950335.0);",
            "let x = parse_decimal(\"abc\");",
            r#"let s = "abc"; let x = s.sub_string(-100, 1000); let y = s[10];"#,
            r#"let s = "abc"; s.pad(-5, "x"); let t = s.split(-1); s.truncate(-1); s.crop(5, -3);"#,
            "let a = [1, 2, 3]; let b = a.extract(-5, 100); a.pad(-1, 0); let c = a[-10];",
            "let a = [1, 2, 3]; a.splice(10, -5, [4]); a.truncate(-1); let d = a.drain(-9, 99);",
            "let a = [3, \"x\", ()]; a.sort();",
            "let r = range(0, 10, 0);",
            "for i in range(9223372036854775800, 9223372036854775807, 5) {}",
            "let f = Fn(\"nope\"); f.call();",
            "let m = #{}; m[\"\"] = 1; let k = m.keys(); let v = m.values();",
            "form.明细[99].件数 = 1;",
            "form.明细[0] = #{ \"小计\": \"x\" };",
            "form.金额 = 79228162514264337593543950335.0;",
            "form.金额 = \"1e5\";",
        ];
        for source in sources {
            let _ = run(source);
        }
    }
}
