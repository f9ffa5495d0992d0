//! `copy` compared with `ansible-playbook` (ansible-core 2.19): directory sources (with and
//! without a trailing slash, `directory_mode`, `local_follow`), `mode: preserve`, `checksum`
//! and `remote_src`. Each fixture runs twice on the same hosts: the second run must change
//! nothing, on both sides.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

/// Runs `name` twice with both tools; returns talon's two outcomes' lines.
fn twice(name: &str) -> (Vec<String>, Vec<String>) {
    let c = Compare::new();
    let (first, _) = c.same(&fixture(name), &[]);
    let (second, a) = c.same(&fixture(name), &[]);
    assert_eq!(
        second.recap[0][1], 0,
        "second run changed something:\n{}",
        second.stdout
    );
    assert_eq!(
        a.recap[0][1], 0,
        "ansible's second run changed something:\n{}",
        a.stdout
    );
    (first.lines, second.lines)
}

#[test]
fn d11_copy_directory_src_mode_preserve_local_follow_and_checksum() {
    let (first, _) = twice("copy_dir.yml");
    assert!(
        first.iter().any(|l| l.contains("/tmp/cd1/sub d 750")),
        "directory_mode applies to an existing directory of the tree: {first:#?}"
    );
    assert!(
        first
            .iter()
            .any(|l| l.contains("/tmp/cd3/a/b/link-to-a l 777 a.txt")),
        "local_follow: false keeps links: {first:#?}"
    );
    assert!(
        first
            .iter()
            .any(|l| l.starts_with("show checksums") && l.contains("does not match the expected checksum")),
        "{first:#?}"
    );
}

#[test]
fn d11_copy_remote_src_file_modes_checksum_and_missing_source() {
    let (first, _) = twice("copy_remote.yml");
    assert!(
        first.iter().any(|l| l.contains("/tmp/rs-old f 700")),
        "a replaced file takes the source's mode: {first:#?}"
    );
    assert!(
        first.iter().any(|l| l.contains("Source /tmp/rs/nope not found")),
        "{first:#?}"
    );
}

#[test]
fn d11_copy_remote_src_directory_as_the_module_copies_it() {
    let c = Compare::new();
    let (first, _) = c.same(&fixture("copy_remote_dir.yml"), &[]);
    // Run again: only the two copies made before the source changed pick the change up.
    let (second, a) = c.same(&fixture("copy_remote_dir.yml"), &[]);
    assert_eq!((second.recap[0][1], a.recap[0][1]), (2, 2), "{:#?}", second.lines);
    let first = first.lines;
    for want in [
        "/tmp/rd/d1/src/sub/b f 644 root 2",
        "/tmp/rd/d2 d 750 root",
        "/tmp/rd/d2/sub/b f 644 root 3",
        "/tmp/rd/d2/mine f 644 root",
        "/tmp/rd/d2/c f 640 root 2",
        "/tmp/rd/d3/src/lnk l 777 nobody 1 a",
        "/tmp/rd/d3/src/.hidden f 644 nobody 2",
    ] {
        assert!(first.iter().any(|l| l.contains(want)), "{want}: {first:#?}");
    }
}
