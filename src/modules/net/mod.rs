//! Modules that make HTTP requests from the host: `get_url` (with the host's curl, see
//! [`curl`]).

pub mod curl;
pub mod get_url;
