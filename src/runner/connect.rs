//! Connection settings for a host, from its variables (Ansible's names) and `~/.ssh/config`;
//! where a task connects (delegation, connection keywords) and its `become`.

use std::path::PathBuf;

use std::sync::Arc;

use super::error::TaskError;
use super::host::Inherited;
use super::{HostState, PlayCtx, Runner};
use crate::playbook::Task;
use crate::template::Scope;
use crate::transport::{Become, ConnectSpec, Connection, ConnectionKind, TransportError};
use crate::vars::{self, Vars};

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

/// Expands a leading `~/`.
pub fn expand_tilde(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => home().join(rest),
        None => PathBuf::from(p),
    }
}

/// Reads `-o UserKnownHostsFile=PATH` out of `ansible_ssh_common_args` / `ansible_ssh_extra_args`,
/// so inventories written for `ansible-playbook` keep their known_hosts file.
pub fn known_hosts_from_args(args: &str) -> Option<PathBuf> {
    ssh_option_from_args(args, "UserKnownHostsFile").map(|v| expand_tilde(&v))
}

/// The value of `-o NAME=VALUE` (or `-oNAME=VALUE`, `-o "NAME VALUE"`) in an ssh argument
/// string such as `ansible_ssh_common_args`; the first one wins, as in `ssh`. NAME is matched
/// without regard to case.
pub fn ssh_option_from_args(args: &str, name: &str) -> Option<String> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let opt = if w == "-o" {
            i += 1;
            words.get(i).copied()
        } else {
            w.strip_prefix("-o")
        };
        if let Some(o) = opt {
            let o = o.trim_matches(|c| c == '"' || c == '\'');
            if let Some((k, v)) = o.split_once('=')
                && k.trim().eq_ignore_ascii_case(name)
            {
                return Some(v.trim().to_string());
            }
        }
        i += 1;
    }
    None
}

/// Builds the [`ConnectSpec`] for a host from its (templated) variables: inventory, then the
/// play's `vars`, then extra vars, as Ansible's connection variables; the play's `remote_user`
/// and `connection` keywords apply where no variable sets the user or connection (variables win
/// over keywords, as in Ansible).
pub(super) fn spec_for(
    runner: &Runner<'_>,
    st: &HostState,
    play: Option<&crate::playbook::Play>,
) -> Result<ConnectSpec, TransportError> {
    let kw = Keywords {
        connection: play.and_then(|p| p.connection.clone()),
        remote_user: play.and_then(|p| p.remote_user.clone()),
    };
    spec_with(runner, &st.name, &st.inv_vars, play, &vars::Vars::new(), &kw)
}

/// The connection keywords in force for a task: the play's, replaced by an enclosing block's
/// or the task's own (raw; templated with the connecting host's variables).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Keywords {
    /// `connection:` (`ssh`, `local`).
    pub connection: Option<String>,
    /// `remote_user:`.
    pub remote_user: Option<String>,
}

/// [`spec_for`] for the host `name` with inventory variables `inv_vars` and the keywords `kw`:
/// also the spec of a delegated host (`delegate_to`), built from that host's variables as
/// ansible-core builds the delegated host's connection. `task_vars` (a block's and the task's
/// `vars:`) come above the play's, below extra vars.
pub(super) fn spec_with(
    runner: &Runner<'_>,
    name: &str,
    inv_vars: &vars::Vars,
    play: Option<&crate::playbook::Play>,
    task_vars: &vars::Vars,
    kw: &Keywords,
) -> Result<ConnectSpec, TransportError> {
    let scope = crate::template::Scope::new(std::sync::Arc::new({
        let mut v = inv_vars.clone();
        if let Some(p) = play {
            vars::overlay(&mut v, &p.vars);
        }
        vars::overlay(&mut v, task_vars);
        vars::overlay(&mut v, &runner.opts.extra_vars);
        v.insert("inventory_hostname".into(), serde_json::json!(name));
        v
    }));
    let get = |k: &str| -> Option<String> {
        let raw = scope.vars.get(k)?;
        let v = runner.templater.render_value(raw, &scope).ok()?;
        Some(vars::as_string(&v))
    };
    let keyword = |k: Option<&String>| -> Option<String> {
        let v = runner
            .templater
            .render_value(&serde_json::json!(k?), &scope)
            .ok()?;
        Some(vars::as_string(&v))
    };
    // -c / ansible.cfg `transport` below the host's variables and the play's keyword.
    let connection = get("ansible_connection")
        .or_else(|| keyword(kw.connection.as_ref()))
        .or_else(|| runner.opts.connection.clone());
    let kind = match connection.as_deref() {
        Some("local") => ConnectionKind::Local,
        None if name == "localhost" && get("ansible_host").is_none() => ConnectionKind::Local,
        Some("ssh") | Some("smart") | Some("paramiko") | None => ConnectionKind::Ssh,
        Some(other) => {
            return Err(TransportError::Connect {
                host: name.to_string(),
                addr: String::new(),
                message: format!("ansible_connection '{other}' is not supported (use ssh or local)"),
            });
        }
    };
    let alias = get("ansible_host")
        .or_else(|| get("ansible_ssh_host"))
        .unwrap_or_else(|| name.to_string());
    // ~/.ssh/config applies to the address as `ssh` would see it; explicit inventory values win.
    let cfg = if kind == ConnectionKind::Ssh {
        crate::transport::ssh_config::load_user_config(&alias).unwrap_or_default()
    } else {
        Default::default()
    };
    let address = cfg.host_name.clone().unwrap_or_else(|| alias.clone());
    let port = match get("ansible_port").or_else(|| get("ansible_ssh_port")) {
        Some(p) => p.trim().parse::<u16>().map_err(|_| TransportError::Connect {
            host: name.to_string(),
            addr: address.clone(),
            message: format!("ansible_port '{p}' is not a port number"),
        })?,
        None => cfg.port.unwrap_or(22),
    };
    let mut identity_files = Vec::new();
    if let Some(k) = get("ansible_ssh_private_key_file").or_else(|| get("ansible_private_key_file")) {
        identity_files.push(expand_tilde(&k));
    } else if let Some(k) = &runner.opts.private_key_file {
        // --private-key / ansible.cfg private_key_file: where the host names no key.
        identity_files.push(k.clone());
    }
    identity_files.extend(cfg.identity_files.iter().cloned());
    // The host's variables win over ssh_args/--ssh-common-args/--ssh-extra-args (ansible.cfg,
    // ANSIBLE_*, the command line), each replacing its counterpart as in Ansible.
    let [cfg_args, cfg_common, cfg_extra] = runner.opts.ssh_args.clone();
    let args = [
        get("ansible_ssh_common_args").or(cfg_common),
        get("ansible_ssh_extra_args").or(cfg_extra),
        get("ansible_ssh_args").or(cfg_args),
    ];
    let from_args = args.iter().flatten().find_map(|a| known_hosts_from_args(a));
    let known_hosts = runner
        .opts
        .known_hosts
        .clone()
        .or(from_args)
        .or(cfg.user_known_hosts_file.clone())
        .unwrap_or_else(|| home().join(".ssh").join("known_hosts"));
    let mut spec = ConnectSpec::ssh(name, &address, port);
    spec.kind = kind;
    spec.user = get("ansible_user")
        .or_else(|| get("ansible_ssh_user"))
        .or_else(|| keyword(kw.remote_user.as_ref()))
        // -u / ansible.cfg remote_user: ansible passes it as `-o User=`, over ~/.ssh/config.
        .or_else(|| runner.opts.remote_user.clone())
        .or(cfg.user.clone());
    spec.identity_files = identity_files;
    spec.known_hosts = known_hosts.clone();
    spec.accept_new_host_keys = runner.opts.accept_new_host_keys
        || args.iter().flatten().any(|a| {
            // StrictHostKeyChecking=no/accept-new: new keys recorded, changed keys still refused.
            ssh_option_from_args(a, "StrictHostKeyChecking")
                .is_some_and(|v| v.eq_ignore_ascii_case("no") || v.eq_ignore_ascii_case("accept-new"))
        });
    spec.connect_timeout = runner.opts.connect_timeout;
    spec.password = runner.opts.ssh_password.clone();
    let alive = |name: &str| args.iter().flatten().find_map(|a| ssh_option_from_args(a, name));
    if let Some(v) = alive("ServerAliveInterval") {
        spec.server_alive_interval =
            std::time::Duration::from_secs(v.parse::<u64>().map_err(|_| TransportError::Connect {
                host: name.to_string(),
                addr: address.clone(),
                message: format!(
                    "ServerAliveInterval '{v}' in ansible_ssh_common_args is not a number of seconds"
                ),
            })?);
    } else if let Some(n) = cfg.server_alive_interval {
        spec.server_alive_interval = std::time::Duration::from_secs(n);
    }
    if let Some(v) = alive("ServerAliveCountMax") {
        spec.server_alive_count_max = v.parse::<usize>().map_err(|_| TransportError::Connect {
            host: name.to_string(),
            addr: address.clone(),
            message: format!("ServerAliveCountMax '{v}' in ansible_ssh_common_args is not a number"),
        })?;
    } else if let Some(n) = cfg.server_alive_count_max {
        spec.server_alive_count_max = n;
    }
    // ProxyJump: a chain a,b becomes b with jump = a; each hop resolved through ~/.ssh/config.
    let mut jump: Option<Box<ConnectSpec>> = None;
    for hop in &cfg.proxy_jump {
        let hc = crate::transport::ssh_config::load_user_config(&hop.host).unwrap_or_default();
        let addr = hc.host_name.clone().unwrap_or_else(|| hop.host.clone());
        let mut js = ConnectSpec::ssh(&hop.host, &addr, hop.port.or(hc.port).unwrap_or(22));
        js.user = hop.user.clone().or(hc.user.clone());
        js.identity_files = hc.identity_files.clone();
        js.known_hosts = known_hosts.clone();
        js.accept_new_host_keys = runner.opts.accept_new_host_keys;
        js.connect_timeout = runner.opts.connect_timeout;
        js.server_alive_interval = spec.server_alive_interval;
        js.server_alive_count_max = spec.server_alive_count_max;
        js.jump = jump.take();
        jump = Some(Box::new(js));
    }
    spec.jump = jump;
    Ok(spec)
}

/// Where a task connects: delegation (`delegate_to`), the connection keywords and variables
/// of its block and task, and `become` on that connection.
impl Runner<'_> {
    /// The host a task is delegated to: `delegate_to` rendered with the task's variables
    /// (those of the task's own host, as ansible-core templates it); `None` without one.
    ///
    /// Errors: [`TaskError`] when `delegate_to` does not render.
    pub(super) fn delegated_host(&self, task: &Task, scope: &Scope) -> Result<Option<String>, TaskError> {
        let Some(d) = &task.delegate_to else {
            return Ok(None);
        };
        let v = self
            .templater
            .render_str(d, scope)
            .map_err(TaskError::template("delegate_to"))?;
        let d = vars::as_string(&v);
        let d = d.trim();
        Ok((!d.is_empty()).then(|| d.to_string()))
    }

    /// The variables of the host a task is delegated to, as ansible-core gives them to the
    /// task's connection, `become` and module dispatch (its `ansible_delegated_vars`, built by
    /// `VariableManager.get_delegated_vars_and_hostname`): the delegated host's inventory
    /// variables, facts and `set_fact`/`include_vars` values (as `hostvars` shows them) with the
    /// play's, the roles', the block's and the task's variables and extra vars in the task's
    /// precedence; no loop item. `inventory_hostname` stays the task's own host's, as there. A
    /// host absent from the inventory has the `all` group's variables.
    pub(super) fn delegated_scope(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        task: &Task,
        inh: &Inherited,
        delegated: &str,
    ) -> Scope {
        let inv_vars = {
            let inv = self.inventory();
            match inv.host(delegated) {
                Some(_) => inv.host_vars(delegated),
                None => inv.host_vars_unknown(delegated),
            }
        };
        let mut ds = HostState::new(delegated, inv_vars);
        let seen = self.hostvars.read().ok().and_then(|h| h.get(delegated).cloned());
        if let Some(seen) = seen {
            if let Some(serde_json::Value::Object(f)) = seen.get("ansible_facts") {
                let (facts, plain) = ds.facts_mut();
                *facts = f.clone();
                for k in facts.keys() {
                    if seen.contains_key(k) && !seen.contains_key(&format!("ansible_{k}")) {
                        plain.insert(k.clone());
                    }
                }
            }
            // What the host's own tasks set (set_fact, include_vars, register): above the
            // play's variables, as on that host.
            for (k, v) in seen.iter() {
                let fact = k == "ansible_facts"
                    || k == "inventory_hostname"
                    || ds.facts().contains_key(k)
                    || k.strip_prefix("ansible_")
                        .is_some_and(|b| ds.facts().contains_key(b));
                if !fact && ds.inv_vars.get(k) != Some(v) {
                    ds.registered.insert(k.clone());
                    ds.host_facts.insert(k.clone(), v.clone());
                }
            }
        }
        ds.vars_files = st.vars_files.clone();
        let scope = self.scope_for(ctx, &ds, Some(task), inh, &Vars::new());
        let mut v = Vars::new();
        v.insert("inventory_hostname".into(), serde_json::json!(st.name));
        scope.with_top(v)
    }

    /// The task's `become`, from `scope` (the delegated host's variables under
    /// `delegate_to`, see [`Runner::delegated_scope`]): on and the user from the variables
    /// `ansible_become`/`ansible_become_user` when set, else the keywords, else -b /
    /// `--become-user` / ansible.cfg (ansible-core's precedence: variables over keywords); the
    /// password from `ansible_become_password` (`ansible_become_pass`), else -K. `None` when
    /// off or when the user is already the connection's user.
    ///
    /// Errors: [`TaskError`] when a value does not render, a secret cannot be revealed, or
    /// `ansible_become_method` names another method than sudo.
    pub(super) fn become_for(
        &self,
        task: &Task,
        inh: &Inherited,
        scope: &Scope,
    ) -> Result<Option<Become>, TaskError> {
        let hv = &scope.vars;
        // Variables win over the keywords (`ansible_become` over `become:`,
        // `ansible_become_user` over `become_user:`), as ansible-core's PlayContext and become
        // plugin options take them; -b / --become-user / ansible.cfg where neither says.
        let on = match hv.get("ansible_become") {
            Some(v) => vars::as_bool(
                &self
                    .templater
                    .render_value(v, scope)
                    .map_err(TaskError::template("ansible_become"))?,
            )
            .unwrap_or(false),
            None => task.become_.or(inh.become_).unwrap_or(self.opts.become_),
        };
        if !on {
            return Ok(None);
        }
        // `ansible_become_method` (the delegated host's under delegate_to) as the keyword:
        // sudo only.
        if let Some(m) = hv.get("ansible_become_method") {
            let m = vars::as_string(
                &self
                    .templater
                    .render_value(m, scope)
                    .map_err(TaskError::template("ansible_become_method"))?,
            );
            if m != "sudo" {
                return Err(TaskError::Invalid(format!(
                    "talon supports only become_method: sudo (ansible_become_method is '{m}')"
                )));
            }
        }
        let user_v = hv
            .get("ansible_become_user")
            .map(vars::as_string)
            .or_else(|| task.become_user.clone())
            .or_else(|| inh.become_user.clone())
            .or_else(|| self.opts.become_user.clone())
            .unwrap_or_else(|| "root".into());
        let user = vars::as_string(
            &self
                .templater
                .render_str(&user_v, scope)
                .map_err(TaskError::template(""))?,
        );
        let remote_user = hv
            .get("ansible_user")
            .map(vars::as_string)
            .or_else(|| self.opts.remote_user.clone())
            .unwrap_or_else(|| std::env::var("USER").unwrap_or_else(|_| "root".into()));
        if user == remote_user {
            // Already that user: sudo would change nothing.
            return Ok(None);
        }
        let password = match hv
            .get("ansible_become_password")
            .or_else(|| hv.get("ansible_become_pass"))
        {
            Some(p) => {
                let p = self
                    .templater
                    .render_value(p, scope)
                    .map_err(TaskError::template(""))?;
                // A password from --secrets/--secret-env/--ask-secret is a marker here: sudo
                // gets the value, never the marker.
                let revealed =
                    self.opts
                        .secrets
                        .reveal(&vars::as_string(&p))
                        .map_err(|source| TaskError::Secret {
                            what: "ansible_become_password",
                            source: Box::new(source),
                        })?;
                let text = String::from_utf8(revealed.content.to_vec())
                    .map_err(|_| TaskError::Invalid("ansible_become_password is not valid UTF-8".into()))?;
                let p = secrecy::SecretString::from(text);
                self.opts.secrets.also_mask(&p); // secrets: masked in every report
                Some(p)
            }
            // -K / become_ask_pass: the password asked at start.
            None => self
                .opts
                .become_password
                .clone()
                .inspect(|p| self.opts.secrets.also_mask(p)),
        };
        Ok(Some(Become { user, password }))
    }

    /// Connection variables in a block's or the task's `vars:` (`ansible_connection`,
    /// `ansible_user`, ...), rendered with the task's variables: they count as the task's, as
    /// in ansible-core.
    ///
    /// Errors: [`TaskError`] when one does not render (the task fails, rather than connecting
    /// another way).
    pub(super) fn connection_vars(
        &self,
        task: &Task,
        inh: &Inherited,
        scope: &Scope,
    ) -> Result<Vars, TaskError> {
        let mut out = Vars::new();
        for (k, v) in inh.vars.iter().chain(task.vars.iter()) {
            if k.starts_with("ansible_") {
                let r = self
                    .templater
                    .render_value(v, scope)
                    .map_err(TaskError::template(format!("variable '{k}'")))?;
                out.insert(k.clone(), r);
            }
        }
        Ok(out)
    }

    /// The connection a task runs on: the delegated host's (its own connection variables,
    /// `ansible_host`, `ansible_port`, `ansible_user`, key..., with the task's keywords; a host
    /// absent from the inventory is reached by its name with the `all` group's variables, as
    /// ansible-core does), else the host's own for the task's `connection:`/`remote_user:`
    /// keywords. Connections are made once, shared, and opened by their first command (see
    /// [`Runner::connection_to`]).
    ///
    /// Errors: [`crate::transport::TransportError`] when the connection variables are invalid
    /// (the task's host is then unreachable for this task, as in ansible-core); a host that
    /// cannot be reached is found so by the task's first command.
    pub(super) fn task_connection(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        conn: &Arc<Connection>,
        task_vars: &Vars,
        inh: &Inherited,
        delegated: Option<&str>,
    ) -> Result<Arc<Connection>, crate::transport::TransportError> {
        let play_kw = super::connect::Keywords {
            connection: ctx.play.connection.clone(),
            remote_user: ctx.play.remote_user.clone(),
        };
        let own = inh.keywords != play_kw || !task_vars.is_empty();
        let spec = match delegated {
            Some(d) if d != st.name || own => {
                let vars = {
                    let inv = self.inventory();
                    match inv.host(d) {
                        Some(_) => inv.host_vars(d),
                        None => inv.host_vars_unknown(d),
                    }
                };
                super::connect::spec_with(self, d, &vars, Some(ctx.play), task_vars, &inh.keywords)?
            }
            _ if own => super::connect::spec_with(
                self,
                &st.name,
                &st.inv_vars,
                Some(ctx.play),
                task_vars,
                &inh.keywords,
            )?,
            _ => return Ok(conn.clone()),
        };
        Ok(self.connection_to(&spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_user_known_hosts_file_in_ssh_args() {
        assert_eq!(
            known_hosts_from_args("-o UserKnownHostsFile=/x/kh -o StrictHostKeyChecking=yes"),
            Some(PathBuf::from("/x/kh"))
        );
        assert_eq!(
            known_hosts_from_args("-oUserKnownHostsFile=/y"),
            Some(PathBuf::from("/y"))
        );
        assert_eq!(known_hosts_from_args("-o ForwardAgent=yes"), None);
        assert_eq!(
            ssh_option_from_args(
                "-C -o ControlMaster=auto -oserveraliveinterval=3",
                "ServerAliveInterval"
            ),
            Some("3".to_string())
        );
    }
}
