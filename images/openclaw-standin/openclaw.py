"""Stand-in for the OpenClaw gateway and its CLI, for the lab only.

Implements the surface the stack's roles rely on, with the real gateway's rules:
  openclaw gateway [--port N] [--bind lan|loopback]
      serves GET /healthz and /readyz (unauthenticated) on 18789; refuses to start unless
      gateway.mode is "local"; auth mode "token" needs OPENCLAW_GATEWAY_TOKEN or
      gateway.auth.token; reads channels.telegram.tokenFile; logs to /tmp/openclaw/.
  openclaw config get|set|unset KEY [VALUE]   (VALUE parsed as JSON, else taken as a string)
  openclaw doctor [--non-interactive] [--deep]
The config is JSON at ~/.openclaw/openclaw.json. Unknown Telegram keys are rejected like the
real strict schema (channels.telegram.token is not a key; botToken and tokenFile are).
"""

import http.server
import json
import os
import sys
import tempfile

CONFIG_DIR = os.path.join(os.environ.get("HOME", "/home/node"), ".openclaw")
CONFIG_FILE = os.path.join(CONFIG_DIR, "openclaw.json")
TELEGRAM_KEYS = {"enabled", "botToken", "tokenFile", "allowFrom", "dmPolicy", "groups"}
LOG_DIR = "/tmp/openclaw"


class ConfigError(Exception):
    pass


def load():
    try:
        with open(CONFIG_FILE, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as e:
        raise ConfigError(f"{CONFIG_FILE}: not valid JSON: {e}") from e


def check(cfg):
    """Schema problems of a config, as messages."""
    problems = []
    tg = cfg.get("channels", {}).get("telegram")
    if isinstance(tg, dict):
        for key in sorted(set(tg) - TELEGRAM_KEYS):
            problems.append(f"channels.telegram.{key}: unknown key")
    return problems


def save(cfg):
    problems = check(cfg)
    if problems:
        raise ConfigError("; ".join(problems))
    os.makedirs(CONFIG_DIR, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=CONFIG_DIR, prefix=".openclaw.json.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    os.replace(tmp, CONFIG_FILE)


def get_path(cfg, key):
    node = cfg
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def set_path(cfg, key, value):
    parts = key.split(".")
    node = cfg
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{key}: {part} is not an object")
    node[parts[-1]] = value


def unset_path(cfg, key):
    parts = key.split(".")
    node = get_path(cfg, ".".join(parts[:-1])) if len(parts) > 1 else cfg
    if not isinstance(node, dict) or parts[-1] not in node:
        raise KeyError(key)
    del node[parts[-1]]


def telegram_token(cfg):
    """(enabled, token or None, problem or None)."""
    tg = cfg.get("channels", {}).get("telegram", {})
    if not tg.get("enabled"):
        return False, None, None
    if tg.get("tokenFile"):
        try:
            with open(tg["tokenFile"], encoding="utf-8") as f:
                token = f.read().strip()
        except OSError as e:
            return True, None, f"channels.telegram.tokenFile: {e.strerror}: {tg['tokenFile']}"
        return True, token or None, None if token else "channels.telegram.tokenFile is empty"
    if tg.get("botToken"):
        return True, tg["botToken"], None
    return True, None, "telegram enabled without botToken or tokenFile"


def cmd_config(args):
    if len(args) < 2 or args[0] not in ("get", "set", "unset"):
        print("usage: openclaw config get|set|unset KEY [VALUE]", file=sys.stderr)
        return 2
    op, key = args[0], args[1]
    try:
        cfg = load()
        if op == "get":
            print(json.dumps(get_path(cfg, key)))
            return 0
        if op == "set":
            if len(args) != 3:
                print("usage: openclaw config set KEY VALUE", file=sys.stderr)
                return 2
            try:
                value = json.loads(args[2])
            except json.JSONDecodeError:
                value = args[2]
            set_path(cfg, key, value)
        else:
            unset_path(cfg, key)
        save(cfg)
        print(f"{op} {key}")
        return 0
    except KeyError:
        print(f"{key}: not set", file=sys.stderr)
        return 1
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        return 1


def cmd_doctor(_args):
    try:
        cfg = load()
    except ConfigError as e:
        print(f"FAIL config: {e}")
        return 1
    problems = check(cfg)
    if cfg.get("gateway", {}).get("mode") != "local":
        problems.append("gateway.mode must be local")
    _, _, tg_problem = telegram_token(cfg)
    if tg_problem:
        problems.append(tg_problem)
    for p in problems:
        print(f"FAIL {p}")
    if not problems:
        print("OK config valid")
    return 1 if problems else 0


def cmd_gateway(args):
    cfg = load()
    problems = check(cfg)
    gw = cfg.get("gateway", {})
    if gw.get("mode") != "local":
        problems.append("gateway.mode is not 'local': refusing to start (set gateway.mode local)")
    auth = gw.get("auth", {})
    token = os.environ.get("OPENCLAW_GATEWAY_TOKEN") or auth.get("token")
    if auth.get("mode", "token") == "token" and not token:
        problems.append("gateway.auth.mode token needs OPENCLAW_GATEWAY_TOKEN or gateway.auth.token")
    if problems:
        for p in problems:
            print(f"openclaw: {p}", file=sys.stderr)
        return 1
    port = int(os.environ.get("OPENCLAW_GATEWAY_PORT") or gw.get("port") or 18789)
    bind = gw.get("bind", "loopback")
    if "--port" in args:
        port = int(args[args.index("--port") + 1])
    if "--bind" in args:
        bind = args[args.index("--bind") + 1]
    host = "0.0.0.0" if bind == "lan" else "127.0.0.1"
    os.makedirs(LOG_DIR, exist_ok=True)
    log = open(os.path.join(LOG_DIR, "openclaw.log"), "a", encoding="utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, code, body):
            data = (json.dumps(body) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/healthz":
                return self.reply(200, {"ok": True})
            if self.path == "/readyz":
                enabled, _, problem = telegram_token(load())
                if problem:
                    return self.reply(503, {"ready": False, "reason": problem})
                return self.reply(200, {"ready": True, "telegram": enabled})
            if self.headers.get("Authorization") != f"Bearer {token}":
                return self.reply(401, {"error": "unauthorized"})
            return self.reply(200, {"gateway": "openclaw-standin"})

        def log_message(self, fmt, *a):
            log.write("%s %s\n" % (self.address_string(), fmt % a))
            log.flush()

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    print(f"openclaw gateway listening on {host}:{port}", flush=True)
    server.serve_forever()
    return 0


def main(argv):
    if not argv:
        print("usage: openclaw gateway|config|doctor ...", file=sys.stderr)
        return 2
    commands = {"gateway": cmd_gateway, "config": cmd_config, "doctor": cmd_doctor}
    if argv[0] not in commands:
        print(f"openclaw: unknown command {argv[0]}", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
