//! talon: push configuration to hosts over SSH, running Ansible-format playbooks.
//!
//! See `DESIGN` in the README for the flow of a run: cli -> config -> inventory -> playbook ->
//! runner -> report.

pub mod inventory;
pub mod modules;
pub mod template;
pub mod transport;
pub mod vars;
pub mod yaml;
