//! Filters and tests compared with `ansible-playbook` (ansible-core 2.19 and the ansible.utils
//! collection of the `ansible` 12 package): the fixture runs with talon on one fresh lab host
//! and with ansible-playbook on another; per-task statuses and the shown values must be
//! identical. Named after the finding each one guards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

#[test]
fn d13_filters_password_hash_urlsplit_time_random_ipaddr_b64_and_versions_as_ansible() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::new();
    let (t, _) = c.same_env(&fixture("filters_d13.yml"), &[], &env);
    for (task, want) in [
        (
            "show password_hash",
            "$6$rounds=656000$mysalt$cDA0t8lm/qt.LT6DzpoHxJ.NwTpx.WTkOPwhseSva8pRixDSH2./ffedCjAMbTX1Uo1QNT7jJPJ6FIzU2i59K/",
        ),
        ("show password_hash", r#""$6$rounds=656000$",108]"#),
        (
            "show urlsplit",
            r#"{"fragment":"fragment","hostname":"www.acme.com","netloc":"user:password@www.Acme.com:9000","password":"password","path":"/dir/index.html","port":9000,"query":"query=term","scheme":"http","username":"user"}"#,
        ),
        (
            "show time",
            r#"["2023-11-14 22:13:20 GMT 318 Tue Nov PM 14 14 %f","#,
        ),
        (
            "show time",
            r#""2016-08-14T20:00:12",2016,"2016-08-14T20 000000",true,true,true]"#,
        ),
        ("show datetime value", r#""2016-08-14T20:00:12.500000""#),
        ("show random", "[45,"),
        ("show random", "true,[1,2,3]]"),
        (
            "show ipaddr =>",
            r#"["192.168.32.0/24","10.0.0.1","fe80::100/120","0.0.0.42","2001:db8::/120","8.8.8.8"]"#,
        ),
        (
            "show ipaddr single",
            r#"["192.168.1.5/24","192.168.1.255/24",false,false,"10.0.0.1/16","10.0.0.1","10.0.0.6""#,
        ),
        (
            "show b64",
            r#"["aMOp","aADpAA==","//5oAOkA","hé","hé","Xy04","hé"]"#,
        ),
        ("show versions", "[true,true,true,true,true,true,true]"),
    ] {
        assert!(t.line(task).contains(want), "{task}: {want}\n{:#?}", t.lines);
    }
    for failing in [
        "fails an invalid semantic version",
        "fails an invalid pep440 version",
        "fails a salt with a bad character",
        "fails an unknown hash type",
        "fails an unknown URL part",
        "fails a date that does not match",
        "fails an unknown encoding",
        "fails start on a list",
        "fails first_usable of an address",
        "fails ipmath of a non-address",
    ] {
        assert!(t.line(failing).contains("failed"), "{failing}: {:#?}", t.lines);
    }
}
