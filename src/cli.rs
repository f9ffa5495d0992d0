//! The command line, as the user typed it (clap derive). Resolution happens in `config.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// talon: push configuration to hosts over SSH, running Ansible-format playbooks.
#[derive(Debug, Parser)]
#[command(name = "talon", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a playbook against an inventory (like `ansible-playbook`).
    Run(RunArgs),
    /// Verify an inventory: drift (check mode) and the playbook's verification plays.
    Verify(VerifyArgs),
    /// Show the resolved inventory (like `ansible-inventory`).
    Inventory(InventoryArgs),
    /// Encrypt and decrypt Ansible Vault files and strings (like `ansible-vault`).
    Vault {
        #[command(subcommand)]
        command: crate::vault::cmd::VaultCommand,
    },
    /// ansible.cfg and `ANSIBLE_*` settings (like `ansible-config`).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Run one module on the hosts of a pattern (like `ansible`, the ad-hoc command).
    Adhoc(AdhocArgs),
    /// Install roles and collections from git, tarballs and folders (like `ansible-galaxy`).
    Galaxy {
        #[command(subcommand)]
        command: GalaxyCommand,
    },
    /// Disposable Debian hosts in Docker containers, for trying roles and for tests.
    Lab {
        #[command(subcommand)]
        command: LabCommand,
    },
}

/// `talon run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The playbook file.
    pub playbook: PathBuf,
    /// More playbooks, run after the first in the same run (`ansible-playbook a.yml b.yml`):
    /// their plays follow the first's, one recap for all.
    #[arg(value_name = "PLAYBOOK")]
    pub more_playbooks: Vec<PathBuf>,
    /// Inventory file or directory (repeatable; default: ansible.cfg's `inventory`, else
    /// `/etc/ansible/hosts`).
    #[arg(short = 'i', long = "inventory")]
    pub inventory: Vec<PathBuf>,
    /// Further limit the hosts with a pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// Only run tasks with these tags (comma separated, repeatable).
    #[arg(short = 't', long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Skip tasks with these tags.
    #[arg(long, value_delimiter = ',')]
    pub skip_tags: Vec<String>,
    /// Check mode: change nothing, report what would change.
    #[arg(short = 'C', long)]
    pub check: bool,
    /// Show diffs of what changes.
    #[arg(short = 'D', long)]
    pub diff: bool,
    /// Hosts run in parallel (default: all hosts, up to 64).
    #[arg(short = 'f', long)]
    pub forks: Option<usize>,
    /// Extra variables: `k=v k2=v2`, a YAML/JSON mapping, or `@file.yml` (repeatable).
    #[arg(short = 'e', long = "extra-vars")]
    pub extra_vars: Vec<String>,
    /// Run notified handlers even on hosts that failed.
    #[arg(long)]
    pub force_handlers: bool,
    /// Print one JSON document (Ansible's `json` callback shape) instead of human output.
    #[arg(long)]
    pub json: bool,
    /// More output (-v shows changed results, -vv every result).
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Load and check the playbook, its roles and the inventory without connecting to any host
    /// (ansible-playbook's `--syntax-check`): prints `playbook: PATH` and exits 0, or the first
    /// load error and exits 4. Load findings stay warnings unless `--strict`.
    #[arg(long)]
    pub syntax_check: bool,
    /// Refuse the playbook (exit 4) for what would otherwise be warnings at load, because
    /// ansible-playbook meets them only when the task runs: a variable nothing defines, a module
    /// argument the module does not take or a literal value that does not fit it. Also
    /// `TALON_STRICT=1`.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub ssh: SshArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub play: PlayArgs,
}

/// ansible-playbook's connection and privilege escalation options. Each wins over
/// `ANSIBLE_*` and ansible.cfg (src/ansible_cfg.rs); like Ansible's, they are defaults that a
/// host's variables (`ansible_user`, ...) and play keywords override.
#[derive(Debug, Args, Default, Clone)]
pub struct ConnArgs {
    /// Connect as this user (ansible.cfg `remote_user`).
    #[arg(short = 'u', long = "user", value_name = "REMOTE_USER")]
    pub user: Option<String>,
    /// Run operations with become (ansible.cfg `become`).
    #[arg(short = 'b', long = "become")]
    pub become_: bool,
    /// Become this user (default root).
    #[arg(long, value_name = "BECOME_USER")]
    pub become_user: Option<String>,
    /// Privilege escalation method: sudo (su is refused with a message).
    #[arg(long, value_name = "BECOME_METHOD")]
    pub become_method: Option<String>,
    /// Ask for the privilege escalation password (a secret, prompted without echo).
    #[arg(short = 'K', long = "ask-become-pass")]
    pub ask_become_pass: bool,
    /// Ask for the SSH password (a secret; SSH password authentication).
    #[arg(short = 'k', long = "ask-pass")]
    pub ask_pass: bool,
    /// Private key file for SSH (ansible.cfg `private_key_file`).
    #[arg(long = "private-key", alias = "key-file", value_name = "PRIVATE_KEY_FILE")]
    pub private_key: Option<PathBuf>,
    /// Connection type: ssh or local.
    #[arg(short = 'c', long = "connection", value_name = "CONNECTION")]
    pub connection: Option<String>,
    /// SSH arguments for every connection (only `-o` options talon honours are used).
    #[arg(long, value_name = "SSH_COMMON_ARGS", allow_hyphen_values = true)]
    pub ssh_common_args: Option<String>,
    /// Extra SSH arguments (only `-o` options talon honours are used).
    #[arg(long, value_name = "SSH_EXTRA_ARGS", allow_hyphen_values = true)]
    pub ssh_extra_args: Option<String>,
}

/// ansible-playbook's options that select or list what runs (`talon run` only).
#[derive(Debug, Args, Default, Clone)]
pub struct PlayArgs {
    /// List the hosts each play would run on, then exit (nothing runs).
    #[arg(long)]
    pub list_hosts: bool,
    /// List the tasks each play would run, then exit.
    #[arg(long)]
    pub list_tasks: bool,
    /// List the tags of each play's tasks, then exit.
    #[arg(long)]
    pub list_tags: bool,
    /// Start the playbook at the first task of this name (a `*` glob, as Ansible matches).
    #[arg(long, value_name = "START_AT_TASK")]
    pub start_at_task: Option<String>,
    /// One step at a time: confirm each task before running it.
    #[arg(long)]
    pub step: bool,
    /// Clear the fact cache (talon keeps no fact cache between runs: accepted, no effect).
    #[arg(long)]
    pub flush_cache: bool,
}

/// `talon config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every setting talon reads, with where its value came from (`NAME(source) = value`),
    /// as `ansible-config dump`.
    Dump {
        /// Only the settings not at their default.
        #[arg(long)]
        only_changed: bool,
    },
}

/// Where a run's secrets come from (src/secrets/).
#[derive(Debug, Args, Default, Clone)]
pub struct SecretArgs {
    /// YAML file of secrets (`name: value`), outside the repository, mode 0600, owned by you.
    #[arg(long = "secrets", value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// A secret from an environment variable: `NAME` (exposed as lowercase `name`) or
    /// `name=VAR` (repeatable).
    #[arg(long = "secret-env", value_name = "NAME[=VAR]")]
    pub secret_env: Vec<String>,
    /// Prompt for a secret on the terminal, without echo (repeatable).
    #[arg(long = "ask-secret", value_name = "NAME")]
    pub ask_secret: Vec<String>,
}

/// The vault password options of every command that reads vault data (`talon run`,
/// `talon verify`, `talon inventory`, `talon vault`): `ansible-playbook`'s and `ansible-vault`'s.
/// (Loading: `crate::vault::cmd`.)
#[derive(Debug, Args, Default, Clone)]
pub struct VaultArgs {
    /// A vault password source `LABEL@SOURCE` (or just `SOURCE`): SOURCE is a password file,
    /// an executable printing the password (a `*-client` script gets `--vault-id LABEL`), or
    /// `prompt` (repeatable).
    #[arg(long = "vault-id", value_name = "LABEL@SOURCE")]
    pub vault_id: Vec<String>,
    /// A vault password file or script, for the `default` vault id (repeatable).
    #[arg(
        long = "vault-password-file",
        visible_alias = "vault-pass-file",
        value_name = "FILE"
    )]
    pub vault_password_file: Vec<PathBuf>,
    /// Prompt for the vault password on the terminal, without echo.
    #[arg(short = 'J', long = "ask-vault-pass", visible_alias = "ask-vault-password")]
    pub ask_vault_pass: bool,
}

/// SSH options shared by commands that connect.
#[derive(Debug, Args)]
pub struct SshArgs {
    /// known_hosts file to check host keys against (default: ~/.ssh/known_hosts, or the
    /// inventory's `-o UserKnownHostsFile=` in ansible_ssh_common_args).
    #[arg(long)]
    pub known_hosts: Option<PathBuf>,
    /// Record the keys of hosts not yet in known_hosts instead of refusing them.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Seconds to wait for a host to connect (default: ansible.cfg `timeout`, else 10).
    #[arg(short = 'T', long)]
    pub timeout: Option<u64>,
}

/// `talon verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The playbook whose plays define the desired state and the checks.
    #[arg(default_value = "playbooks/site.yml")]
    pub playbook: PathBuf,
    /// Inventory file or directory (repeatable; default as for `talon run`).
    #[arg(short = 'i', long = "inventory")]
    pub inventory: Vec<PathBuf>,
    /// Further limit the hosts with a pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// Hosts checked in parallel (default: all hosts, up to 64).
    #[arg(short = 'f', long)]
    pub forks: Option<usize>,
    /// Extra variables, as for `talon run`.
    #[arg(short = 'e', long = "extra-vars")]
    pub extra_vars: Vec<String>,
    /// Skip the drift stage (only run the verification plays).
    #[arg(long)]
    pub no_drift: bool,
    /// Only these tags, in both stages (comma separated, repeatable), as `talon run -t`:
    /// `-t gpu` runs only the GPU pre-flight checks (and drift of nothing so tagged).
    #[arg(short = 't', long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Refuse the playbook for load findings that are otherwise warnings, as for `talon run`.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub ssh: SshArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `talon adhoc` (and the binary called as `ansible`): ansible's ad-hoc command line.
#[derive(Debug, Args)]
pub struct AdhocArgs {
    /// Host pattern (`all`, a group, `web*`, `a:b:!c`).
    pub pattern: String,
    /// Inventory file, directory, script or `host1,host2,` list (repeatable; default:
    /// ansible.cfg's `inventory`, as for `talon run`).
    #[arg(short = 'i', long = "inventory")]
    pub inventory: Vec<PathBuf>,
    /// The module to run (ansible's default: `command`).
    #[arg(short = 'm', long = "module-name", default_value = "command")]
    pub module: String,
    /// The module's arguments: `k=v k2=v2`, a YAML/JSON mapping, or the free-form command of
    /// command/shell/raw/script.
    #[arg(short = 'a', long = "args", default_value = "")]
    pub args: String,
    /// Further limit the hosts with a pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// Extra variables, as for `talon run` (repeatable).
    #[arg(short = 'e', long = "extra-vars")]
    pub extra_vars: Vec<String>,
    /// Hosts run in parallel.
    #[arg(short = 'f', long)]
    pub forks: Option<usize>,
    /// Check mode: change nothing, report what would change.
    #[arg(short = 'C', long)]
    pub check: bool,
    /// Show diffs of what changes.
    #[arg(short = 'D', long)]
    pub diff: bool,
    /// One line per host (ansible's deprecated `oneline` callback).
    #[arg(short = 'o', long = "one-line")]
    pub one_line: bool,
    /// Run the module with become (sudo).
    #[arg(short = 'b', long = "become")]
    pub become_root: bool,
    /// The user to become.
    #[arg(long)]
    pub become_user: Option<String>,
    /// The remote user to connect as.
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// More output.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(flatten)]
    pub ssh: SshArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
}

/// `talon galaxy`.
#[derive(Debug, Subcommand)]
pub enum GalaxyCommand {
    /// Install the roles and collections of a requirements file (or roles named here).
    Install(GalaxyInstallArgs),
    /// `ansible-galaxy role ...`.
    Role {
        #[command(subcommand)]
        command: GalaxyKindCommand,
    },
    /// `ansible-galaxy collection ...`.
    Collection {
        #[command(subcommand)]
        command: GalaxyKindCommand,
    },
}

/// The one verb of `talon galaxy role|collection`.
#[derive(Debug, Subcommand)]
pub enum GalaxyKindCommand {
    /// Install roles (or collections).
    Install(GalaxyInstallArgs),
}

/// `talon galaxy install` options (ansible-galaxy's).
#[derive(Debug, Args)]
pub struct GalaxyInstallArgs {
    /// Role or collection sources (`git+URL[,version[,name]]`, a tarball, a folder).
    pub names: Vec<String>,
    /// A requirements file (`roles:` and `collections:` lists, or a list of roles).
    #[arg(short = 'r', long = "role-file", visible_alias = "requirements-file")]
    pub requirements: Option<PathBuf>,
    /// Where to install: the roles path (for `collection install`, the collections path).
    #[arg(short = 'p', long = "roles-path", visible_alias = "collections-path")]
    pub path: Option<PathBuf>,
    /// Install again over what is installed.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not install a role's dependencies.
    #[arg(short = 'n', long)]
    pub no_deps: bool,
}

/// `talon inventory`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Inventory file or directory (repeatable; default: ansible.cfg's `inventory`).
    #[arg(short = 'i', long = "inventory")]
    pub inventory: Vec<PathBuf>,
    /// Every host and group with variables, as JSON.
    #[arg(long, conflicts_with_all = ["graph", "host"])]
    pub list: bool,
    /// The group tree, from `all` or from the group named (`--graph GROUP`).
    #[arg(long, conflicts_with = "host", num_args = 0..=1, value_name = "GROUP", default_missing_value = "all")]
    pub graph: Option<String>,
    /// One host's variables, as JSON.
    #[arg(long)]
    pub host: Option<String>,
    /// The group `--graph` starts from (as `--graph GROUP`; ansible-inventory's positional
    /// argument).
    #[arg(value_name = "GROUP")]
    pub group: Option<String>,
    /// `--list` as YAML (ansible-inventory's `-y`; PyYAML's block style).
    #[arg(short = 'y', long)]
    pub yaml: bool,
    /// `--list` as TOML: not written by talon (refused with a message).
    #[arg(long, conflicts_with = "yaml")]
    pub toml: bool,
    /// With `--graph`: each host's and group's variables under it.
    #[arg(long = "vars")]
    pub show_vars: bool,
    /// With `--list`: each host's and group's own variables (groups' under `vars`) instead of
    /// every host's merged ones.
    #[arg(long)]
    pub export: bool,
    /// With `--list`: write the document to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With `--list`: only the hosts matching this pattern.
    #[arg(short = 'l', long)]
    pub limit: Option<String>,
    /// A playbook folder whose group_vars/ and host_vars/ also apply.
    #[arg(long)]
    pub playbook_dir: Option<PathBuf>,
    #[command(flatten)]
    pub vault: VaultArgs,
}

/// `talon lab`.
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Start N hosts and write an inventory, a key and a known_hosts file for them.
    Up {
        /// How many hosts.
        #[arg(short = 'n', long, default_value_t = 2)]
        count: usize,
        /// Where the lab's files go.
        #[arg(long, default_value = ".talon/lab")]
        dir: PathBuf,
        /// Give every host this machine's Docker engine (socket bind-mounted; `docker`,
        /// `docker-compose` v1 installed). The engine is shared: see `lab_port_base`.
        #[arg(long)]
        docker: bool,
        /// Run systemd as PID 1 on every host, so systemd/service tasks work for real.
        #[arg(long)]
        systemd: bool,
        /// Give every host the NET_ADMIN capability, so iptables/ipset work on it (each host
        /// filters only its own network namespace, never this machine's).
        #[arg(long)]
        net_admin: bool,
        /// Use the extras image (curl, git, unzip, cron, systemd, the Docker CLI, ...) without
        /// the changes the other flags make.
        #[arg(long)]
        extras: bool,
    },
    /// Build (or find cached) the lab host image without starting hosts.
    Image,
    /// Remove this lab's hosts.
    Down {
        /// The lab's folder.
        #[arg(long, default_value = ".talon/lab")]
        dir: PathBuf,
    },
}

impl From<VerifyArgs> for RunArgs {
    /// The run `talon verify` makes: the same playbook, inventory, limit, forks, extra vars,
    /// SSH and secret options, `--strict` and `-t`; no skip-tags, no check or diff mode, no JSON or
    /// verbosity (verify prints its own table).
    fn from(v: VerifyArgs) -> Self {
        RunArgs {
            playbook: v.playbook,
            more_playbooks: Vec::new(),
            inventory: v.inventory,
            limit: v.limit,
            tags: v.tags,
            skip_tags: Vec::new(),
            check: false,
            diff: false,
            forks: v.forks,
            extra_vars: v.extra_vars,
            force_handlers: false,
            json: false,
            verbose: 0,
            syntax_check: false,
            strict: v.strict,
            ssh: v.ssh,
            secret: v.secret,
            vault: v.vault,
            conn: v.conn,
            play: PlayArgs::default(),
        }
    }
}
