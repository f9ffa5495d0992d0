//! Lookups as real roles write them, compared with `ansible-playbook` (ansible-core 2.19 and
//! community.general's `flattened`): the fixture tests/fixtures/compare/lookups.yml runs each
//! lookup as `lookup()`, `query()` and `with_<lookup>` with talon on one fresh lab host and
//! with ansible-playbook on another; statuses, the values of `show ...` tasks, the recap and
//! the exit code must be identical. Issue 13.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

#[test]
fn d13_lookups_as_ansible_core_runs_them() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::new();
    let creds = c.lab.dir.path().join("creds");
    let pw_dir = format!("pw_dir={}", creds.display());
    let (t, _) = c.same_env(&fixture("lookups.yml"), &["-e", &pw_dir], &env);
    for want in [
        r#"show dict => ok msg=[{"key":"alice","value":{"keys":["k1","k2"],"uid":1001}},{"key":"bob","value":{"uid":1002}}]"#,
        r#"show with_dict => ok items=["ok", "ok"]"#,
        r#"show subelements => ok msg=[[{"name":"alice","opts":{"groups":["a","b"]}},"k1"],"#,
        r#"show with_subelements nested key => ok items=["ok", "ok"]"#,
        "fails subelements missing key => failed",
        r#"show nested => ok items=["ok", "ok", "ok", "ok"]"#,
        r#"show together => ok msg=[[1,"x"],[2,"y"],[3,null]]"#,
        r#"show sequence => ok msg=["host01","host02","host03","host04","0","2","4","10","5","0","n1,n2,n3"]"#,
        r#"show with_sequence => ok items=["ok", "ok", "ok"]"#,
        "fails sequence backwards => failed",
        "fails with_sequence unknown argument => failed",
        r#"show fileglob => ok msg=["a.conf","b.conf"]"#,
        r#"show lines => ok msg=["a","b"]"#,
        r#"show varnames => ok msg=["app_port","app_users"]"#,
        r#"show indexed_items => ok msg=[[0,"a"],[1,"b"],[2,"c"]]"#,
        "show inventory_hostnames => ok msg=[true,true,true,[],[]]",
        r#"show ini => ok msg=["alice","bob","/srv/alice","dflt",["5432"],"eu","alice","5433"]"#,
        "fails ini missing section => failed",
        "fails ini missing file => failed",
        r#"show csvfile => ok msg=["10.0.0.2","rack 1","1002","none",[]]"#,
        "fails csvfile missing file => failed",
        "show random_choice => ok msg=true",
        r#"show list and items => ok msg="[1, 2] [[1, 2]] [1, 2, 3] []""#,
        "show password => ok msg=[8,12]",
        "show password again is the same => ok msg=true",
        r#"show flattened => ok msg=[1,2,3,4,"x",5]"#,
        r#"show list lookups shaped as ansible-core => ok msg=[{"key":"one","value":1},["a"],[],null,[]]"#,
    ] {
        assert!(
            t.lines.iter().any(|l| l.starts_with(want)),
            "{want}: {:#?}",
            t.lines
        );
    }
    // ansible-core's message shape; talon names the missing file where ansible-core says
    // "Invalid filename None".
    for want in [
        "The lookup plugin 'subelements' failed: could not find 'keys' key in iterated item '{'name': 'bob'}'",
        "The lookup plugin 'sequence' failed: to count backwards make stride negative",
        "The lookup plugin 'sequence' failed: unrecognized arguments to with_sequence: ['foo']",
        "The lookup plugin 'ini' failed: No section 'nosuch' in 'lookups/app.ini'.",
        "The lookup plugin 'ini' failed: could not find or access 'missing.ini'",
        "The lookup plugin 'csvfile' failed: could not find or access 'missing.csv'",
    ] {
        assert!(t.stdout.contains(want), "{want}:\n{}", t.stdout);
    }
    // The password file: made on the first call, 0600, reused by later calls and runs; its
    // value is a secret to talon, never shown.
    let mine = creds.join(c.talon_host());
    let password = std::fs::read_to_string(&mine).unwrap();
    let password = password.trim_end();
    assert_eq!(password.len(), 12, "{password:?}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&mine).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!t.stdout.contains(password), "{}", t.stdout);
    assert!(!t.stderr.contains(password), "{}", t.stderr);
    assert!(
        t.stdout.contains(r#""msg": "********""#) || t.stdout.contains(r#""msg":"********""#),
        "{}",
        t.stdout
    );
    let (t2, _) = c.same_env(&fixture("lookups.yml"), &["-e", &pw_dir], &env);
    assert_eq!(t2.lines, t.lines);
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap().trim_end(),
        password,
        "a second run keeps the password"
    );
}
