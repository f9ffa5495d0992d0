//! talon: push configuration to hosts over SSH, running Ansible-format playbooks.
//!
//! The flow of a run: [`cli`] (what was typed) -> [`config`] (resolved options) -> [`inventory`]
//! -> [`playbook`] (strictly loaded plays, roles, tasks) -> [`runner`] (hosts in parallel, tasks
//! in order, modules over one SSH connection per host) -> [`report`] (progress, recap, JSON).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod ansible_cfg;
pub mod app;
pub mod cli;
pub mod config;
pub mod error;
pub mod galaxy;
pub mod input;
pub mod inventory;
pub mod lab;
pub mod modules;
pub mod osenv;
pub mod playbook;
pub mod pyini;
pub mod pyyaml;
pub mod report;
pub mod runner;
pub mod secrets;
pub mod template;
pub mod transport;
pub mod vars;
pub mod vault;
pub mod verify;
pub mod yaml;
mod yaml11;
