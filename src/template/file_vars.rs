//! The variables ansible-core adds while it renders a template file, for the `template` module
//! and the `template` lookup (ansible-core's `generate_ansible_template_vars`).

use std::path::Path;

use serde_json::Value;

use super::VarLayers;
use crate::vars::Vars;

/// ansible-core's default `ansible_managed` (`DEFAULT_MANAGED_STR`), without an ansible.cfg.
pub const ANSIBLE_MANAGED: &str = "Ansible managed";

/// `vars` plus what ansible-core adds while rendering the template file `fullpath` (named
/// `path` in the task): `template_host` (the controller's host name), `template_path` (as
/// given), `template_fullpath`, `template_destpath` (the module's `dest`; null for the lookup),
/// `template_uid` (the file owner's name, else the uid), `template_mtime` and
/// `template_run_date` (the controller's local time, as Python prints a datetime:
/// `2026-12-06 23:56:08.123456`), and `ansible_managed` ("Ansible managed") unless the variable
/// is already set (ansible-core does not clobber a user's value). A file that cannot be read
/// for its times leaves the time variables out (rendering reads the file next and says why).
pub fn with_template_vars(vars: &VarLayers, path: &str, fullpath: &Path, dest: Option<&str>) -> VarLayers {
    let mut out = Vars::new();
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.insert("template_host".into(), Value::String(host));
    out.insert("template_path".into(), Value::String(path.to_string()));
    out.insert(
        "template_fullpath".into(),
        Value::String(fullpath.display().to_string()),
    );
    out.insert(
        "template_destpath".into(),
        dest.map_or(Value::Null, |d| Value::String(d.to_string())),
    );
    out.insert(
        "template_run_date".into(),
        Value::String(python_datetime(chrono::Local::now())),
    );
    if let Ok(meta) = std::fs::metadata(fullpath) {
        use std::os::unix::fs::MetadataExt;
        let uid = meta.uid();
        let owner = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
            .ok()
            .flatten()
            .map_or(Value::from(uid), |u| Value::String(u.name));
        out.insert("template_uid".into(), owner);
        if let Some(t) =
            chrono::DateTime::from_timestamp(meta.mtime(), meta.mtime_nsec().clamp(0, 999_999_999) as u32)
        {
            out.insert(
                "template_mtime".into(),
                Value::String(python_datetime(t.with_timezone(&chrono::Local))),
            );
        }
    }
    if !vars.contains_key("ansible_managed") {
        out.insert("ansible_managed".into(), Value::String(ANSIBLE_MANAGED.into()));
    }
    vars.with_top(out)
}

/// A time as Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS`, then `.ffffff` unless the
/// microseconds are 0.
fn python_datetime<Tz: chrono::TimeZone>(t: chrono::DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let micros = t.timestamp_subsec_micros();
    let base = t.format("%Y-%m-%d %H:%M:%S").to_string();
    if micros == 0 {
        base
    } else {
        format!("{base}.{micros:06}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ansible_managed_is_not_clobbered_and_times_print_as_python() {
        let dir = std::env::temp_dir();
        let file = dir.join(format!("talon-tv-{}", std::process::id()));
        std::fs::write(&file, "x").unwrap();
        let v = with_template_vars(&VarLayers::default(), "t.j2", &file, Some("/etc/x")).flatten();
        assert_eq!(v["ansible_managed"], "Ansible managed");
        assert_eq!(v["template_path"], "t.j2");
        assert_eq!(v["template_destpath"], "/etc/x");
        let mtime = v["template_mtime"].as_str().unwrap();
        assert_eq!(&mtime[4..5], "-");
        assert_eq!(&mtime[10..11], " ");
        let mut mine = Vars::new();
        mine.insert("ansible_managed".into(), Value::String("mine".into()));
        let v = with_template_vars(&mine.into(), "t.j2", &file, None).flatten();
        assert_eq!(v["ansible_managed"], "mine");
        assert_eq!(v["template_destpath"], Value::Null);
        std::fs::remove_file(&file).unwrap();
        let utc = chrono::DateTime::from_timestamp(0, 5000).unwrap();
        assert_eq!(python_datetime(utc), "1970-01-01 00:00:00.000005");
        assert_eq!(
            python_datetime(chrono::DateTime::from_timestamp(0, 0).unwrap()),
            "1970-01-01 00:00:00"
        );
    }
}
