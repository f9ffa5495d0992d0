//! Modules that control the run itself: messages, assertions, failures and waits.

pub mod argspec_checks;
pub mod assert;
pub mod async_status;
pub mod debug;
pub mod fail;
pub mod pause;
pub mod validate_argument_spec;
pub mod wait_for;
