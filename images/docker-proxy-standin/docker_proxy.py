"""Stand-in for tecnativa/docker-socket-proxy, for the lab only: a Docker API on :2375 that
forwards to /var/run/docker.sock only what the environment allows, like the real one:
CONTAINERS=1 allows /containers/..., POST=0 (default) refuses every method but GET/HEAD.
/_ping and /version are always allowed. Refused requests get 403."""

import http.client
import http.server
import os
import re
import socket

SECTIONS = ["CONTAINERS", "IMAGES", "NETWORKS", "VOLUMES", "INFO", "EVENTS", "SERVICES",
            "TASKS", "NODES", "SECRETS", "CONFIGS", "PLUGINS", "SYSTEM", "EXEC", "BUILD"]
ALLOWED = {s.lower() for s in SECTIONS if os.environ.get(s, "0") == "1"} | {"_ping", "version"}
POST = os.environ.get("POST", "0") == "1"


class UnixConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect("/var/run/docker.sock")


class Handler(http.server.BaseHTTPRequestHandler):
    def section(self):
        m = re.match(r"^(?:/v[\d.]+)?/([a-z_]+)", self.path)
        return m.group(1) if m else ""

    def forward(self):
        if self.command not in ("GET", "HEAD") and not POST:
            return self.send_error(403, "read-only proxy: POST=0")
        if self.section() not in ALLOWED:
            return self.send_error(403, f"section {self.section()!r} not allowed")
        body = None
        if "Content-Length" in self.headers:
            body = self.rfile.read(int(self.headers["Content-Length"]))
        conn = UnixConnection("localhost")
        conn.request(self.command, self.path, body=body, headers={"Host": "docker"})
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.getheader("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = forward


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("0.0.0.0", 2375), Handler).serve_forever()
