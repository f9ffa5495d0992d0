#![allow(clippy::unwrap_used)]

use super::*;

fn sample() -> LabInfo {
    let dir = PathBuf::from("/tmp/my lab");
    LabInfo {
        inventory: dir.join(INVENTORY_FILE),
        known_hosts: dir.join(KNOWN_HOSTS_FILE),
        ssh_config: dir.join(SSH_CONFIG_FILE),
        key: dir.join(KEY_FILE),
        hosts: vec![
            LabHost {
                name: "lab1".into(),
                port: 40001,
                container: "talon-lab-x-1".into(),
            },
            LabHost {
                name: "lab2".into(),
                port: 40002,
                container: "talon-lab-x-2".into(),
            },
        ],
        dir,
        docker: false,
        systemd: false,
        net_admin: false,
    }
}

#[test]
fn inventory_is_ansible_yaml_with_group_lab() {
    let text = render_inventory(&sample());
    let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let lab = &value["all"]["children"]["lab"];
    assert_eq!(lab["hosts"]["lab2"]["ansible_port"], 40002);
    assert_eq!(lab["hosts"]["lab1"]["ansible_host"], "127.0.0.1");
    assert_eq!(lab["vars"]["ansible_user"], "root");
    assert_eq!(
        lab["vars"]["ansible_ssh_private_key_file"],
        "/tmp/my lab/id_ed25519"
    );
    assert_eq!(
        lab["vars"]["ansible_ssh_common_args"],
        "-o UserKnownHostsFile='/tmp/my lab/known_hosts' -o StrictHostKeyChecking=yes"
    );
    assert_eq!(lab["vars"]["ansible_python_interpreter"], "/usr/bin/python3");
    assert!(text.contains("deploy-lab-pass"));
}

#[test]
fn inventory_gives_each_host_an_index_and_a_port_block() {
    let value: serde_json::Value = serde_saphyr::from_str(&render_inventory(&sample())).unwrap();
    let hosts = &value["all"]["children"]["lab"]["hosts"];
    assert_eq!(hosts["lab1"]["lab_index"], 1);
    assert_eq!(hosts["lab1"]["lab_port_base"], 20100);
    assert_eq!(hosts["lab2"]["lab_index"], 2);
    assert_eq!(hosts["lab2"]["lab_port_base"], 20200);
}

fn plan<'a>(docker_socket: Option<&'a Path>, systemd: bool) -> HostPlan<'a> {
    plan_with(docker_socket, systemd, false)
}

fn plan_with<'a>(docker_socket: Option<&'a Path>, systemd: bool, net_admin: bool) -> HostPlan<'a> {
    HostPlan {
        name: "lab1".into(),
        container: "talon-lab-x-1".into(),
        image: "img",
        label: "talon.lab=/tmp/x",
        client_pub: "ssh-ed25519 AAAA",
        key_dir: Path::new("/tmp"),
        docker_socket,
        shared_dir: None,
        systemd,
        net_admin,
    }
}

#[test]
fn create_args_per_mode() {
    let plain = create_args(&plan(None, false));
    assert!(plain.contains(&"--init".to_string()), "{plain:?}");
    assert!(
        !plain
            .iter()
            .any(|a| a.contains("systemd") || a.contains("docker.sock"))
    );
    assert_eq!(plain.last().map(String::as_str), Some("img"));

    let sock = Path::new("/run/docker.sock");
    let both = create_args(&plan(Some(sock), true)).join(" ");
    assert!(!both.contains("--init"), "systemd is PID 1: {both}");
    assert!(both.contains("--tmpfs /run --tmpfs /run/lock"), "{both}");
    assert!(both.contains("-v /sys/fs/cgroup:/sys/fs/cgroup:ro"), "{both}");
    assert!(both.contains("--entrypoint /lib/systemd/systemd"), "{both}");
    assert!(
        both.contains("-v /run/docker.sock:/var/run/docker.sock"),
        "{both}"
    );
    assert!(!both.contains("--privileged"), "{both}");
    assert!(!both.contains("--cap-add"), "{both}");
    assert!(both.ends_with(" img"), "{both}");

    let net = create_args(&plan_with(None, false, true));
    let caps: Vec<&String> = net.iter().filter(|a| a.starts_with("--cap-add")).collect();
    assert_eq!(caps, ["--cap-add=NET_ADMIN"], "only NET_ADMIN: {net:?}");
}

#[test]
fn display_lists_hosts_and_files() {
    let text = sample().to_string();
    assert!(
        text.starts_with("lab1   127.0.0.1:40001  talon-lab-x-1\n"),
        "{text}"
    );
    assert!(text.contains("ssh -F /tmp/my lab/ssh_config lab1"), "{text}");
}

#[test]
fn known_hosts_lines_use_bracketed_port() {
    let info = sample();
    let keys = vec!["ssh-ed25519 AAAA1".to_string(), "ssh-ed25519 AAAA2".to_string()];
    assert_eq!(
        render_known_hosts(&info.hosts, &keys),
        "[127.0.0.1]:40001 ssh-ed25519 AAAA1\n[127.0.0.1]:40002 ssh-ed25519 AAAA2\n"
    );
}

#[test]
fn ssh_config_has_one_block_per_host() {
    let text = render_ssh_config(&sample());
    assert_eq!(text.matches("\nHost lab").count(), 2);
    assert!(text.contains("Port 40002"));
    assert!(text.contains("UserKnownHostsFile \"/tmp/my lab/known_hosts\""));
}

#[test]
fn parse_port_reads_docker_port_output() {
    assert_eq!(parse_port("127.0.0.1:49153\n"), Some(49153));
    assert_eq!(parse_port("0.0.0.0:1\n[::]:1\n"), Some(1));
    assert_eq!(parse_port(""), None);
    assert_eq!(parse_port("garbage"), None);
}

#[test]
fn lab_id_is_stable_and_short() {
    let a = lab_id(Path::new("/tmp/a"));
    assert_eq!(a, lab_id(Path::new("/tmp/a")));
    assert_ne!(a, lab_id(Path::new("/tmp/b")));
    assert_eq!(a.len(), 8);
}

#[test]
fn tar_archive_is_readable_by_tar() {
    let archive = tar_archive(&[
        TarEntry::file("root/.ssh/authorized_keys", 0o600, 0, b"key\n"),
        TarEntry::file("home/deploy/x", 0o640, 1000, &[7u8; 700]),
    ]);
    assert_eq!(archive.len() % 512, 0);
    let dir = tempfile::tempdir().unwrap();
    let listed = run_tool("tar", &["-tvf", "-"], Some(&archive), &[]).unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(listing.contains("-rw------- 0/0"), "{listing}");
    assert!(listing.contains("-rw-r----- 1000/1000"), "{listing}");
    let path = dir.path().to_string_lossy().into_owned();
    let extracted = run_tool("tar", &["-xf", "-", "-C", &path], Some(&archive), &[]).unwrap();
    assert!(extracted.status.success());
    assert_eq!(
        fs::read(dir.path().join("root/.ssh/authorized_keys")).unwrap(),
        b"key\n"
    );
    assert_eq!(
        fs::read(dir.path().join("home/deploy/x")).unwrap(),
        vec![7u8; 700]
    );
}

#[test]
fn check_ours_refuses_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    assert!(check_ours(dir.path()).is_ok());
    fs::write(dir.path().join(INVENTORY_FILE), "all: {}\n").unwrap();
    assert!(matches!(check_ours(dir.path()), Err(LabError::ForeignDir { .. })));
    fs::write(dir.path().join(MARKER), MARKER_TEXT).unwrap();
    assert!(check_ours(dir.path()).is_ok());
}

#[test]
fn parallel_map_keeps_order() {
    let items: Vec<usize> = (0..37).collect();
    assert_eq!(
        parallel_map(&items, 5, |i| i * 2),
        items.iter().map(|i| i * 2).collect::<Vec<_>>()
    );
    assert!(parallel_map(&[] as &[usize], 5, |i| *i).is_empty());
}
