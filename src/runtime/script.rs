//! TEMPORARY stub until the Rhai sandbox lands (same API).
use super::value::FormData;
use crate::ir::Form;
#[derive(Debug, Clone, Default)]
pub struct ScriptLimits;
#[derive(Debug, Clone)]
pub struct ScriptError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub limit: bool,
}
pub struct Scripts;
impl Scripts {
    pub fn new(_limits: ScriptLimits) -> Self {
        Scripts
    }
    pub fn add(&mut self, _path: &str, _source: &str) -> Result<(), ScriptError> {
        Ok(())
    }
    pub fn contains(&self, _path: &str) -> bool {
        false
    }
    pub fn run(&self, path: &str, _form: &Form, _data: &FormData, _creator: &str) -> Result<FormData, ScriptError> {
        Err(ScriptError {
            message: format!("scripts are not available ({path})"),
            line: None,
            column: None,
            limit: false,
        })
    }
}
