//! Unit tests of `facts_sftp`: the script's lines made from files and program output.
use super::*;

#[test]
fn os_release_values_as_the_shell_reads_them() {
    let t = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\nVERSION_CODENAME=bookworm\nID_LIKE='a b'\n";
    assert_eq!(
        os_release(t),
        "os_ID=debian\nos_VERSION_ID=12\nos_VERSION_CODENAME=bookworm\nos_ID_LIKE=a b\n"
    );
    assert_eq!(shell_word(r#""x\"y\$z""#), "x\"y$z");
}

#[test]
fn proc_files_read_as_the_script_reads_them() {
    assert_eq!(online_cpus("0-3,5"), 5);
    assert_eq!(online_cpus(""), 0);
    assert_eq!(
        route("Iface\tDestination\tGateway\neth0\t00000000\t010011AC\t0003\n"),
        "ipv4_dev=eth0\nipv4_gw=172.17.0.1\n"
    );
    let m =
        mount_lines("overlay / overlay rw 0 0\n/dev/sda1 /etc/my\\040h ext4 rw 0 0\nnone /x none rw 0 0\n");
    assert_eq!(
        m,
        vec![(
            "mnt=/dev/sda1 /etc/my\\040h ext4 rw 0 0\n".into(),
            "/etc/my\\040h".into()
        )]
    );
    assert_eq!(lines("a\nb"), vec!["a"]);
    assert_eq!(read_line("x"), None);
    assert_eq!(read_r("  6.1 \nmore"), "6.1");
    let pw = "# c\nroot:x:0:0:root:/root:/bin/bash\nme:x:1000:100::/home/me:/bin/sh\n";
    let st = Some("Name:\tx\nUid:\t1000\t1000\t1000\t1000\n");
    assert_eq!(
        passwd_entry(st, Some("passwd: files systemd\n"), Some(pw)).as_deref(),
        Some("me:x:1000:100::/home/me:/bin/sh")
    );
    assert_eq!(passwd_entry(st, Some("passwd: sss files\n"), Some(pw)), None);
    assert_eq!(passwd_entry(st, None, Some(pw)), None);
    assert_eq!(
        passwd_entry(
            st,
            Some("passwd: files\n"),
            Some("root:x:0:0:root:/root:/bin/bash\n")
        ),
        None
    );
}

#[test]
fn one_date_process_gives_zones_and_now() {
    let s = "dtf=2000|01|Saturday|6|00|01|00|00|00|946684800|000000000|CET|+0100\ndtf=2000|07|Saturday|6|26|01|00|00|00|946684800|000000000|CEST|+0200\ndtf=2026|12|Monday|1|49|07|15|00|00|1796653200|123456789|CET|+0100\nlsbnone=1\nfqdn=h\n";
    assert_eq!(
        shell_lines(s, "talon-x", Some("DISTRIB_ID=Ubuntu\n")),
        "tzs=CET +0100\ntzs=CEST +0200\nnow=2026|12|Monday|1|49|07|15|00|00|1796653200|123456789|CET|+0100\nlsbfile.DISTRIB_ID=Ubuntu\nfqdn=h\n"
    );
}

/// What the script's loops print for the same program output, made on the controller.
#[test]
fn sections_give_the_lines_the_script_loops_give() {
    let t = "talon-ab12";
    let s = format!(
        "python=/usr/bin/python3\n{t} pyV\nPython  3.11.2\n\n{t} end\nuser=root\n\
         {t} env\nHOME=/root\nML=a\nb\n\n{t} end\n\
         {t} ip\n1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n2: eth0 inet\n\n{t} end\n\
         {t} findmnt\n/etc/hosts /dev/sda1[/var/lib/x/hosts] ext4 rw\n/ overlay overlay rw\n/x /dev/sdb]\n\n{t} end\n\
         {t} lsblk\n /dev/sda1   ab-12 cd  \n/dev/sda2\n/dev/sdb1 u\n{t} end\nlast=1\n"
    );
    assert_eq!(
        shell_lines(&s, t, None),
        "python=/usr/bin/python3\npyV=Python 3.11.2 \nuser=root\n\
         env.HOME=/root\nenv.ML=a\nenv.b\n\
         inet=lo 127.0.0.1\ninet=eth0 \n\
         mntbind=/etc/hosts\nmntbind=/x\n\
         mntuuid=/dev/sda1 ab-12 cd\nlast=1\n"
    );
    assert_eq!(section_lines("pyV", ""), "pyV= \n");
    // A program that prints nothing, and a section cut short.
    assert_eq!(
        shell_lines(&format!("{t} env\n\n{t} end\nx=1\n{t} env\nA=1\n"), t, None),
        "x=1\nenv.A=1\n"
    );
}

#[test]
fn fqdn_from_the_first_hosts_line_naming_the_host() {
    let ns = Some("passwd: files\nhosts:          files dns\n");
    let hosts = "127.0.0.1\tlocalhost\n# 10.0.0.1 lab1\n::1 localhost ip6-localhost\n\
                 172.17.0.2\tlab1.example.org LAB1 # docker\n10.0.0.9 other lab1\n";
    assert_eq!(
        fqdn_from_files("lab1", ns, Some(hosts)).as_deref(),
        Some("lab1.example.org")
    );
    assert_eq!(
        fqdn_from_files("other", ns, Some(hosts)).as_deref(),
        Some("other")
    );
    // Another source first, an action after files, no line, an address glibc may read
    // otherwise: hostname -f runs.
    assert_eq!(
        fqdn_from_files("lab1", Some("hosts: dns files\n"), Some(hosts)),
        None
    );
    assert_eq!(
        fqdn_from_files("lab1", Some("hosts: files [NOTFOUND=return] dns\n"), Some(hosts)),
        None
    );
    assert_eq!(fqdn_from_files("lab2", ns, Some(hosts)), None);
    assert_eq!(
        fqdn_from_files("lab1", ns, Some("fe80::1%eth0 lab1.x lab1\n")),
        None
    );
    assert_eq!(fqdn_from_files("lab1", None, Some(hosts)), None);
    assert_eq!(fqdn_from_files("", ns, Some(hosts)), None);
}
