"""Stand-in for an Ollama server, for the lab only (standard library only).

Listens on OLLAMA_HOST ("host:port", default 127.0.0.1:11434, like Ollama) and serves:
  GET  /api/version           {"version": "0.0.0-standin"}
  GET  /api/tags              {"models": [{"name", "model", "size", "details"}, ...]}
  POST /api/show {"model": M} {"capabilities": [...], "details": {...}, "model_info": {}}
                              404 {"error": "model 'M' not found"} when M is not installed
Installed models come from OLLAMA_STANDIN_MODELS: "NAME=CAP,CAP;NAME=CAP", e.g.
"qwen2.5:7b=completion,tools;llama3.2:3b=completion", or from the JSON file named by
OLLAMA_STANDIN_MODELS_FILE ({"NAME": ["CAP", ...]}). A name without a tag gets ":latest",
as Ollama names models; /api/show accepts either spelling.
"""

import http.server
import json
import os
import sys


def load_models():
    """Installed models: name -> list of capabilities."""
    path = os.environ.get("OLLAMA_STANDIN_MODELS_FILE")
    if path:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        if not isinstance(raw, dict):
            raise SystemExit(f"{path}: expected an object NAME -> [CAPABILITY, ...]")
        pairs = [(str(k), [str(c) for c in v]) for k, v in raw.items()]
    else:
        spec = os.environ.get("OLLAMA_STANDIN_MODELS", "qwen2.5:7b=completion,tools")
        pairs = []
        for entry in filter(None, (e.strip() for e in spec.split(";"))):
            name, _, caps = entry.partition("=")
            pairs.append((name.strip(), [c.strip() for c in caps.split(",") if c.strip()]))
    return {full_name(n): caps for n, caps in pairs}


def full_name(name):
    return name if ":" in name else f"{name}:latest"


def main():
    models = load_models()
    host, _, port = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434").rpartition(":")
    host = host.strip("[]") or "127.0.0.1"

    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/api/version":
                return self.reply(200, {"version": "0.0.0-standin"})
            if self.path == "/api/tags":
                return self.reply(200, {"models": [
                    {"name": n, "model": n, "size": 0,
                     "details": {"format": "gguf", "family": n.split(":")[0]}}
                    for n in sorted(models)]})
            if self.path == "/":
                return self.reply(200, "Ollama is running")
            return self.reply(404, {"error": "not found"})

        def do_POST(self):
            if self.path != "/api/show":
                return self.reply(404, {"error": "not found"})
            try:
                length = int(self.headers.get("Content-Length") or 0)
                req = json.loads(self.rfile.read(length) or b"{}")
                name = req.get("model") or req.get("name") or ""
            except (ValueError, AttributeError):
                return self.reply(400, {"error": "invalid JSON body"})
            if not name:
                return self.reply(400, {"error": "model is required"})
            caps = models.get(full_name(name))
            if caps is None:
                return self.reply(404, {"error": f"model '{name}' not found"})
            return self.reply(200, {"capabilities": caps, "model_info": {},
                                    "details": {"format": "gguf", "family": name.split(":")[0]}})

        def log_message(self, fmt, *a):
            print("%s %s" % (self.address_string(), fmt % a), file=sys.stderr, flush=True)

    server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    print(f"ollama stand-in listening on {host}:{port} with {sorted(models)}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
