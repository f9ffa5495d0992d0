//! Modules that run commands and manage packages (apt, and package over it), services, users
//! and groups.

pub mod apt;
pub mod apt_repository;
pub mod authorized_key;
pub mod command;
pub mod cron;
pub mod crontab;
pub mod deb822_repository;
pub mod debconf;
pub mod fstab;
pub mod getent;
pub mod group;
pub mod known_hosts;
pub mod mount;
pub mod package;
pub mod package_facts;
pub mod pam_limits;
pub mod ping;
pub mod raw;
pub mod script;
pub mod service;
pub mod service_facts;
pub mod ssh_keys;
pub mod sysctl;
pub mod user;
pub mod user_plan;
