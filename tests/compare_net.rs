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

/// A small echo server for `uri`: JSON describing the request, redirects, chosen statuses and
/// cookies (python3's http.server, on 127.0.0.1:8081).
const ECHO_SERVER: &str = r#"
import http.server, json
class H(http.server.BaseHTTPRequestHandler):
    def go(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n).decode() if n else ''
        if self.path.startswith('/redirect'):
            self.send_response(302); self.send_header('Location', '/echo?from=redirect'); self.end_headers(); return
        if self.path.startswith('/status/'):
            out = b'status body'
            self.send_response(int(self.path.split('/')[2])); self.send_header('Content-Type', 'text/plain')
            self.send_header('Content-Length', str(len(out))); self.end_headers(); self.wfile.write(out); return
        if self.path.startswith('/cookie'):
            self.send_response(200); self.send_header('Set-Cookie', 'a=1; Path=/'); self.send_header('Set-Cookie', 'b=2')
            self.send_header('Content-Type', 'text/plain'); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok'); return
        out = json.dumps({'method': self.command, 'path': self.path, 'body': body, 'type': self.headers.get('Content-Type'),
                          'agent': self.headers.get('User-Agent'), 'x': self.headers.get('X-Test'),
                          'auth': self.headers.get('Authorization')}).encode()
        self.send_response(200); self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(out))); self.end_headers(); self.wfile.write(out)
    do_GET = do_POST = do_PUT = go
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', 8081), H).serve_forever()
"#;

#[test]
fn d12_uri_is_native_and_matches_ansible() {
    let c = Compare::with_lab_flags(&["--extras"]);
    for (host, container) in &c.lab.hosts {
        let mut child = std::process::Command::new("docker")
            .args(["exec", "-i", container, "sh", "-c", "cat > /srv/echo.py"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ECHO_SERVER.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        c.lab.sh_ok(
            host,
            "(setsid python3 /srv/echo.py >/dev/null 2>&1 </dev/null &) \
             && for i in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:8081/echo && exit 0; sleep 0.1; done; exit 1",
        );
    }
    c.take_python_from_talons_host();
    let (t, _) = c.same(&fixture("uri.yml"), &[]);
    let results = t.line("show results");
    for want in [
        r#""json":{"agent":"ansible-httpget","auth":null,"body":"","method":"GET","path":"/echo","type":null,"x":null}"#,
        r#""body":"{\"a\": 1, \"b\": [\"x\", \"y z\"], \"c\": true}","method":"POST","path":"/echo","type":"application/json","x":"yes""#,
        r#""body":"name=a+b%26c&n=1&n=2""#,
        r#""redirected":true"#,
        r#""location":"http://127.0.0.1:8081/echo?from=redirect""#,
        r#""msg":"Status code was 302 and not [200]: HTTP Error 302: Found""#,
        r#""msg":"Status code was 404 and not [200]: HTTP Error 404: Not Found""#,
        r#""content":"status body""#,
        r#""cookies":{"a":"1","b":"2"},"cookies_string":"a=1; b=2""#,
        r#""auth":"Basic dTpwdy1zZWNyZXQ=""#,
        r#""path":"/tmp/u/echo.json""#,
        r#""stdout":"skipped, since '/tmp/u/echo.json' exists""#,
    ] {
        assert!(results.contains(want), "{want} in {results}");
    }
    assert_eq!(
        t.line("show no answer"),
        r#"show no answer => ok msg=[-1,true,"http://127.0.0.1:9/",false]"#
    );
    assert!(
        t.line("show files").contains(r#""echo.json 600 {"#),
        "{:#?}",
        t.lines
    );
}
