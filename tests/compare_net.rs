//! Modules that make HTTP requests from the host, against ansible-playbook (ansible-core 2.19)
//! on fresh Debian lab hosts with curl (`--extras`): `get_url` ran through ansible-core's code on
//! the host (the Python path); talon now runs it with the host's curl. Each host serves its own
//! files on 127.0.0.1:8080 (python3's http.server, started before Python is taken away from
//! talon's host), so no request leaves the host.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

/// Fresh hosts with curl, each serving /srv/www on 127.0.0.1:8080; Python removed from talon's
/// host afterwards (the running server keeps its interpreter).
fn compare_with_web_servers() -> Compare {
    let c = Compare::with_lab_flags(&["--extras"]);
    for (host, _) in &c.lab.hosts {
        c.lab.sh_ok(
            host,
            "mkdir -p /srv/www/sub /tmp/g && printf 'hello\\n' > /srv/www/a.txt && printf 'bee\\n' > /srv/www/sub/b.txt \
             && printf 'c150e5a8a604acebd8d15bd7bf8ea96b2874bdcc91dee6319977d353251283b0  b.txt\\nSHA256 (other.txt) = 00ff\\n' > /srv/www/SHA256SUMS \
             && printf 'old\\n' > /tmp/g/old.txt && touch -d '2020-01-01' /srv/www/a.txt /srv/www/sub/b.txt \
             && (setsid python3 -m http.server 8080 --bind 127.0.0.1 --directory /srv/www >/dev/null 2>&1 </dev/null &) \
             && for i in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:8080/a.txt && exit 0; sleep 0.1; done; exit 1",
        );
    }
    c.take_python_from_talons_host();
    c
}

#[test]
fn d12_get_url_is_native_and_matches_ansible() {
    let c = compare_with_web_servers();
    let (t, _) = c.same(&fixture("get_url.yml"), &[]);
    let results = t.line("show results");
    for want in [
        r#""msg":"OK (6 bytes)""#,
        r#""msg":"HTTP Error 304: Not Modified","#,
        r#""msg":"file already exists but file attributes changed""#,
        r#""dest":"/tmp/g/b.txt""#,
        r#""md5sum":"b1946ac92492d2347c6235b4d2611184""#,
    ] {
        assert!(results.contains(want), "{want} in {results}");
    }
    assert_eq!(
        t.line("show a backup was made"),
        "show a backup was made => ok msg=true"
    );
    let failures = t.line("show failures");
    for want in [
        r#""msg":"Request failed","response":"HTTP Error 404: File not found","status_code":404"#,
        r#""msg":"The checksum parameter has to be in format <algorithm>:<checksum>""#,
        r#""msg":"The checksum format is invalid""#,
        r#""msg":"Destination /tmp/nosuch does not exist""#,
        r#""msg":"Unable to find a checksum for file 'a.txt' in 'http://127.0.0.1:8080/SHA256SUMS'""#,
    ] {
        assert!(failures.contains(want), "{want} in {failures}");
    }
    let files = t.line("show files");
    assert!(
        files.contains(r#"["a.txt 640 nobody hello","b.txt 644 root bee","b2.txt 644 root bee","old.txt 644 root hello"]"#),
        "{files}"
    );
    // The checksum mismatch names the temporary file, which differs between the tools.
    assert!(
        t.stdout.contains("did not match 0000000000000000000000000000000000000000; it was f572d396fae9206628714fb2ce00f72e94f2258f."),
        "{}",
        t.stdout
    );
    // Warm: nothing changes (304, equal content, or the checksum the file has).
    let (t, _) = c.same(&fixture("get_url.yml"), &[]);
    assert_eq!(t.recap[0][1], 0, "{:#?}", t.lines);
}
