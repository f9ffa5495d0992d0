"""Stand-in for Stripe's Smokescreen egress proxy, for the lab only.

Same flags and file formats the stack uses:
  --listen-ip IP --listen-port N --config-file YAML --egress-acl-file YAML --deny-range CIDR...
  --allow-range CIDR... --allow-address IP[:PORT]...  (allowed even inside the denied ranges)
Config YAML: allow_missing_role (without it, a client with no TLS client certificate has no
role and is denied, as in Smokescreen). ACL YAML: version v1, services: [] (required), default:
{name, project, action: enforce|report|open, allowed_domains: [...]} with globs only as a
leading "*.". HTTP CONNECT to an allowed domain tunnels, and a plain-HTTP proxy request
(absolute-form "GET http://host:port/path", body by Content-Length) is forwarded; anything else
gets 403. Private and loopback addresses are denied, like Smokescreen's default deny ranges,
unless an --allow-range/--allow-address covers them (port-matched when one is given).
"""

import argparse
import ipaddress
import select
import socket
import socketserver
import sys
import urllib.parse

import yaml

PRIVATE = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
    "100.64.0.0/10", "0.0.0.0/8", "::1/128", "fc00::/7", "fe80::/10")]


REASONS = {400: "Bad Request", 403: "Forbidden"}


def load_acl(path):
    with open(path, encoding="utf-8") as f:
        acl = yaml.safe_load(f)
    if not isinstance(acl, dict) or acl.get("version") != "v1":
        raise SystemExit(f"{path}: ACL must have version: v1")
    if "services" not in acl or not isinstance(acl["services"], list):
        raise SystemExit(f"{path}: ACL must have a services list (may be empty)")
    default = acl.get("default")
    if default is not None:
        if default.get("action") not in ("enforce", "report", "open"):
            raise SystemExit(f"{path}: default.action must be enforce, report or open")
        for d in default.get("allowed_domains", []):
            if "*" in d and not (d.startswith("*.") and "*" not in d[2:]):
                raise SystemExit(f"{path}: bad glob {d!r}: only a leading '*.' is allowed")
    return acl


def domain_allowed(host, domains):
    host = host.lower().rstrip(".")
    for d in domains:
        d = d.lower()
        if d.startswith("*."):
            if host.endswith(d[1:]):
                return True
        elif host == d:
            return True
    return False


def main():
    p = argparse.ArgumentParser(prog="smokescreen")
    p.add_argument("--listen-ip", default="127.0.0.1")
    p.add_argument("--listen-port", type=int, default=4750)
    p.add_argument("--config-file")
    p.add_argument("--egress-acl-file")
    p.add_argument("--deny-range", action="append", default=[])
    p.add_argument("--allow-range", action="append", default=[])
    p.add_argument("--allow-address", action="append", default=[])
    args = p.parse_args()

    config = {}
    if args.config_file:
        with open(args.config_file, encoding="utf-8") as f:
            config = yaml.safe_load(f) or {}
    allow_missing_role = bool(config.get("allow_missing_role", False))
    acl = load_acl(args.egress_acl_file) if args.egress_acl_file else None
    deny = PRIVATE + [ipaddress.ip_network(c) for c in args.deny_range]
    # (network, port or None): Smokescreen's allow list wins over every deny range.
    allow = [(ipaddress.ip_network(c), None) for c in args.allow_range]
    for a in args.allow_address:
        ip, _, port = a.rpartition(":") if a.count(":") == 1 else (a, "", "")
        allow.append((ipaddress.ip_network(ip), int(port) if port else None))

    def acl_denies(host):
        """The reason the ACL denies a host (checked before any DNS lookup), or None."""
        if acl is None:
            return None
        # Plain-HTTP clients carry no TLS client certificate: no role.
        if not allow_missing_role:
            return "no role for a client without a TLS client certificate"
        rule = acl.get("default")
        if rule is None:
            return "no default ACL rule"
        if rule["action"] == "enforce" and not domain_allowed(host, rule.get("allowed_domains", [])):
            return f"{host} is not in the allowed domains"
        return None

    def range_denies(host, addr, port):
        ip = ipaddress.ip_address(addr)
        if any(ip in n and p in (None, port) for n, p in allow):
            return None
        if any(ip in n for n in deny):
            return f"{host} resolves to a denied range ({ip})"
        return None

    class Handler(socketserver.StreamRequestHandler):
        def deny(self, code, reason):
            body = f"{reason}\n".encode()
            self.wfile.write(
                f"HTTP/1.1 {code} {REASONS.get(code, 'Bad Gateway')}\r\nContent-Length: {len(body)}\r\n"
                f"X-Smokescreen-Error: {reason}\r\nConnection: close\r\n\r\n".encode() + body)
            print(f"deny {code}: {reason}", file=sys.stderr, flush=True)

        def open_upstream(self, host, port):
            """A connection to host:port if the ACL and the ranges allow it (else None, denied)."""
            reason = acl_denies(host)
            if reason:
                return self.deny(403, reason)
            try:
                addr = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)[0][4][0]
            except (OSError, ValueError):
                return self.deny(502, f"cannot resolve {host}")
            reason = range_denies(host, addr, port)
            if reason:
                return self.deny(403, reason)
            try:
                return socket.create_connection((addr, port), timeout=15)
            except OSError as e:
                return self.deny(502, f"connect {host}:{port} failed: {e.strerror}")

        def forward_http(self, method, url, version, headers):
            """A plain-HTTP proxy request: sent on in origin form, the answer relayed back."""
            u = urllib.parse.urlsplit(url)
            if not u.hostname:
                return self.deny(400, f"bad request target {url}")
            upstream = self.open_upstream(u.hostname, u.port or 80)
            if upstream is None:
                return
            target = (u.path or "/") + (f"?{u.query}" if u.query else "")
            keep = [h for h in headers if not h.lower().startswith(
                (b"proxy-", b"connection:", b"keep-alive:"))]
            length = 0
            for h in keep:
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":", 1)[1].strip() or 0)
            body = self.rfile.read(length) if length else b""
            with upstream:
                upstream.sendall(f"{method} {target} {version}\r\n".encode("latin-1")
                                 + b"".join(keep) + b"Connection: close\r\n\r\n" + body)
                upstream.settimeout(300)
                while data := upstream.recv(65536):
                    self.wfile.write(data)
            print(f"allow {u.hostname}:{u.port or 80} (http)", file=sys.stderr, flush=True)

        def handle(self):
            line = self.rfile.readline(8192).decode("latin-1").strip()
            headers = []
            while (h := self.rfile.readline(8192)) not in (b"\r\n", b"\n", b""):
                headers.append(h)
            parts = line.split()
            if len(parts) == 3 and parts[1].startswith("http://"):
                return self.forward_http(parts[0], parts[1], parts[2], headers)
            if len(parts) != 3 or parts[0] != "CONNECT":
                body = b"this proxy accepts CONNECT and absolute http:// requests only\n"
                self.wfile.write(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(body), body))
                return
            host, _, port = parts[1].rpartition(":")
            upstream = self.open_upstream(host.strip("[]"), int(port))
            if upstream is None:
                return
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            print(f"allow {host}:{port}", file=sys.stderr, flush=True)
            pair = {self.connection: upstream, upstream: self.connection}
            with upstream:
                while True:
                    ready, _, _ = select.select(list(pair), [], [], 300)
                    if not ready:
                        return
                    for s in ready:
                        data = s.recv(65536)
                        if not data:
                            return
                        pair[s].sendall(data)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server((args.listen_ip, args.listen_port), Handler) as srv:
        print(f"smokescreen stand-in listening on {args.listen_ip}:{args.listen_port}", flush=True)
        srv.serve_forever()


if __name__ == "__main__":
    main()
