# Lists LiteLLM deployments whose rate limits are not active, from the live /model/info.
# Run inside the litellm container: python3 - PORT  (script on stdin). The master key is read
# from the container's own environment, never passed as an argument.
import json
import os
import sys
import urllib.request

port = sys.argv[1]
req = urllib.request.Request(
    f"http://127.0.0.1:{port}/model/info",
    headers={"Authorization": "Bearer " + os.environ["LITELLM_MASTER_KEY"]},
)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
data = json.load(opener.open(req, timeout=15))["data"]
missing = [d["model_name"] for d in data if not d.get("litellm_params", {}).get("rpm")]
print(json.dumps({"deployments": len(data), "without_rpm": missing}))
sys.exit(1 if missing or not data else 0)
