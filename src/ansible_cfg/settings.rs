//! The settings talon reads from ansible.cfg and `ANSIBLE_*`: ansible-core's names, ini keys,
//! environment variables, types and defaults (from `config/base.yml` and the ssh connection
//! plugin's options), and what talon does with each.

/// The type of a setting's value, as base.yml names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `boolean`: ansible-core's non-strict reading (`yes`, `on`, `1`, `true`, `y`, `t` are
    /// true, anything else false).
    Bool,
    /// `integer`.
    Int,
    /// `string` (unquoted when it comes from the file).
    Str,
    /// `path`: one path.
    Path,
    /// `pathspec`: paths separated by `:`.
    PathSpec,
    /// `pathlist`: paths separated by `,`.
    PathList,
    /// `list`: items separated by `,`, stripped and unquoted.
    List,
}

/// What talon does with a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    /// talon honours it (see the README section "ansible.cfg and ansible-playbook's flags").
    Honoured,
    /// Accepted without effect: it changes only cosmetics or performance details that talon
    /// handles its own way (`pipelining`, `nocows`, colours, retry files).
    NoOp,
}

/// One setting: ansible-core's name, where it is read from, its type and default.
#[derive(Debug)]
pub(super) struct Def {
    pub(super) name: &'static str,
    pub(super) ini: &'static [(&'static str, &'static str)],
    pub(super) env: &'static [&'static str],
    pub(super) kind: Kind,
    /// The default as ansible-core would write it in its own text form (`None`: no value).
    pub(super) default: Option<&'static str>,
    pub(super) effect: Effect,
}

macro_rules! def {
    ($name:literal, [$(($s:literal, $k:literal)),*], [$($e:literal),*], $kind:ident, $default:expr, $eff:ident) => {
        Def {
            name: $name,
            ini: &[$(($s, $k)),*],
            env: &[$($e),*],
            kind: Kind::$kind,
            default: $default,
            effect: Effect::$eff,
        }
    };
}

/// The settings talon knows, sorted by name (ansible-core's names, keys, env vars, defaults).
/// `ANSIBLE_HOME` defaults are written with `~/.ansible`.
pub(super) static DEFS: &[Def] = &[
    def!(
        "ALLOW_BROKEN_CONDITIONALS",
        [("defaults", "allow_broken_conditionals")],
        ["ANSIBLE_ALLOW_BROKEN_CONDITIONALS"],
        Bool,
        Some("False"),
        Honoured
    ),
    def!(
        "ANSIBLE_FORCE_COLOR",
        [("defaults", "force_color")],
        ["ANSIBLE_FORCE_COLOR"],
        Bool,
        Some("False"),
        NoOp
    ),
    def!(
        "ANSIBLE_NOCOLOR",
        [("defaults", "nocolor")],
        ["ANSIBLE_NOCOLOR", "NO_COLOR"],
        Bool,
        Some("False"),
        NoOp
    ),
    def!(
        "ANSIBLE_NOCOWS",
        [("defaults", "nocows")],
        ["ANSIBLE_NOCOWS"],
        Bool,
        Some("False"),
        NoOp
    ),
    def!(
        "ANSIBLE_PIPELINING",
        [
            ("defaults", "pipelining"),
            ("connection", "pipelining"),
            ("ssh_connection", "pipelining")
        ],
        ["ANSIBLE_PIPELINING"],
        Bool,
        Some("False"),
        NoOp
    ),
    def!(
        "COLLECTIONS_PATHS",
        [
            ("defaults", "collections_path"),
            ("defaults", "collections_paths")
        ],
        ["ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"],
        PathSpec,
        Some("~/.ansible/collections:/usr/share/ansible/collections"),
        Honoured
    ),
    def!(
        "COLOR_CHANGED",
        [("colors", "changed")],
        ["ANSIBLE_COLOR_CHANGED"],
        Str,
        Some("yellow"),
        NoOp
    ),
    def!(
        "COLOR_CONSOLE_PROMPT",
        [("colors", "console_prompt")],
        ["ANSIBLE_COLOR_CONSOLE_PROMPT"],
        Str,
        Some("white"),
        NoOp
    ),
    def!(
        "COLOR_DEBUG",
        [("colors", "debug")],
        ["ANSIBLE_COLOR_DEBUG"],
        Str,
        Some("dark gray"),
        NoOp
    ),
    def!(
        "COLOR_DEPRECATE",
        [("colors", "deprecate")],
        ["ANSIBLE_COLOR_DEPRECATE"],
        Str,
        Some("purple"),
        NoOp
    ),
    def!(
        "COLOR_DIFF_ADD",
        [("colors", "diff_add")],
        ["ANSIBLE_COLOR_DIFF_ADD"],
        Str,
        Some("green"),
        NoOp
    ),
    def!(
        "COLOR_DIFF_LINES",
        [("colors", "diff_lines")],
        ["ANSIBLE_COLOR_DIFF_LINES"],
        Str,
        Some("cyan"),
        NoOp
    ),
    def!(
        "COLOR_DIFF_REMOVE",
        [("colors", "diff_remove")],
        ["ANSIBLE_COLOR_DIFF_REMOVE"],
        Str,
        Some("red"),
        NoOp
    ),
    def!(
        "COLOR_ERROR",
        [("colors", "error")],
        ["ANSIBLE_COLOR_ERROR"],
        Str,
        Some("red"),
        NoOp
    ),
    def!(
        "COLOR_HIGHLIGHT",
        [("colors", "highlight")],
        ["ANSIBLE_COLOR_HIGHLIGHT"],
        Str,
        Some("white"),
        NoOp
    ),
    def!(
        "COLOR_INCLUDED",
        [("colors", "included")],
        ["ANSIBLE_COLOR_INCLUDED"],
        Str,
        Some("cyan"),
        NoOp
    ),
    def!(
        "COLOR_OK",
        [("colors", "ok")],
        ["ANSIBLE_COLOR_OK"],
        Str,
        Some("green"),
        NoOp
    ),
    def!(
        "COLOR_SKIP",
        [("colors", "skip")],
        ["ANSIBLE_COLOR_SKIP"],
        Str,
        Some("cyan"),
        NoOp
    ),
    def!(
        "COLOR_UNREACHABLE",
        [("colors", "unreachable")],
        ["ANSIBLE_COLOR_UNREACHABLE"],
        Str,
        Some("bright red"),
        NoOp
    ),
    def!(
        "COLOR_VERBOSE",
        [("colors", "verbose")],
        ["ANSIBLE_COLOR_VERBOSE"],
        Str,
        Some("blue"),
        NoOp
    ),
    def!(
        "COLOR_WARN",
        [("colors", "warn")],
        ["ANSIBLE_COLOR_WARN"],
        Str,
        Some("bright purple"),
        NoOp
    ),
    def!(
        "DEFAULT_ASK_PASS",
        [("defaults", "ask_pass")],
        ["ANSIBLE_ASK_PASS"],
        Bool,
        Some("False"),
        Honoured
    ),
    def!(
        "DEFAULT_BECOME",
        [("privilege_escalation", "become")],
        ["ANSIBLE_BECOME"],
        Bool,
        Some("False"),
        Honoured
    ),
    def!(
        "DEFAULT_BECOME_ASK_PASS",
        [("privilege_escalation", "become_ask_pass")],
        ["ANSIBLE_BECOME_ASK_PASS"],
        Bool,
        Some("False"),
        Honoured
    ),
    def!(
        "DEFAULT_BECOME_METHOD",
        [("privilege_escalation", "become_method")],
        ["ANSIBLE_BECOME_METHOD"],
        Str,
        Some("sudo"),
        Honoured
    ),
    def!(
        "DEFAULT_BECOME_USER",
        [("privilege_escalation", "become_user")],
        ["ANSIBLE_BECOME_USER"],
        Str,
        Some("root"),
        Honoured
    ),
    def!(
        "DEFAULT_FORCE_HANDLERS",
        [("defaults", "force_handlers")],
        ["ANSIBLE_FORCE_HANDLERS"],
        Bool,
        Some("False"),
        Honoured
    ),
    def!(
        "DEFAULT_FORKS",
        [("defaults", "forks")],
        ["ANSIBLE_FORKS"],
        Int,
        Some("5"),
        Honoured
    ),
    def!(
        "DEFAULT_GATHERING",
        [("defaults", "gathering")],
        ["ANSIBLE_GATHERING"],
        Str,
        Some("implicit"),
        Honoured
    ),
    def!(
        "DEFAULT_HOST_LIST",
        [("defaults", "inventory"), ("defaults", "hostfile")],
        ["ANSIBLE_INVENTORY"],
        PathList,
        Some("/etc/ansible/hosts"),
        Honoured
    ),
    def!(
        "DEFAULT_PRIVATE_KEY_FILE",
        [("defaults", "private_key_file")],
        ["ANSIBLE_PRIVATE_KEY_FILE"],
        Path,
        None,
        Honoured
    ),
    def!(
        "DEFAULT_REMOTE_USER",
        [("defaults", "remote_user")],
        ["ANSIBLE_REMOTE_USER"],
        Str,
        None,
        Honoured
    ),
    def!(
        "DEFAULT_ROLES_PATH",
        [("defaults", "roles_path")],
        ["ANSIBLE_ROLES_PATH"],
        PathSpec,
        Some("~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles"),
        Honoured
    ),
    def!(
        "DEFAULT_STDOUT_CALLBACK",
        [("defaults", "stdout_callback")],
        ["ANSIBLE_STDOUT_CALLBACK"],
        Str,
        Some("default"),
        Honoured
    ),
    def!(
        "DEFAULT_TIMEOUT",
        [("defaults", "timeout")],
        ["ANSIBLE_TIMEOUT"],
        Int,
        Some("10"),
        Honoured
    ),
    def!(
        "DEFAULT_TRANSPORT",
        [("defaults", "transport")],
        ["ANSIBLE_TRANSPORT"],
        Str,
        Some("ssh"),
        Honoured
    ),
    def!(
        "DEFAULT_VAULT_ENCRYPT_IDENTITY",
        [("defaults", "vault_encrypt_identity")],
        ["ANSIBLE_VAULT_ENCRYPT_IDENTITY"],
        Str,
        None,
        Honoured
    ),
    def!(
        "DEFAULT_VAULT_IDENTITY",
        [("defaults", "vault_identity")],
        ["ANSIBLE_VAULT_IDENTITY"],
        Str,
        Some("default"),
        Honoured
    ),
    def!(
        "DEFAULT_VAULT_IDENTITY_LIST",
        [("defaults", "vault_identity_list")],
        ["ANSIBLE_VAULT_IDENTITY_LIST"],
        List,
        Some(""),
        Honoured
    ),
    def!(
        "DEFAULT_VAULT_PASSWORD_FILE",
        [("defaults", "vault_password_file")],
        ["ANSIBLE_VAULT_PASSWORD_FILE"],
        Path,
        None,
        Honoured
    ),
    def!(
        "DEPRECATION_WARNINGS",
        [("defaults", "deprecation_warnings")],
        ["ANSIBLE_DEPRECATION_WARNINGS"],
        Bool,
        Some("True"),
        NoOp
    ),
    def!(
        "HOST_KEY_CHECKING",
        [
            ("defaults", "host_key_checking"),
            ("ssh_connection", "host_key_checking")
        ],
        ["ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING"],
        Bool,
        Some("True"),
        Honoured
    ),
    def!(
        "RETRY_FILES_ENABLED",
        [("defaults", "retry_files_enabled")],
        ["ANSIBLE_RETRY_FILES_ENABLED"],
        Bool,
        Some("False"),
        NoOp
    ),
    def!(
        "SSH_CONTROL_PATH",
        [("ssh_connection", "control_path")],
        ["ANSIBLE_SSH_CONTROL_PATH"],
        Str,
        None,
        NoOp
    ),
    def!(
        "SSH_CONTROL_PATH_DIR",
        [("ssh_connection", "control_path_dir")],
        ["ANSIBLE_SSH_CONTROL_PATH_DIR"],
        Path,
        Some("~/.ansible/cp"),
        NoOp
    ),
    def!(
        "SSH_ARGS",
        [("ssh_connection", "ssh_args")],
        ["ANSIBLE_SSH_ARGS"],
        Str,
        Some("-C -o ControlMaster=auto -o ControlPersist=60s"),
        Honoured
    ),
    def!(
        "SSH_COMMON_ARGS",
        [("ssh_connection", "ssh_common_args")],
        ["ANSIBLE_SSH_COMMON_ARGS"],
        Str,
        Some(""),
        Honoured
    ),
    def!(
        "SSH_EXTRA_ARGS",
        [("ssh_connection", "ssh_extra_args")],
        ["ANSIBLE_SSH_EXTRA_ARGS"],
        Str,
        Some(""),
        Honoured
    ),
    def!(
        "SYSTEM_WARNINGS",
        [("defaults", "system_warnings")],
        ["ANSIBLE_SYSTEM_WARNINGS"],
        Bool,
        Some("True"),
        NoOp
    ),
    def!(
        "VAULT_ENCRYPT_SALT",
        [("defaults", "vault_encrypt_salt")],
        ["ANSIBLE_VAULT_ENCRYPT_SALT"],
        Str,
        None,
        Honoured
    ),
];
