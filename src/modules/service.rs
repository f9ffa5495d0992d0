//! stub
use super::{ModuleContext, ModuleError, ModuleInfo, ModuleOutcome};
use crate::vars::Vars;
/// stub
pub static INFO: ModuleInfo = ModuleInfo {
    name: "service",
    args: &[],
    free_form: false,
};
/// stub
pub static SYSTEMD_INFO: ModuleInfo = ModuleInfo {
    name: "systemd",
    args: &[],
    free_form: false,
};
/// stub
pub async fn run(_args: &Vars, _ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    Ok(ModuleOutcome::ok())
}
/// stub
pub async fn run_systemd(_args: &Vars, _ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    Ok(ModuleOutcome::ok())
}
