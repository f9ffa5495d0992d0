//! Unit tests of git's pure decisions.

use super::settings::*;

#[test]
fn the_ssh_command_is_built_as_the_module_builds_it() {
    let none = Env::default();
    assert_eq!(ssh_command(&none, None, false, None), "ssh  -o BatchMode=yes");
    assert_eq!(
        ssh_command(&none, Some("-o StrictHostKeyChecking=no"), true, Some("/k")),
        "ssh  -o StrictHostKeyChecking=no -o BatchMode=yes  -i /k -o IdentitiesOnly=yes"
    );
    let env = Env {
        ssh_opts: Some("-v".into()),
        git_ssh: Some("/srv/fakessh".into()),
        git_ssh_command: Some("other".into()),
    };
    assert_eq!(
        ssh_command(&env, Some("-p 22"), false, None),
        "/srv/fakessh -v -p 22 -o BatchMode=yes"
    );
    let env = Env {
        git_ssh_command: Some("ssh -4".into()),
        ..Env::default()
    };
    assert_eq!(ssh_command(&env, None, false, None), "ssh -4  -o BatchMode=yes");
}

#[test]
fn host_key_options_join_ssh_opts_once() {
    assert_eq!(host_key_opts(None, "no"), "-o StrictHostKeyChecking=no");
    assert_eq!(
        host_key_opts(Some("-v".into()), "accept-new"),
        "-v -o StrictHostKeyChecking=accept-new"
    );
    assert_eq!(
        host_key_opts(Some("-o StrictHostKeyChecking=accept-new".into()), "no"),
        "-o StrictHostKeyChecking=accept-new"
    );
}

#[test]
fn umask_text_is_read_as_int_base_8() {
    assert_eq!(parse_umask("0022"), Ok(Some(0o22)));
    assert_eq!(parse_umask(" 077 "), Ok(Some(0o77)));
    assert_eq!(parse_umask("0o27"), Ok(Some(0o27)));
    assert_eq!(parse_umask("0_22"), Ok(Some(0o22)));
    assert_eq!(parse_umask("-1"), Ok(None));
    assert_eq!(parse_umask("7777"), Ok(None));
    assert_eq!(
        parse_umask("abc"),
        Err("invalid literal for int() with base 8: 'abc'".to_string())
    );
    assert!(parse_umask("08").is_err());
    assert!(parse_umask("").is_err());
}

#[test]
fn git_versions_and_locales() {
    assert_eq!(git_version("git version 2.39.5\n"), Some(vec![2, 39, 5]));
    assert_eq!(git_version("nope"), None);
    assert_eq!(best_locale(0, "C\nC.utf8\nPOSIX\n"), "C.utf8");
    assert_eq!(best_locale(0, "C\nPOSIX\n"), "C");
    assert_eq!(best_locale(1, ""), "C");
}

#[test]
fn text_the_module_splits_goes_to_python() {
    assert!(needs_python("a b"));
    assert!(needs_python("$HOME/x"));
    assert!(needs_python("~x"));
    assert!(!needs_python("file:///srv/repo.git"));
    assert!(!needs_python("feature/x"));
}
