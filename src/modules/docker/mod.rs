//! Modules that drive Docker on the host (images, Compose projects).

mod compose_read;
pub mod docker_compose;
pub mod docker_image;
