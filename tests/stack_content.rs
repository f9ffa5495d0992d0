//! The OpenClaw stack's content (templates/, playbooks/roles/) checked by the real tools.
//!
//! talon itself renders the `config` role plus the maintenance and verify scripts on an
//! `ansible_connection: local` host into a temp dir; then docker-compose, LiteLLM's own config
//! loader (from PyPI, in a venv under the target dir), caddy, shellcheck and python's JSON
//! parser judge the result. One test per defect of the seeds (deployment-bug-report.md,
//! seven-bugs-zero-model-problems.md), named after it, asserts the corrected shape on the
//! rendered output, so the broken shape fails it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use common::{root, talon, text};
use serde_json::Value;

/// Dummy secret values: long enough for the argv checker, obviously not real.
const SECRETS: [(&str, &str); 4] = [
    ("openclaw_gateway_token", "test-gateway-token-5b1f0c"),
    ("anthropic_api_key", "sk-ant-test-7d2e9a41"),
    ("litellm_master_key", "sk-master-test-93c0aa"),
    ("telegram_bot_token", "123456:test-telegram-token"),
];

/// One rendering of the stack, shared by the tests of this file.
struct Rendered {
    base: PathBuf,
    first_changed: u32,
    second_changed: u32,
}

/// The test playbook: the real `config` role, the scripts and units the other roles install,
/// and stub handlers (the real ones live in the deploy role and need the docker modules).
const RENDER_PLAYBOOK: &str = r#"
- name: render the stack
  hosts: local
  gather_facts: false
  roles: [stack_common, config]
  vars_files:
    - "@ROLES@/harden/defaults/main.yml"
    - "@ROLES@/maintenance/defaults/main.yml"
  tasks:
    - name: folder for the scripts
      file: { path: "{{ stack_base_dir }}/rendered", state: directory, mode: "0755" }

    - name: scripts and units of maintenance and verify
      template:
        src: "{{ stack_templates_dir }}/{{ item.src }}"
        dest: "{{ stack_base_dir }}/rendered/{{ item.dest }}"
        mode: "0750"
      loop:
        - { src: backup.sh.j2, dest: backup.sh }
        - { src: restore.sh.j2, dest: restore.sh }
        - { src: check-secrets-argv.sh.j2, dest: check-secrets-argv.sh }
        - { src: openclaw-backup.service.j2, dest: openclaw-backup.service }
        - { src: openclaw-backup.timer.j2, dest: openclaw-backup.timer }
        - { src: openclaw-backup.cron.j2, dest: openclaw-backup.cron }
        - { src: openclaw.logrotate.j2, dest: openclaw.logrotate }
        - { src: firewall.rules.j2, dest: firewall.rules }
        - { src: firewall.ipset.j2, dest: firewall.ipset }
        - { src: openclaw-firewall.sh.j2, dest: openclaw-firewall.sh }
  handlers:
    - { name: recreate openclaw gateway, debug: { msg: gateway } }
    - { name: recreate litellm, debug: { msg: litellm } }
    - { name: recreate egress, debug: { msg: egress } }
    - { name: recreate caddy, debug: { msg: caddy } }
"#;

/// Writes the playbook and inventory into `dir` and runs talon on it; returns the recap's
/// changed count, asserting success.
fn render_into(dir: &Path, base: &Path) -> u32 {
    render_with(dir, base, serde_json::json!({}))
}

/// `render_into` with more extra vars (a JSON object) on top of the defaults.
fn render_with(dir: &Path, base: &Path, more: Value) -> u32 {
    let roles = root().join("playbooks/roles");
    let playbook = RENDER_PLAYBOOK.replace("@ROLES@", &roles.display().to_string());
    std::fs::write(dir.join("render.yml"), playbook).unwrap();
    std::fs::write(
        dir.join("inventory.yml"),
        "all:\n  hosts:\n    local:\n      ansible_connection: local\n",
    )
    .unwrap();
    let extra = serde_json::json!({
        "stack_base_dir": base,
        "stack_templates_dir": root().join("templates"),
        "openclaw_telegram_enabled": true,
        "openclaw_telegram_allow_from": [4242],
        "backup_dir": base.join("backups"),
        "stack_log_dir": base.join("log"),
        "config_validator_packages": [],
        "firewall_allowlist": [{"port": 443, "proto": "tcp", "sources": ["203.0.113.0/24"]}],
        "harden_fw_docker_user": true,
    });
    let mut extra = extra.as_object().unwrap().clone();
    for (k, v) in SECRETS {
        extra.insert(k.into(), Value::String(v.into()));
    }
    for (k, v) in more.as_object().unwrap() {
        extra.insert(k.clone(), v.clone());
    }
    let out = talon()
        .arg("run")
        .arg(dir.join("render.yml"))
        .arg("-i")
        .arg(dir.join("inventory.yml"))
        .arg("-e")
        .arg(Value::Object(extra).to_string())
        .env("ANSIBLE_ROLES_PATH", &roles)
        .env("TALON_STATE_DIR", dir.join("state"))
        .output()
        .unwrap();
    let run = common::Run::from(out);
    run.assert_code(0);
    run.changed("local")
}

fn rendered() -> &'static Rendered {
    static R: OnceLock<Rendered> = OnceLock::new();
    R.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("talon-stack-content-")
            .tempdir()
            .unwrap()
            .keep();
        let base = dir.join("opt-openclaw");
        let first_changed = render_into(&dir, &base);
        let second_changed = render_into(&dir, &base);
        Rendered {
            base,
            first_changed,
            second_changed,
        }
    })
}

fn read(rel: &str) -> String {
    let p = rendered().base.join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn yaml(rel: &str) -> Value {
    serde_saphyr::from_str(&read(rel)).unwrap()
}

/// The compose file as docker-compose itself resolves it (anchors and merges applied).
fn compose() -> &'static Value {
    static C: OnceLock<Value> = OnceLock::new();
    C.get_or_init(|| {
        let out = Command::new("docker-compose")
            .arg("-f")
            .arg(rendered().base.join("docker-compose.yml"))
            .arg("config")
            .output()
            .expect("docker-compose must be installed (apt-get install docker-compose)");
        assert!(
            out.status.success(),
            "docker-compose config: {}",
            text(&out.stderr)
        );
        serde_saphyr::from_str(&text(&out.stdout)).unwrap()
    })
}

fn service(name: &str) -> &'static Value {
    compose()["services"]
        .get(name)
        .unwrap_or_else(|| panic!("no service {name} in the compose file"))
}

fn service_networks(name: &str) -> Vec<String> {
    match &service(name)["networks"] {
        Value::Object(m) => m.keys().cloned().collect(),
        Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
        other => panic!("networks of {name}: {other}"),
    }
}

fn network_internal(net: &str) -> bool {
    compose()["networks"][net]["internal"].as_bool() == Some(true)
}

/// A role's YAML file (tasks or handlers) as JSON.
fn role_file(role: &str, file: &str) -> Value {
    let p = root().join("playbooks/roles").join(role).join(file);
    serde_saphyr::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Every task of a task list, blocks flattened.
fn flat_tasks(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for t in v.as_array().into_iter().flatten() {
        if let Some(inner) = t.get("block") {
            out.extend(flat_tasks(inner));
        } else {
            out.push(t.clone());
        }
    }
    out
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

// ---- the real tools ---------------------------------------------------------------------

#[test]
fn render_is_idempotent() {
    let r = rendered();
    assert!(r.first_changed > 0, "the first render changed nothing?");
    assert_eq!(
        r.second_changed, 0,
        "a second render with the same inputs must change nothing"
    );
}

#[test]
fn compose_file_passes_docker_compose_config() {
    run_ok(
        Command::new("docker-compose")
            .arg("-f")
            .arg(rendered().base.join("docker-compose.yml"))
            .args(["config", "-q"]),
    );
    // And every service the roles address exists.
    for s in ["openclaw", "litellm", "redis", "egress", "docker-proxy", "caddy"] {
        service(s);
    }
}

/// Installs litellm[proxy] (pinned like images/litellm) into a venv under the target dir once.
fn litellm_python() -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap();
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stack-litellm-venv");
    let py = venv.join("bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import litellm.proxy.proxy_server"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        run_ok(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        run_ok(
            Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "litellm[proxy]==1.80.5"])
                .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
        );
    }
    py
}

/// Loads a config file with LiteLLM's proxy loader (ProxyConfig.load_config, which builds the
/// Router) and prints what the router sees per deployment.
const LITELLM_LOAD: &str = r#"
import asyncio, json, os, sys
os.environ.update({"ANTHROPIC_API_KEY": "sk-test", "LITELLM_MASTER_KEY": "sk-master-test",
                   "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "1"})
from litellm.proxy import proxy_server
async def main():
    router, _, _ = await proxy_server.ProxyConfig().load_config(router=None, config_file_path=sys.argv[1])
    deps = [{"name": d["model_name"], **{k: d["litellm_params"].get(k) for k in
             ("rpm", "tpm", "max_budget", "budget_duration")}} for d in router.get_model_list()]
    budgets = {k: str(v) for k, v in (router.provider_budget_config or {}).items()}
    print("RESULT " + json.dumps({"deployments": deps, "provider_budgets": budgets}))
asyncio.run(main())
"#;

fn litellm_loaded() -> &'static Value {
    static L: OnceLock<Value> = OnceLock::new();
    L.get_or_init(|| {
        let py = litellm_python();
        let out = run_ok(
            Command::new(py)
                .args(["-c", LITELLM_LOAD])
                .arg(rendered().base.join("litellm/config.yaml")),
        );
        let line = out
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .unwrap_or_else(|| panic!("no RESULT from the LiteLLM loader:\n{out}"));
        serde_json::from_str(line).unwrap()
    })
}

#[test]
fn litellm_config_accepted_by_litellm_loader() {
    let l = litellm_loaded();
    let deps = l["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{l}");
    assert_eq!(deps[0]["name"], "default");
    assert_eq!(deps[0]["rpm"], 60, "the router must see the rpm limit: {l}");
    assert_eq!(deps[0]["tpm"], 200000, "{l}");
}

#[test]
fn caddyfile_passes_caddy_validate() {
    if Command::new("caddy").arg("version").output().is_err() {
        // Debian bookworm ships caddy 2.6; install it like scripts/test installs its tools.
        run_ok(
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "caddy"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        );
    }
    run_ok(
        Command::new("caddy")
            .args(["validate", "--adapter", "caddyfile", "--config"])
            .arg(rendered().base.join("caddy/Caddyfile")),
    );
}

#[test]
fn scripts_pass_shellcheck() {
    let base = &rendered().base;
    let scripts = [
        base.join("rendered/backup.sh"),
        base.join("rendered/restore.sh"),
        base.join("rendered/check-secrets-argv.sh"),
        base.join("rendered/openclaw-firewall.sh"),
        root().join("images/build.sh"),
        root().join("templates/gpu-preflight.sh"),
    ];
    run_ok(Command::new("shellcheck").args(&scripts));
}

#[test]
fn golden_config_is_valid_json() {
    run_ok(
        Command::new("python3")
            .args(["-m", "json.tool"])
            .arg(rendered().base.join("openclaw/openclaw.json")),
    );
    let c: Value = serde_json::from_str(&read("openclaw/openclaw.json")).unwrap();
    assert_eq!(c["gateway"]["mode"], "local");
    assert_eq!(c["gateway"]["bind"], "lan");
    assert_eq!(c["gateway"]["auth"]["mode"], "token");
    assert!(
        c["gateway"]["auth"].get("token").is_none(),
        "the gateway token must not be inlined"
    );
    // openclaw_settings (dotted keys) are merged into the golden config.
    assert_eq!(c["agents"]["defaults"]["model"]["primary"], "litellm/default");
}

#[test]
fn secret_files_are_0600_in_0700_folders() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |rel: &str| {
        std::fs::metadata(rendered().base.join(rel))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("secrets"), 0o700);
    assert_eq!(mode("openclaw-secrets"), 0o700);
    assert_eq!(mode("secrets/openclaw.env"), 0o600);
    assert_eq!(mode("secrets/litellm.env"), 0o600);
    assert_eq!(mode("openclaw/openclaw.json"), 0o600);
    assert!(read("secrets/openclaw.env").contains("OPENCLAW_GATEWAY_TOKEN=test-gateway-token-5b1f0c"));
}

#[test]
fn only_caddy_publishes_ports_and_every_service_restarts_unless_stopped() {
    for (name, svc) in compose()["services"].as_object().unwrap() {
        assert_eq!(svc["restart"], "unless-stopped", "{name}");
        assert_eq!(svc["read_only"], true, "{name} must have a read-only rootfs");
        let has_ports = svc
            .get("ports")
            .is_some_and(|p| !p.as_array().unwrap().is_empty());
        assert_eq!(has_ports, name == "caddy", "{name}: only caddy publishes ports");
    }
    assert_eq!(service("docker-proxy")["environment"]["CONTAINERS"], "1");
    assert_eq!(service("docker-proxy")["environment"]["POST"], "0");
}

// ---- deployment-bug-report.md ----------------------------------------------------------

#[test]
fn bug1_egress_healthcheck_is_a_tcp_probe() {
    let test = service("egress")["healthcheck"]["test"].to_string();
    assert!(test.contains("nc -z localhost 4750"), "{test}");
    assert!(
        !test.contains("/healthcheck"),
        "Smokescreen serves no /healthcheck: {test}"
    );
}

#[test]
fn bug2_egress_survives_clean_exits_and_read_only_rootfs() {
    let egress = service("egress");
    assert_eq!(egress["restart"], "unless-stopped", "exit 0 must restart too");
    let cmd = egress["command"].to_string();
    // --stats-socket-dir has no default; naming one on the read-only rootfs breaks the proxy.
    assert!(!cmd.contains("--stats-socket-dir"), "{cmd}");
    assert!(egress["tmpfs"].to_string().contains("/tmp"), "{egress}");
}

#[test]
fn bug3_egress_allows_missing_role_with_a_default_rule() {
    assert_eq!(yaml("egress/config.yaml")["allow_missing_role"], true);
    let acl = yaml("egress/acl.yaml");
    assert_eq!(acl["version"], "v1");
    assert_eq!(acl["services"], serde_json::json!([]), "services must exist");
    assert_eq!(acl["default"]["action"], "enforce");
    let domains = acl["default"]["allowed_domains"].as_array().unwrap();
    assert!(domains.iter().any(|d| d == "api.anthropic.com"), "{acl}");
    for d in domains {
        let d = d.as_str().unwrap();
        assert!(
            !d.contains('*') || (d.starts_with("*.") && !d[2..].contains('*')),
            "{d}"
        );
    }
    let cmd = service("egress")["command"].to_string();
    assert!(
        cmd.contains("--config-file=/etc/smokescreen/config.yaml"),
        "{cmd}"
    );
    assert!(
        cmd.contains("--egress-acl-file=/etc/smokescreen/acl.yaml"),
        "{cmd}"
    );
}

#[test]
fn bug4_gateway_only_on_internal_networks() {
    let nets = service_networks("openclaw");
    assert!(!nets.is_empty());
    for n in &nets {
        assert!(network_internal(n), "gateway network {n} must be internal: true");
    }
    // Only the egress proxy is on a network with a route out (caddy's ingress only publishes).
    for (name, _) in compose()["services"].as_object().unwrap() {
        let outside: Vec<_> = service_networks(name)
            .into_iter()
            .filter(|n| !network_internal(n))
            .collect();
        let expected: Vec<String> = match name.as_str() {
            "egress" => vec!["egress".into()],
            "caddy" => vec!["ingress".into()],
            _ => vec![],
        };
        assert_eq!(outside, expected, "{name}'s non-internal networks");
    }
    // The gateway reaches the proxy and the proxy is not reachable the other way round.
    assert!(service_networks("egress").iter().any(|n| nets.contains(n)));
}

#[test]
fn bug5_litellm_rpm_inside_litellm_params() {
    let cfg = yaml("litellm/config.yaml");
    for m in cfg["model_list"].as_array().unwrap() {
        assert!(
            m.get("rpm").is_none() && m.get("tpm").is_none(),
            "top-level rpm/tpm is ignored: {m}"
        );
        assert!(m["litellm_params"]["rpm"].is_u64(), "{m}");
        assert!(m["litellm_params"]["tpm"].is_u64(), "{m}");
    }
    // LiteLLM's own loader sees the limit where its router reads it.
    assert_eq!(litellm_loaded()["deployments"][0]["rpm"], 60);
}

#[test]
fn bug5_litellm_budget_inside_litellm_params() {
    let cfg = yaml("litellm/config.yaml");
    for m in cfg["model_list"].as_array().unwrap() {
        assert!(
            m.get("model_info").and_then(|i| i.get("max_budget")).is_none(),
            "model_info.max_budget is ignored: {m}"
        );
        assert!(m["litellm_params"]["max_budget"].is_f64(), "{m}");
        assert_eq!(m["litellm_params"]["budget_duration"], "1d");
    }
    assert_eq!(
        cfg["router_settings"]["provider_budget_config"]["anthropic"]["budget_limit"],
        50.0
    );
    let l = litellm_loaded();
    assert_eq!(l["deployments"][0]["max_budget"], 20.0, "{l}");
    assert!(
        l["provider_budgets"]["anthropic"]
            .as_str()
            .unwrap()
            .contains("50"),
        "{l}"
    );
}

/// Secret variable names that must never reach a command line.
const SECRET_VARS: [&str; 6] = [
    "openclaw_gateway_token",
    "telegram_bot_token",
    "anthropic_api_key",
    "litellm_master_key",
    "lookup('vars'",
    "_secret",
];

#[test]
fn bug6_telegram_token_is_a_file_never_inline_or_argv() {
    let c: Value = serde_json::from_str(&read("openclaw/openclaw.json")).unwrap();
    let tg = &c["channels"]["telegram"];
    assert_eq!(tg["tokenFile"], "/run/openclaw-secrets/telegram_bot_token");
    assert!(tg.get("token").is_none(), "channels.telegram.token is not a key");
    assert!(tg.get("botToken").is_none(), "the token must not be inlined");
    assert!(!read("openclaw/openclaw.json").contains("test-telegram-token"));
    // No task of any stack role puts a secret variable into command/shell arguments.
    for role in [
        "config",
        "harden",
        "ollama",
        "deploy",
        "integrate",
        "maintenance",
        "verify",
    ] {
        for file in ["tasks/main.yml", "handlers/main.yml"] {
            if !root().join("playbooks/roles").join(role).join(file).exists() {
                continue;
            }
            for t in flat_tasks(&role_file(role, file)) {
                for m in [
                    "command",
                    "shell",
                    "ansible.builtin.command",
                    "ansible.builtin.shell",
                ] {
                    if let Some(args) = t.get(m) {
                        let s = args.to_string();
                        for v in SECRET_VARS {
                            assert!(
                                !s.contains(v),
                                "{role}/{file}: '{}' passes {v} in argv",
                                t["name"]
                            );
                        }
                    }
                }
                assert!(
                    t.get("environment").is_none(),
                    "{role}/{file}: no task environment"
                );
            }
        }
    }
    // The token file is delivered by talon_secret_file, 0600 for the gateway user only.
    let integrate = flat_tasks(&role_file("integrate", "tasks/main.yml"));
    let deliver = integrate
        .iter()
        .find(|t| t.get("talon_secret_file").is_some())
        .expect("integrate delivers the Telegram token with talon_secret_file");
    assert!(
        deliver["talon_secret_file"]["dest"]
            .to_string()
            .contains("telegram_bot_token")
    );
}

#[test]
fn bug7_litellm_depends_only_on_redis() {
    let deps = &service("litellm")["depends_on"];
    let names: Vec<&String> = deps.as_object().unwrap().keys().collect();
    assert_eq!(names, ["redis"], "litellm must start with only redis: {deps}");
    let env = &service("litellm")["environment"];
    assert_eq!(env["HTTPS_PROXY"], "http://egress:4750");
    assert!(env["NO_PROXY"].as_str().unwrap().contains("redis"), "{env}");
}

#[test]
fn bug8_config_handlers_survive_a_missing_container() {
    let handlers = flat_tasks(&role_file("deploy", "handlers/main.yml"));
    assert!(!handlers.is_empty());
    for h in &handlers {
        let dc = h.get("docker_compose").unwrap_or_else(|| {
            panic!(
                "handler {} must use docker_compose, not a restart command",
                h["name"]
            )
        });
        assert_eq!(dc["state"], "present", "{h}");
        assert_eq!(dc["recreate"], "always", "{h}");
        assert_eq!(
            dc["services"].as_array().map(|s| s.len()),
            Some(1),
            "only one service: {h}"
        );
    }
    // Every handler the config role notifies exists in deploy.
    let names: Vec<&str> = handlers.iter().map(|h| h["name"].as_str().unwrap()).collect();
    for t in flat_tasks(&role_file("config", "tasks/main.yml")) {
        if let Some(n) = t.get("notify").and_then(Value::as_str) {
            assert!(
                names.contains(&n),
                "config notifies '{n}', which no handler defines"
            );
        }
    }
}

#[test]
fn bug9_backup_image_pinned_and_prepulled() {
    let script = read("rendered/backup.sh");
    let defaults: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root().join("playbooks/roles/stack_common/defaults/main.yml")).unwrap(),
    )
    .unwrap();
    let tag = defaults["backup_image_tag"].as_str().unwrap();
    assert!(
        !tag.is_empty() && tag != "latest",
        "backup image tag must be pinned"
    );
    assert!(
        script.contains(&format!("debian:{tag}")),
        "backup uses the pinned image"
    );
    assert!(
        script.contains("--pull never"),
        "a missing image must fail loudly"
    );
    let pulls = flat_tasks(&role_file("deploy", "tasks/main.yml"));
    let pull = pulls
        .iter()
        .find(|t| t.get("docker_image").is_some())
        .expect("deploy pre-pulls images");
    assert!(
        pull["loop"].to_string().contains("backup_image"),
        "the backup image is pre-pulled: {pull}"
    );
}

// ---- seven-bugs-zero-model-problems.md -------------------------------------------------

#[test]
fn seven1_firewall_skips_empty_allowlist_and_names_missing_ipset() {
    let harden = role_file("harden", "tasks/main.yml");
    let fw = harden
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t.get("block").is_some() && t["name"].as_str().unwrap().contains("Firewall"))
        .expect("a firewall block");
    assert!(
        fw["when"]
            .as_str()
            .unwrap()
            .contains("firewall_allowlist | length > 0")
    );
    let inner = flat_tasks(&fw["block"]);
    let first_assert = inner.iter().position(|t| t.get("assert").is_some()).unwrap();
    let first_change = inner
        .iter()
        .position(|t| {
            t.get("template").is_some()
                || t.get("command")
                    .is_some_and(|c| c.to_string().contains("restore"))
        })
        .unwrap();
    assert!(
        first_assert < first_change,
        "the tools are asserted before anything is applied"
    );
    assert!(
        inner[first_assert]["assert"]["fail_msg"]
            .as_str()
            .unwrap()
            .contains("ipset")
    );
    // The rendered rules keep established traffic and SSH and never become a DNS-only chain.
    let rules = read("rendered/firewall.rules");
    assert!(rules.contains("ESTABLISHED,RELATED -j RETURN"));
    assert!(rules.contains("--dport 22 -j RETURN"));
    assert!(rules.contains("--dport 443 -m set --match-set openclaw-allow-1 src -j RETURN"));
    assert!(read("rendered/firewall.ipset").contains("add openclaw-allow-1 203.0.113.0/24"));
    // Published ports bypass INPUT: the allowlisted port is enforced in DOCKER-USER too, by its
    // original (pre-DNAT) destination port, and only new DNAT'ed connections are judged.
    assert!(rules.contains(
        "-A OPENCLAW-DOCKER -p tcp -m conntrack --ctstate DNAT --ctorigdstport 443 -m set \
         --match-set openclaw-allow-1 src -j RETURN"
    ));
    assert!(rules.contains("--ctorigdstport 443 -j DROP"));
    assert!(rules.contains("-I DOCKER-USER 1 -j OPENCLAW-DOCKER"));
    assert!(
        !rules.contains("OPENCLAW-DOCKER -j DROP"),
        "containers' own traffic passes"
    );
    let script = read("rendered/openclaw-firewall.sh");
    assert!(script.contains("dedup DOCKER-USER OPENCLAW-DOCKER"), "{script}");
}

#[test]
fn seven2_golden_config_synced_every_run() {
    // Drift the engine config on a separate render, then render again: it is restored.
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("opt-openclaw");
    render_into(dir.path(), &base);
    let cfg = base.join("openclaw/openclaw.json");
    let golden = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, golden.replace("litellm/default", "ollama/llama3:8b")).unwrap();
    let changed = render_into(dir.path(), &base);
    assert!(changed >= 1, "the drift must be reported as a change");
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), golden);
    // The gateway reads exactly that file (bind mount of its config dir).
    let vols = service("openclaw")["volumes"].to_string();
    assert!(vols.contains("/home/node/.openclaw"), "{vols}");
}

#[test]
fn seven4_read_only_rootfs_has_tmpfs_for_runtime_paths() {
    for (name, svc) in compose()["services"].as_object().unwrap() {
        assert_eq!(svc["read_only"], true, "{name}");
        assert!(
            svc["tmpfs"].to_string().contains("/tmp"),
            "{name} needs a /tmp tmpfs"
        );
    }
    // The gateway logs to /tmp/openclaw and runs as uid 1000: its tmpfs must be writable by it.
    let tmpfs = service("openclaw")["tmpfs"].to_string();
    assert!(tmpfs.contains("/tmp:size=64M,uid=1000,gid=1000"), "{tmpfs}");
}

#[test]
fn seven6_no_project_restart_only_single_service_recreate() {
    for role in [
        "config",
        "harden",
        "ollama",
        "deploy",
        "integrate",
        "maintenance",
        "verify",
    ] {
        for file in ["tasks/main.yml", "handlers/main.yml"] {
            if !root().join("playbooks/roles").join(role).join(file).exists() {
                continue;
            }
            for t in flat_tasks(&role_file(role, file)) {
                let s = t.to_string();
                assert!(
                    !s.contains("compose restart"),
                    "{role}/{file}: {} restarts the project",
                    t["name"]
                );
                if let Some(dc) = t.get("docker_compose") {
                    assert_ne!(dc["state"], "restarted", "{role}/{file}: {}", t["name"]);
                }
            }
        }
    }
}

#[test]
fn every_stack_yaml_file_parses() {
    let mut files = vec![
        root().join("playbooks/site.yml"),
        root().join("inventory/hosts.yml"),
    ];
    files.push(root().join("inventory/lab.yml"));
    files.push(root().join("inventory/group_vars/all.yml"));
    for role in [
        "stack_common",
        "config",
        "harden",
        "ollama",
        "deploy",
        "integrate",
        "maintenance",
        "verify",
    ] {
        for sub in ["tasks", "handlers", "defaults", "vars", "meta"] {
            let p = root()
                .join("playbooks/roles")
                .join(role)
                .join(sub)
                .join("main.yml");
            if p.exists() {
                files.push(p);
            }
        }
    }
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        if let Err(e) = serde_saphyr::from_str::<Value>(&text) {
            panic!("{}: {e}", f.display());
        }
    }
}

#[test]
fn seven7_allowlist_format_is_what_the_proxy_loads() {
    // The stand-in proxy's own loader (same format as Smokescreen's) accepts the ACL.
    let out = run_ok(
        Command::new("python3")
            .arg("-c")
            .arg(
                "import sys, importlib.util as u; s = u.spec_from_file_location('s', sys.argv[1]); \
                 m = u.module_from_spec(s); s.loader.exec_module(m); \
                 a = m.load_acl(sys.argv[2]); print(m.domain_allowed('api.anthropic.com', \
                 a['default']['allowed_domains']), m.domain_allowed('example.com', \
                 a['default']['allowed_domains']))",
            )
            .arg(root().join("images/smokescreen-standin/smokescreen.py"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .arg(rendered().base.join("egress/acl.yaml")),
    );
    assert_eq!(out.trim(), "True False");
}

#[test]
fn ollama_on_the_host_is_reached_through_the_egress_proxy_only() {
    // Default: no trace of Ollama anywhere.
    let plain = compose().to_string();
    assert!(!plain.contains("host.docker.internal"), "{plain}");
    assert!(!plain.contains("--allow-address"), "{plain}");

    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("opt-openclaw");
    // The config role validates the compose file with docker-compose: host-gateway included.
    render_with(
        dir.path(),
        &base,
        serde_json::json!({"openclaw_ollama_enabled": true, "openclaw_ollama_port": 11500}),
    );
    let out = Command::new("docker-compose")
        .arg("-f")
        .arg(base.join("docker-compose.yml"))
        .arg("config")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c: Value = serde_saphyr::from_str(&text(&out.stdout)).unwrap();
    let svc = &c["services"];
    // The gateway and the proxy resolve the name to the host; only the proxy has a route.
    for name in ["openclaw", "egress"] {
        assert_eq!(
            svc[name]["extra_hosts"],
            serde_json::json!(["host.docker.internal:host-gateway"]),
            "{name}"
        );
    }
    let nets: Vec<String> = svc["openclaw"]["networks"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for n in &nets {
        assert_eq!(c["networks"][n]["internal"], true, "gateway network {n}");
    }
    // Smokescreen allows exactly the host-gateway address and Ollama's port.
    let cmd = svc["egress"]["command"].to_string();
    assert!(cmd.contains("--allow-address=172.17.0.1:11500"), "{cmd}");
    assert!(!cmd.contains("--allow-range"), "{cmd}");
    // The name is in the ACL; it is not in NO_PROXY (the gateway must use the proxy).
    let acl: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(base.join("egress/acl.yaml")).unwrap()).unwrap();
    let allowed = acl["default"]["allowed_domains"].to_string();
    assert!(allowed.contains("\"host.docker.internal\""), "{allowed}");
    let no_proxy = svc["openclaw"]["environment"]["NO_PROXY"].to_string();
    assert!(!no_proxy.contains("host.docker.internal"), "{no_proxy}");
    // Both verify checks are there and probe from inside the gateway container.
    let tasks = flat_tasks(&role_file("verify", "tasks/main.yml"));
    let probes: Vec<&Value> = tasks
        .iter()
        .filter(|t| t.to_string().contains("ollama-probe.py"))
        .collect();
    assert_eq!(probes.len(), 2);
    for t in probes {
        let argv = t["command"]["argv"].to_string();
        assert!(
            argv.contains("\"exec\",\"-i\",\"{{ openclaw_container }}\""),
            "{argv}"
        );
        assert_eq!(t["when"], "openclaw_ollama_enabled | bool");
    }
}
