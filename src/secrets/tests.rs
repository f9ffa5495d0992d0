#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::*;
use crate::playbook::Playbook;
use crate::playbook::taint::filtered_use;
use crate::vars::Vars;

fn store(pairs: &[(&str, &str)]) -> SecretStore {
    let mut s = SecretStore::new();
    for (k, v) in pairs {
        s.insert(k, SecretString::from(v.to_string())).unwrap();
    }
    s
}

fn write_mode(dir: &Path, text: &str, mode: u32) -> std::path::PathBuf {
    let p = dir.join("secrets.yml");
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

#[test]
fn file_mode_is_checked_and_errors_never_show_content() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_mode(dir.path(), "gateway_token: s3cr3t-value\npin: 0123\n", 0o644);
    let e = SecretStore::new().load_file(&p).unwrap_err().to_string();
    assert!(e.contains("chmod 600") && e.contains("0644"), "{e}");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut s = SecretStore::new();
    s.load_file(&p).unwrap();
    assert_eq!(s.get("gateway_token").unwrap().expose_secret(), "s3cr3t-value");
    assert_eq!(s.get("pin").unwrap().expose_secret(), "0123");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o400)).unwrap();
    SecretStore::new().load_file(&p).unwrap();
    let p = write_mode(dir.path(), "tok: [do-not-print-me]\n", 0o600);
    let e = SecretStore::new().load_file(&p).unwrap_err().to_string();
    assert!(!e.contains("do-not-print-me") && e.contains("mapping"), "{e}");
    let e = SecretStore::new().load_file(dir.path()).unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let p = write_mode(dir.path(), "9bad: x\n", 0o600);
    assert!(SecretStore::new().load_file(&p).is_err());
}

#[test]
fn an_inline_vault_value_is_refused_not_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let text = "ok: plain\ntok: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6231336539\n";
    let p = write_mode(dir.path(), text, 0o600);
    let e = SecretStore::new().load_file(&p).unwrap_err().to_string();
    assert!(
        e.contains("'tok' is an inline '!vault' value: Attempting to decrypt"),
        "{e}"
    );
    assert!(!e.contains("ANSIBLE_VAULT;1.1"), "{e}");
}

#[test]
fn env_names_and_duplicates() {
    let var = "TALON_TEST_SECRET_ENV_UNIQUE";
    let mut s = SecretStore::new();
    let e = s.load_env(var).unwrap_err();
    assert!(matches!(e, SecretError::MissingEnv { .. }), "{e}");
    let mut s = store(&[("talon_test_secret_env_unique", "from-file")]);
    // Names collide: the lowercase form of VAR is already a secret.
    let e = s
        .load_env(&format!("talon_test_secret_env_unique={}", "PATH"))
        .unwrap_err();
    assert!(e.to_string().contains("given twice"), "{e}");
    // A variable no other test reads: it is scrubbed from children for the whole process.
    s.load_env("other=CARGO_MANIFEST_DIR").unwrap();
    assert!(s.get("other").is_some());
    assert!(
        crate::osenv::scrubbed_env()
            .iter()
            .any(|v| v == "CARGO_MANIFEST_DIR")
    );
    assert_eq!(crate::osenv::env_var("CARGO_MANIFEST_DIR"), None);
    assert!(s.insert("empty", SecretString::from(String::new())).is_err());
}

#[test]
fn markers_reveal_and_mask() {
    let s = store(&[("token", "tok-123"), ("pw", "p@ss")]);
    let m = s.marker("token").unwrap();
    assert!(!m.contains("tok-123"));
    assert_eq!(s.marker_vars()["pw"], Value::String(s.marker("pw").unwrap()));
    let text = format!("token={m}\npw={}\n", s.marker("pw").unwrap());
    let r = s.reveal(&text).unwrap();
    assert_eq!(&r.content[..], b"token=tok-123\npw=p@ss\n");
    assert!(r.has_secret);
    assert!(!s.reveal("plain\n").unwrap().has_secret);
    assert!(s.reveal("copied tok-123").unwrap().has_secret);
    assert_eq!(s.mask(&text), "token=********\npw=********\n");
    assert_eq!(s.mask("out: tok-123!"), "out: ********!");
    let v = s.mask_value(serde_json::json!({"stdout": "tok-123", "cmd": [m.clone()], "n": 1}));
    assert_eq!(v, serde_json::json!({"stdout": MASK, "cmd": [MASK], "n": 1}));
    s.also_mask(&SecretString::from("sudo-pw".to_string()));
    assert_eq!(s.mask("x sudo-pw"), "x ********");
    assert_eq!(NONE.mask("tok-123"), "tok-123");
}

#[test]
fn transformed_markers_are_detected() {
    let s = store(&[("token", "tok-123")]);
    let m = s.marker("token").unwrap();
    for bad in [
        m.to_uppercase(),
        m[..m.len() - 3].to_string(),
        serde_json::to_string(&format!("a\"{m}"))
            .unwrap()
            .replace(&m, &m.to_uppercase()),
    ] {
        assert!(
            matches!(s.reveal(&bad), Err(SecretError::Mangled { .. })),
            "{bad}"
        );
    }
    for prefix in ["", "a", "ab"] {
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{prefix}{m}"));
        let e = s.reveal(&format!("x: {b64}")).unwrap_err().to_string();
        assert!(e.contains("b64encode"), "{e}");
    }
    // A marker from another run (other nonce) is not ours: left alone.
    let other = store(&[("token", "x")]).marker("token").unwrap();
    assert_eq!(&s.reveal(&other).unwrap().content[..], other.as_bytes());
}

#[test]
fn json_quoted_markers_reveal_escaped_values() {
    let value = "a\"b\\c\nd\u{1}é";
    let s = store(&[("token", value), ("other", "plain")]);
    let m = s.marker("token").unwrap();
    // One level (to_json of a mapping), two levels (to_json of to_json's output).
    let one =
        json_escape_markers(&serde_json::json!({"t": m, "o": s.marker("other")}).to_string()).into_owned();
    assert!(one.contains(&format!("{}_json__", &m[..m.len() - 2])), "{one}");
    let shown = s.reveal(&one).unwrap();
    let back: Value = serde_json::from_slice(&shown.content).unwrap();
    assert_eq!(back["t"], value);
    assert_eq!(back["o"], "plain");
    assert!(shown.has_secret);
    let two = json_escape_markers(&Value::String(one.clone()).to_string()).into_owned();
    assert!(two.contains("_json_json__"), "{two}");
    let shown = s.reveal(&two).unwrap();
    let outer: Value = serde_json::from_slice(&shown.content).unwrap();
    let inner: Value = serde_json::from_str(outer.as_str().unwrap()).unwrap();
    assert_eq!(inner["t"], value);
    // Variants are masked and found like plain markers; text without markers is untouched.
    assert_eq!(s.mask(&one), r#"{"t":"********","o":"********"}"#);
    assert_eq!(s.find_in(&two).as_deref(), Some("token"));
    assert!(matches!(
        json_escape_markers("{\"a\": 1}"),
        std::borrow::Cow::Borrowed(_)
    ));
    // A plain marker still reveals verbatim.
    assert_eq!(&s.reveal(&m).unwrap().content[..], value.as_bytes());
}

#[test]
fn run_time_refusal_names_secret_and_argument() {
    let s = store(&[("token", "tok-123")]);
    let m = s.marker("token").unwrap();
    let args: Vars = serde_json::from_value(serde_json::json!({"_raw_params": format!("echo {m}")})).unwrap();
    let e = s
        .refuse_args(&crate::modules::system::command::INFO, &args, &[], "task 't'")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("secret 'token' would be on the command line") && e.contains("stdin"),
        "{e}"
    );
    let args: Vars = serde_json::from_value(serde_json::json!({"stdin": m, "cmd": "cat"})).unwrap();
    s.refuse_args(
        crate::modules::lookup("ansible.builtin.command").unwrap(),
        &args,
        &[],
        "t",
    )
    .unwrap();
    let env = vec![("TOKEN".to_string(), "tok-123".to_string())];
    assert!(
        s.refuse_args(&crate::modules::system::command::INFO, &args, &env, "t")
            .is_err()
    );
    let args: Vars = serde_json::from_value(serde_json::json!({"line": m})).unwrap();
    let e = s
        .refuse_args(&crate::modules::files::lineinfile::INFO, &args, &[], "t")
        .unwrap_err()
        .to_string();
    assert!(e.contains("argument 'line' of module lineinfile"), "{e}");
}

fn pb(text: &str) -> (tempfile::TempDir, Playbook) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.yml");
    std::fs::write(&p, text).unwrap();
    let pb = crate::playbook::load(&p).unwrap();
    (dir, pb)
}

#[test]
fn load_time_refusal_follows_variables_and_environment() {
    let s = store(&[("gateway_token", "tok-123")]);
    let check = |text: &str| s.check_playbook(&pb(text).1, &[]).map_err(|e| e.to_string());
    let ok = concat!(
        "- hosts: all\n  tasks:\n",
        "    - copy: {dest: /tmp/x, content: \"t={{ gateway_token }}\"}\n",
        "    - command: {cmd: cat, stdin: \"{{ gateway_token | default('') }}\"}\n",
        "    - debug: {msg: \"{{ gateway_token }}\"}\n",
    );
    check(ok).unwrap();
    let e = check("- hosts: all\n  tasks:\n    - name: leak\n      command: echo {{ gateway_token }}\n")
        .unwrap_err();
    assert!(
        e.contains("secret 'gateway_token' would be on the command line of task 'leak'")
            && e.contains("p.yml:3:7")
            && e.contains("talon_secret_file"),
        "{e}"
    );
    let e = check(concat!(
        "- hosts: all\n  vars: {auth: \"Bearer {{ gateway_token }}\"}\n  tasks:\n",
        "    - shell: curl -H '{{ auth }}' http://x\n",
    ))
    .unwrap_err();
    assert!(e.contains("through variable 'auth'"), "{e}");
    let e = check(concat!(
        "- hosts: all\n  environment: {TOKEN: \"{{ gateway_token }}\"}\n  tasks:\n",
        "    - command: env\n",
    ))
    .unwrap_err();
    assert!(e.contains("(environment)"), "{e}");
    let e = check(
        "- hosts: all\n  tasks:\n    - copy: {dest: /x, content: \"{{ gateway_token | b64encode }}\"}\n",
    )
    .unwrap_err();
    assert!(e.contains("filter 'b64encode'"), "{e}");
    let e = check("- hosts: all\n  tasks:\n    - lineinfile: {path: /x, line: \"{{ gateway_token }}\"}\n")
        .unwrap_err();
    assert!(e.contains("module lineinfile"), "{e}");
    let e = check("- hosts: all\n  tasks:\n    - talon_secret_file: {secret: nope, dest: /x}\n").unwrap_err();
    assert!(e.contains("no secret 'nope' was given"), "{e}");
    check("- hosts: all\n  tasks:\n    - talon_secret_file: {secret: gateway_token, dest: /x}\n").unwrap();
}

#[test]
fn filter_detection_is_precise() {
    let s: HashSet<String> = ["tok".to_string()].into();
    assert!(filtered_use("{{ tok | upper }}", &s).is_some());
    assert!(filtered_use("{{ tok[:3] }}", &s).is_some());
    assert!(filtered_use("{{ tok | default('') }}", &s).is_none());
    assert!(filtered_use("{{ tok | to_json }}", &s).is_none());
    // Literal text outside the expressions is not a use.
    assert!(filtered_use("{{ out }}/tok.json", &s).is_none());
    assert!(filtered_use("tok.x {{ tok }}", &s).is_none());
    assert!(filtered_use("a {{ x }} b {{ tok.upper() }}", &s).is_some());
    assert!(filtered_use("{% if tok | length %}x{% endif %}", &s).is_some());
    assert!(filtered_use("{{ tok | to_nice_json }}", &s).is_none());
    assert!(filtered_use("{{ hostvars.x.tok | upper }} {{ tok }}", &s).is_none());
    assert!(filtered_use("{{ other.tok | upper }}", &s).is_none());
}

#[test]
fn d13_a_reserved_secret_is_filled_through_a_shared_store() {
    let mut s = store(&[("token", "tok-value")]);
    s.reserve("pw").unwrap();
    assert!(s.reserve("token").is_err());
    let s = std::sync::Arc::new(s);
    // Named for the load-time checks, but no variable and nothing to mask until filled.
    assert!(s.names().any(|n| n == "pw"));
    assert!(s.get("pw").is_none() && !s.marker_vars().contains_key("pw"));
    assert_eq!(s.mask("the answer-value"), "the answer-value");
    s.fill("pw", SecretString::from("answer-value".to_string()))
        .unwrap();
    assert_eq!(s.mask("the answer-value"), format!("the {MASK}"));
    let marker = s.marker("pw").unwrap();
    assert_eq!(s.marker_vars()["pw"], Value::String(marker.clone()));
    assert_eq!(&*s.reveal(&marker).unwrap().content, b"answer-value");
    assert!(s.fill("pw", SecretString::from("again".to_string())).is_err());
    assert!(s.fill("other", SecretString::from("x".to_string())).is_err());
    // An empty answer leaves it unset.
    let mut e = SecretStore::new();
    e.reserve("empty").unwrap();
    e.fill("empty", SecretString::from(String::new())).unwrap();
    assert!(e.get("empty").is_none());
}
