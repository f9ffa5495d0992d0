//! The file primitives on a local connection (temp dirs of this machine).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::transport::local::LocalConnection;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn local() -> Connection {
    Connection::Local(LocalConnection::new("localhost"))
}

#[tokio::test]
async fn stat_reports_file_dir_link_and_missing() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a file\nwith newline");
    std::fs::write(&f, b"hello").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let l = dir.path().join("link");
    std::os::unix::fs::symlink(&f, &l).unwrap();
    let c = local();
    let fs = f.to_str().unwrap();
    let st = stat(&c, fs, false, Some(Checksum::Sha1), &None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.kind, FileKind::File);
    assert_eq!(st.mode_string(), "0640");
    assert_eq!(st.size, 5);
    assert_eq!(
        st.checksum.as_deref(),
        Some("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")
    );
    assert_eq!(st.uid, std::fs::metadata(&f).unwrap().uid());
    let ls = stat(&c, l.to_str().unwrap(), false, Some(Checksum::Sha1), &None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ls.kind, FileKind::Link);
    assert_eq!(ls.link_target.as_deref(), Some(fs));
    assert_eq!(ls.checksum, None);
    let lf = stat(&c, l.to_str().unwrap(), true, Some(Checksum::Sha256), &None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lf.kind, FileKind::File);
    assert_eq!(lf.checksum.unwrap(), Checksum::Sha256.digest(b"hello"));
    let d = stat(&c, dir.path().to_str().unwrap(), false, None, &None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.kind, FileKind::Directory);
    let missing = dir.path().join("nope");
    assert!(
        stat(&c, missing.to_str().unwrap(), false, None, &None)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(read(&c, fs, &None).await.unwrap().unwrap(), b"hello");
    assert!(read(&c, dir.path().to_str().unwrap(), &None).await.is_err());
}

#[tokio::test]
async fn write_atomic_sets_attrs_backs_up_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("conf");
    let fs = f.to_str().unwrap();
    let c = local();
    let opts = WriteOptions {
        attrs: FileAttrs {
            mode: Some(0o600),
            ..Default::default()
        },
        report: true,
        ..Default::default()
    };
    let out = write_atomic(&c, fs, b"one\n", &opts, &None).await.unwrap();
    assert_eq!(std::fs::read(&f).unwrap(), b"one\n");
    assert_eq!(std::fs::metadata(&f).unwrap().mode() & 0o7777, 0o600);
    let written = out.written.unwrap();
    assert_eq!((written.mode, written.size), (0o600, 4));
    assert_eq!(written.owner.uid, std::fs::metadata(&f).unwrap().uid());
    // No mode given: the existing mode is kept; backup made.
    let opts = WriteOptions {
        backup: true,
        ..Default::default()
    };
    let out = write_atomic(&c, fs, b"two\n", &opts, &None).await.unwrap();
    assert_eq!(std::fs::metadata(&f).unwrap().mode() & 0o7777, 0o600);
    let bf = out.backup_file.unwrap();
    assert!(bf.starts_with(&format!("{fs}.")) && bf.ends_with('~'));
    assert_eq!(std::fs::read(&bf).unwrap(), b"one\n");
    // Validation failure leaves the file alone and no temp file behind.
    let opts = WriteOptions {
        validate: Some("grep -q good %s".into()),
        ..Default::default()
    };
    let err = write_atomic(&c, fs, b"bad\n", &opts, &None).await.unwrap_err();
    assert!(matches!(err, FilesError::Validate { rc: 1, .. }), "{err}");
    assert_eq!(std::fs::read(&f).unwrap(), b"two\n");
    write_atomic(&c, fs, b"good\n", &opts, &None).await.unwrap();
    assert_eq!(std::fs::read(&f).unwrap(), b"good\n");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 2, "only the file and its backup remain");
    // chown happens before chmod, so setuid survives an owner change (root only).
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        let opts = WriteOptions {
            attrs: FileAttrs {
                mode: Some(0o4750),
                owner: Some("nobody".into()),
                group: None,
            },
            ..Default::default()
        };
        write_atomic(&c, fs, b"good\n", &opts, &None).await.unwrap();
        let md = std::fs::metadata(&f).unwrap();
        assert_eq!((md.mode() & 0o7777, md.uid()), (0o4750, 65534));
    }
    // Missing directory fails unless create_parents.
    let deep = dir.path().join("x/y/z");
    let err = write_atomic(&c, deep.to_str().unwrap(), b"", &WriteOptions::default(), &None).await;
    assert!(err.is_err());
}

#[tokio::test]
async fn mkdir_link_touch_remove() {
    let dir = tempfile::tempdir().unwrap();
    let c = local();
    let deep = dir.path().join("a/b c/d");
    let attrs = FileAttrs {
        mode: Some(0o750),
        ..Default::default()
    };
    let created = mkdir(&c, deep.to_str().unwrap(), &attrs, &None).await.unwrap();
    assert_eq!(created.len(), 3);
    assert_eq!(
        std::fs::metadata(dir.path().join("a")).unwrap().mode() & 0o7777,
        0o750
    );
    assert!(
        mkdir(&c, deep.to_str().unwrap(), &attrs, &None)
            .await
            .unwrap()
            .is_empty()
    );
    let t = dir.path().join("t");
    touch(&c, t.to_str().unwrap(), &FileAttrs::default(), &None)
        .await
        .unwrap();
    assert!(t.is_file());
    let l = dir.path().join("l");
    link(&c, "t", l.to_str().unwrap(), true, &FileAttrs::default(), &None)
        .await
        .unwrap();
    assert_eq!(std::fs::read_link(&l).unwrap().to_str().unwrap(), "t");
    link(&c, "a", l.to_str().unwrap(), true, &FileAttrs::default(), &None)
        .await
        .unwrap();
    assert_eq!(std::fs::read_link(&l).unwrap().to_str().unwrap(), "a");
    assert!(
        remove(&c, dir.path().join("a").to_str().unwrap(), &None)
            .await
            .unwrap()
    );
    assert!(
        !remove(&c, dir.path().join("a").to_str().unwrap(), &None)
            .await
            .unwrap()
    );
    let changed = set_attrs_recursive(
        &c,
        dir.path().to_str().unwrap(),
        Some("0700"),
        None,
        None,
        true,
        &None,
    )
    .await
    .unwrap();
    assert!(changed);
}
