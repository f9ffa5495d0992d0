//! Modules run directly against a real local connection (`ansible_connection: local`).

use std::path::PathBuf;

use serde_json::Value;
use talon::modules::{self, ModuleContext, ModuleOutcome};
use talon::template::{Scope, Templater};
use talon::transport::Connection;
use talon::transport::local::LocalConnection;
use talon::vars::Vars;

/// A connection to this machine with an empty scope, for calling modules one by one.
pub struct LocalEnv {
    pub conn: Connection,
    pub scope: Scope,
    pub templater: Templater,
    /// Where a relative `src` is looked up.
    pub search: Vec<PathBuf>,
    /// The inventory name modules see (e.g. in fetch's `dest/HOST/` layout).
    pub host: &'static str,
}

impl LocalEnv {
    pub fn new() -> Self {
        Self::with_connection(Connection::Local(LocalConnection::new("localhost")), "localhost")
    }

    /// The same, over another connection (e.g. SSH to a lab host, [`super::Lab::connect`]).
    pub fn with_connection(conn: Connection, host: &'static str) -> Self {
        LocalEnv {
            conn,
            scope: Scope::default(),
            templater: Templater::new(),
            search: Vec::new(),
            host,
        }
    }

    pub fn ctx(&self, check: bool, diff: bool) -> ModuleContext<'_> {
        ModuleContext {
            conn: &self.conn,
            host: self.host,
            check,
            diff,
            become_: None,
            scope: &self.scope,
            templater: &self.templater,
            search_paths: &self.search,
            env: &[],
            secrets: &talon::secrets::NONE,
            delegation: None,
        }
    }

    /// Runs a registered module with JSON args (check mode as given, no diff).
    pub async fn run(&self, module: &str, args: Value, check: bool) -> ModuleOutcome {
        self.run_mode(module, args, check, false).await
    }

    /// Runs a registered module with JSON args.
    pub async fn run_mode(&self, module: &str, args: Value, check: bool, diff: bool) -> ModuleOutcome {
        let args: Vars = serde_json::from_value(args).unwrap();
        assert!(modules::lookup(module).is_some(), "{module} is registered");
        modules::run(module, &args, &self.ctx(check, diff)).await.unwrap()
    }
}
