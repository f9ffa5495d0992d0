# Checks the configured Ollama model from inside the gateway container, the way the gateway
# reaches it: plain HTTP through the egress proxy (urllib honours the container's HTTP_PROXY
# and NO_PROXY, as the gateway's own client does).
# Run: docker exec -i GATEWAY python3 - installed|tools URL MODEL   (script on stdin)
#   installed: GET URL/api/tags lists MODEL ("name" or "name:latest")
#   tools:     POST URL/api/show {"model": MODEL} has "tools" in its capabilities
# Prints what it found; on failure one line naming the model and what is missing, exit 1.
import json
import sys
import urllib.error
import urllib.request

check, url, model = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]


def fail(reason):
    print(reason, file=sys.stderr)
    sys.exit(1)


def call(path, body=None):
    req = urllib.request.Request(url + path)
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    what = f"{'POST' if body is not None else 'GET'} {url}{path}"
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        denied = e.headers.get("X-Smokescreen-Error")
        if denied:
            fail(f"{what}: the egress proxy refused ({e.code}): {denied}")
        if e.code == 404 and path == "/api/show":
            return None
        fail(f"{what}: HTTP {e.code}: {e.read(300).decode(errors='replace').strip()}")
    except (urllib.error.URLError, OSError) as e:
        fail(f"{what}: Ollama not reachable: {getattr(e, 'reason', e)}")
    except ValueError as e:
        fail(f"{what}: not JSON: {e}")


def names():
    return sorted(m.get("name", "?") for m in (call("/api/tags") or {}).get("models", []))


wanted = {model, model + ":latest"} if ":" not in model else {model}
if check == "installed":
    installed = names()
    if not wanted & set(installed):
        fail(f"model {model} not installed (installed: {', '.join(installed) or 'none'})")
    print(f"model {model} installed")
elif check == "tools":
    shown = call("/api/show", {"model": model})
    if shown is None:
        fail(f"model {model} not installed (installed: {', '.join(names()) or 'none'})")
    caps = shown.get("capabilities") or []
    if "tools" not in caps:
        fail(f"model {model} lacks tools capability (capabilities: {', '.join(caps) or 'none reported'})")
    print(f"model {model} capabilities: {', '.join(caps)}")
else:
    fail(f"unknown check {check!r}: use installed or tools")
