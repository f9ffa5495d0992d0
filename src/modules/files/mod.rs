//! Modules that read, write and edit files on the host, and the shared file engines.

pub(crate) mod attributes;
pub mod blockinfile;
pub mod copy;
pub(crate) mod copy_tree;
pub mod edit;
pub mod fetch;
pub mod file;
pub mod find;
pub mod find_listing;
pub mod fnmatch;
pub mod ini_file;
pub mod lineinfile;
pub mod put;
pub mod pyre;
pub(crate) mod registered;
pub mod replace;
pub mod secret_file;
pub mod slurp;
pub mod stat;
pub mod tar_listing;
pub mod tempfile;
pub mod template;
pub mod unarchive;
