//! Modules that run commands and manage packages, services, users and groups.

pub mod apt;
pub mod command;
pub mod group;
pub mod service;
pub mod user;
pub mod user_plan;
