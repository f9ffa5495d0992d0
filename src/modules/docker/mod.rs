//! Modules that drive Docker on the host (images, Compose projects).

pub mod docker_compose;
pub mod docker_image;
