//! Behaviour compared with `ansible-playbook` (ansible-core 2.19 from PyPI): each fixture under
//! tests/fixtures/compare/ runs with talon on one fresh lab host and with ansible-playbook on
//! another; the per-task statuses, the chosen registered values (tasks named `show ...`), the
//! recap and the exit code must be identical. Named after the finding each one guards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

#[test]
fn d11_multiline_shell_keeps_its_newlines() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("shell_multiline.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show two") && l.contains(r#"["a","b"]"#)),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_tags_never_stop_a_notified_handler() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("handlers_tags.yml"), &["--tags", "web"]);
    assert!(
        t.lines.iter().any(|l| l.starts_with("untagged handler => ok")),
        "{:#?}",
        t.lines
    );
    let (t, _) = c.same(
        &fixture("force_handlers.yml"),
        &["--tags", "web", "--force-handlers"],
    );
    assert!(
        t.lines.iter().any(|l| l.starts_with("cleanup handler => ok")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_role_includes_read_the_files_they_name() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("handlers_from.yml"), &[]);
    assert!(
        t.lines.iter().any(|l| l.contains("vars-other defaults-other")),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines.iter().any(|l| l.contains("alt handler => ok")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_clear_host_errors_lets_the_host_go_on() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("clear_host_errors.yml"), &[]);
    assert!(
        t.lines.iter().any(|l| l.starts_with("after the block => ok")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_clear_host_errors_clears_every_host_of_the_play() {
    let c = Compare::hosts(2);
    let (t, _) = c.same(&fixture("clear_host_errors_play.yml"), &[]);
    assert_eq!(t.code, 0, "{:#?}", t.lines);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("#0 show the hosts of the next play => ok")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_conditionals_must_be_booleans_as_in_2_19() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("conditionals.yml"), &[]);
    assert!(
        t.lines.iter().any(|l| l == "a string variable => failed"),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines.iter().any(|l| l.contains(r#"["list",[1,2],"int"]"#)),
        "{:#?}",
        t.lines
    );
    assert!(
        t.stdout
            .contains("Conditional result (True) was derived from value of type 'str'"),
        "{}",
        t.stdout
    );
    // With broken conditionals allowed: Python truthiness ("false" is a non-empty string).
    let (t, _) = c.same_env(
        &fixture("conditionals.yml"),
        &[],
        &[("ANSIBLE_ALLOW_BROKEN_CONDITIONALS", "true")],
    );
    assert!(
        t.lines.iter().any(|l| l == "a string variable => ok"),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_until_retries_and_delay_as_in_2_19() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("until.yml"), &[]);
    for want in [
        r#"show attempts => ok msg="3 3""#,
        r#"show exhausted attempts => ok msg="2 True""#,
        "show retries without until => ok msg=2",
        "until holds on a failed result => failed",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}

#[test]
fn d11_command_expands_variables_and_chdir_is_physical() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("expansion.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.contains("hello hellox $NOT_SET_ANYWHERE /root /root/x /root")),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show pwd") && l.contains("/tmp/talon-real [")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_file_touch_reports_the_path_after_the_change() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("file_touch.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l == r#"show new file => ok msg=["0600","root","root","file",0,0]"#),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines.iter().any(|l| l == r#"show leftover => ok msg=false"#),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_registered_results_have_ansibles_keys() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("registered_keys.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show copy keys") && l.contains("md5sum")),
        "{:#?}",
        t.lines
    );
    // stat of a FIFO and of /dev/null: the file kinds as ansible.builtin.stat reports them
    // (talon said false for every kind but files, folders and links before 2026-12-08).
    assert!(
        t.lines.iter().any(|l| l.starts_with("show the file kinds")
            && l.contains("'isfifo': True")
            && l.contains("'ischr': True")
            && l.contains("no checksum")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_group_force_and_non_unique_rules() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("group_rules.yml"), &[]);
    assert!(
        t.lines.iter().any(|l| l == "remove it with force => changed"),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_wait_for_drained_and_delay() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("wait_for.yml"), &[]);
    assert!(
        t.lines.iter().any(|l| l == "show slept => ok msg=2"),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines
            .iter()
            .any(|l| l.contains("Timeout when waiting for 0.0.0.0:22 to drain")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_edits_keep_the_files_acl_and_attributes() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("acl_kept.yml"), &[]);
    assert!(
        t.lines.iter().any(|l| l.starts_with("show attributes")
            && l.contains("/tmp/acl-line ['system.posix_acl_access', 'user.talon'] kept")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_role_dependencies_see_their_own_parameters() {
    let c = Compare::new();
    c.same(&fixture("role_params.yml"), &[]);
}

#[test]
fn d11_vars_files_precedence() {
    let c = Compare::new();
    c.same(&fixture("vars_precedence.yml"), &[]);
}

#[test]
fn d11_tilde_in_path_arguments_is_the_home_folder() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("tilde.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l == r#"show copy dest => ok msg="/root/tilde-copy.txt""#),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_template_syntax_encoding_and_preserved_mode() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("template_args.yml"), &[]);
    assert!(
        t.lines.iter().any(|l| l.contains("value: talon")),
        "{:#?}",
        t.lines
    );
    // Idempotent: on the second run no template changes (only the reading shell task does).
    let (t, _) = c.same(&fixture("template_args.yml"), &[]);
    assert_eq!(t.recap[0][1], 1, "{:#?}", t.lines);
    assert!(
        t.lines[..5].iter().all(|l| l.ends_with("=> ok")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_registered_output_is_never_templated() {
    let c = Compare::new();
    c.same(&fixture("registered_unsafe.yml"), &[]);
}

#[test]
fn d11_file_sets_times_as_asked() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("file_times.yml"), &[]);
    assert!(
        t.lines.iter().any(|l| l == "set them again => ok"),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_command_argument_errors_use_ansibles_words() {
    let c = Compare::new();
    c.same(&fixture("command_errors.yml"), &[]);
}

#[test]
fn d11_line_and_block_edits_back_up_and_validate() {
    let c = Compare::new();
    c.same(&fixture("edit_args.yml"), &[]);
}

#[test]
fn d11_file_follows_links_to_their_targets() {
    let c = Compare::new();
    c.same(&fixture("file_follow.yml"), &[]);
}

#[test]
fn d11_hard_links_check_src_as_ansible() {
    let c = Compare::new();
    c.same(&fixture("file_hard.yml"), &[]);
}

#[test]
fn d11_command_arguments_as_ansible() {
    let c = Compare::new();
    c.same(&fixture("command_args.yml"), &[]);
}

#[test]
fn d11_loop_results_per_item() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("loop_results.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("items of every kind => failed items=")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d11_edits_register_their_diff() {
    let c = Compare::new();
    c.same(&fixture("edit_diff.yml"), &[]);
    c.same(&fixture("edit_diff.yml"), &["--diff"]);
}

#[test]
fn d11_common_failures_in_ansibles_words() {
    let c = Compare::new();
    c.same(&fixture("error_messages.yml"), &[]);
}

#[test]
fn d11_copy_template_and_file_register_their_diff() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("file_diff.yml"), &["--diff"]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show the file diffs") && l.contains(r#""owner":65534"#)),
        "{:#?}",
        t.lines
    );
    c.same(&fixture("file_diff.yml"), &[]);
}

#[test]
fn d11_attributes_are_read_compared_and_set_as_ansible() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("file_attributes.yml"), &["--diff"]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show results") && l.contains("chattr failed")),
        "{:#?}",
        t.lines
    );
    c.same(&fixture("file_attributes.yml"), &[]);
}

/// ansible.builtin.package was an unknown module (a load error). On Debian it runs apt with every
/// argument but `use` (an argument apt does not take fails as `ansible.legacy.apt`), the backend
/// from `use`, `ansible_package_use`, the pkg_mgr fact or the host; apt's result keys, in check
/// mode too and under --diff.
#[test]
fn d12_package_dispatches_to_apt() {
    let c = Compare::new();
    c.give_python3_apt();
    let (t, _) = c.same(&fixture("package.yml"), &[]);
    for want in [
        r#"show pkg_mgr => ok msg="apt apt""#,
        r#"error unsupported => ok msg="Unsupported parameters for (ansible.legacy.apt) module: enablerepo.""#,
        "install it (pkg, use apt, ansible_package_use ignored) => changed",
        "installed again, without state => ok",
        "removed again => ok",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    // Installed and removed by the first run: the same again, and in check mode (the shell
    // task is skipped), with --diff.
    c.same(&fixture("package.yml"), &["--diff"]);
    let (t, _) = c.same(&fixture("package.yml"), &["--check", "--diff"]);
    assert!(
        t.lines
            .iter()
            .any(|l| l == "installed again, without state => changed"),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d12_modules_talon_lacks_run_through_ansible_cores_code() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("python_path.yml"), &["--diff"]);
    for want in [
        "hold => changed",
        "hold again => ok",
        r#"show file => ok msg=["from the skeleton"]"#,
        r#"show loop => ok msg="[True, False] ['hostname', 'bash']""#,
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}

#[test]
fn d12_collection_modules_run_through_ansible_cores_code() {
    let colls = common::ansible::collections_path();
    let c = Compare::new();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let (t, _) = c.same_env(&fixture("python_collections.yml"), &["--diff"], &env);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show files") && l.contains("logs /dev/sdc1")),
        "{:#?}",
        t.lines
    );
    // Again: only the check-mode task reports a change, on both sides.
    let (t, a) = c.same_env(&fixture("python_collections.yml"), &[], &env);
    assert_eq!((t.recap[0][1], a.recap[0][1]), (1, 1), "{:#?}", t.lines);
}

#[test]
fn d12_uri_and_unarchive_without_controller_files_run_their_modules() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("thin_actions.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show pages") && l.contains("hello")),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines.iter().any(|l| l == r#"show unpacked => ok msg="hello""#),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d12_facts_real_roles_read() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("facts_more.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show python facts") && l.contains("/usr/bin/python3")),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines.iter().any(|l| l
            == r#"show virtualization and selinux => ok msg=["docker","guest",["container","docker"],[],{"status":"disabled"}]"#),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines.iter().any(|l| l.starts_with("show local facts")
            && l.contains(r#""Data":"/srv/data""#.to_lowercase().as_str())),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines
            .iter()
            .any(|l| l == r#"show other local facts => ok msg={"mine":{"mine":true}}"#),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d12_meta_end_play_end_batch_and_clear_facts() {
    let c = Compare::hosts(2);
    let (t, _) = c.same(&fixture("meta_end.yml"), &[]);
    assert!(
        !t.lines.iter().any(|l| l.contains("after the end")),
        "end_play on one host ends the play for both: {:#?}",
        t.lines
    );
    assert!(
        t.lines
            .iter()
            .any(|l| l == r#"#1 show facts after => ok msg="none""#),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d12_raw_runs_the_command_line_in_the_hosts_shell() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("raw.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show raw") && l.contains("/bin/bash")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d12_script_runs_a_controller_file_on_the_host() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("script.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show script") && l.contains("args: one two words")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d12_group_by_and_add_host_change_the_inventory() {
    let c = Compare::hosts(2);
    let (t, _) = c.same(&fixture("group_by.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("#0 show the first host's groups") && l.contains("kind_True")),
        "{:#?}",
        t.lines
    );
    assert!(
        !t.lines
            .iter()
            .any(|l| l.starts_with("#1 show the first host's groups")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d12_with_first_found_and_ansible_managed() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("first_found.yml"), &[]);
    for want in [
        r#"show vars file => ok msg="['prec.yml'] ['prec.yml']""#,
        r#"show paths and files => ok msg=["one.yml"]"#,
        r#"show files folder => ok msg=["plain.txt"]"#,
        "nothing found, skip => skipped items=[]",
        "show nothing found => ok msg=true",
        r#"show template => ok msg="Ansible managed / managed.j2\n""#,
        r#"show user's managed => ok msg="mine / managed.j2\n""#,
        r#"show folder => ok msg="['vardir/a.yml', 'vardir/b.yaml', 'vardir/j.json', 'vardir/sub/c.yml'] sub from-sub from-json""#,
        r#"show one level => ok msg="['a.yml'] {'va': 'from-a', 'shared': 'a'}""#,
        r#"show unknown extension => ok msg="/vardir/notes.txt does not have a valid extension: yaml, yml, json ['a.yml', 'b.yaml', 'j.json'] {}""#,
        r#"show missing file => ok msg="True {} True""#,
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}

#[test]
fn d12_setup_gather_subset_and_filter_are_applied_not_ignored() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("facts_subset.yml"), &[]);
    for want in [
        r#"show min facts only => ok msg=[true,false,false,["!all"],true]"#,
        r#"show filter => ok msg=["ansible_distribution","ansible_distribution_file_parsed","ansible_distribution_file_path","ansible_distribution_file_variety","ansible_distribution_major_version","ansible_distribution_minor_version","ansible_distribution_release","ansible_distribution_version","ansible_pkg_mgr"]"#,
        r#"show network => ok msg=[true,false,true,["!all","network"]]"#,
        r#"show all but hardware => ok msg=[true,false,false]"#,
        "a bad subset => failed",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}

#[test]
fn d12_service_facts_is_native_and_reads_sysv_services() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("service_facts.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show services => ok") && l.contains(r#""source":"sysv""#)),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d12_debconf_is_native_and_matches_ansible() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("debconf.yml"), &["--diff"]);
    for want in [
        "a string in check mode => changed",
        "the string again => ok",
        "the multiselect in another order => ok",
        "the password again => failed",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    assert!(
        t.lines.iter().any(|l| l.starts_with("show string")
            && l.contains(
                r#""diff":{"after":{"talon-test/flavour":"vanilla"},"before":{"talon-test/flavour":""}}"#
            )),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d12_known_hosts_is_native_and_matches_ansible() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("known_hosts.yml"), &["--diff"]);
    for want in [
        "add in check mode => changed",
        "add again => ok",
        "replace the key of the same type => changed",
        "show hashed => ok msg=[true,false]",
        "show file => ok msg=\"1\"",
        "a key for another host => failed",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}

#[test]
fn d12_pam_limits_is_native_and_matches_ansible() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::new();
    let (t, _) = c.same_env(&fixture("pam_limits.yml"), &["--diff"], &env);
    for want in [
        "a new limit in check mode => changed",
        "the new limit again => ok",
        "keep the larger => ok",
        "keep the smaller, with a comment => changed",
        "the system file => changed",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}

#[test]
fn d12_deb822_repository_is_native_and_matches_ansible() {
    let c = Compare::new();
    c.give_python3_debian();
    let (t, _) = c.same(&fixture("deb822_repository.yml"), &[]);
    for want in [
        "a repository in check mode => changed",
        "the repository again => ok",
        "another mode => changed",
        "remove it again => ok",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}

#[test]
fn d12_apt_repository_is_native_and_matches_ansible() {
    let c = Compare::new();
    c.give_python3_apt();
    let (t, _) = c.same(&fixture("apt_repository.yml"), &["--diff"]);
    for want in [
        "add the local repository in check mode => changed",
        "add it again => ok",
        "enable the disabled source => changed",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show files") && l.contains("deb [trusted=yes] file:/opt/aptrepo ./")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d13_backslashes_in_jinja_literals_are_kept_as_ansible_does() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("jinja_literals.yml"), &[]);
    for want in [
        r#"show backreferences in double quotes => ok msg="ba""#,
        r#"show backreferences in a block scalar => ok msg="01.web ['01']""#,
        r#"show doubled backslashes are two characters => ok msg="4 4 it\\'s q\\\"""#,
        "show conditions keep backslashes => ok msg=true",
        r#"show a template file => ok msg="01-web\n3 three{{ '\\1' }} end\n""#,
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}

#[test]
fn d13_filters_truncate_center_sizes_uuid_combinatorics_paths_as_ansible() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::new();
    let (t, _) = c.same_env(&fixture("filters_more.yml"), &[], &env);
    for want in [
        r#"show text => ok msg=["ab...","abc...","abc de...","abc def!","   hi   |  ab | abc  ",4]"#,
        r#"show ids => ok msg=["66b2f013-1baa-5313-9c8c-e6f1182e0e90","#,
        r#"show combinatorics => ok msg=[[[3,1],[3,2],[1,2]],[[3,1],[3,2],[1,3],[1,2],[2,3],[2,1]],6,[]]"#,
        r#"show paths => ok msg=["b/c","../..","/etc/hostname"]"#,
        r#"show json_query => ok msg=[[1,2,3],[2,3],"x",{"b":1},3,null]"#,
        "show versions => ok msg=[true,true,true,true,false,true]",
        "show yaml => ok msg=[\"a:\\n- 1\\n- 2\\n-   x: 'yes'\\n",
        r#"show regex python => ok msg=[["200"],"foo.Bar.Baz","hello world","abab",["val","key"],"-a--c-",["","b","",""],true,"a[b","x",true,"aX\nbX"]"#,
    ] {
        assert!(
            t.lines.iter().any(|l| l.starts_with(want)),
            "{want}: {:#?}",
            t.lines
        );
    }
    assert!(
        t.line("show sizes").contains(
            r#""1.50 KB","0.50 Bytes","1.00 Mb","1024.00 KB","4.66 GB",1536,10485760,2048,1048576,2,3145728"#
        ),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d13_chainable_undefined_templated_set_fact_keys_action_forms_yaml11_numbers_magic_vars() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("language_more.yml"), &[]);
    for want in [
        r#"show chainable undefined => ok msg=["x",false,true,5,"hv"]"#,
        r#"show templated keys => ok msg=[1,"two"]"#,
        r#"show action mapping => ok msg="mapped""#,
        r#"show action string => ok msg="written""#,
        r#"show local action => ok msg="on-the-controller True""#,
        r#"show yaml numbers => ok msg={"bin":5,"e":"1e3","f":1500.0,"hex":31,"legacy":15,"list":["1e3",2],"o":"0o17","q":"0x1F","sexa":90,"u":1000}"#,
        r#"show failed task and result => ok msg="this fails command 1 ['false']""#,
        r#"show blocks in strings are trimmed as in template files => ok msg=["yes\nend","a\n  b\n  c","{{ x }}next"]"#,
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    assert!(
        t.line("show magic variables")
            .starts_with(r#"show magic variables => ok msg=["2.19",["all"],[],["/"#),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d13_template_includes_jinja2_header_and_trailing_newlines_as_ansible() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("templates_more.yml"), &[]);
    for want in [
        r#"show rendered files => ok msg=["head\nchild Xtail\n","a=1\nb=X\npart Xend\n","\n\nyes\n\n","v=X {{ x }}\n","a\n","line\n\n\n","a\r\n"]"#,
        r#"show the lookup => ok msg="a=1\nb=X\npart Xend\n|a\n|""#,
        r#"show strings keep the source's trailing newlines => ok msg=["a\n\n","a\n","b\n"]"#,
        r#"render again => ok items=["ok", "ok", "ok", "ok", "ok", "ok"]"#,
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}
