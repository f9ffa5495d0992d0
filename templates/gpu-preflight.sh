# GPU pre-flight for a host-side model server (verify role, tag gpu). POSIX sh, run as
#   sh -s -- CHECK ARGS < gpu-preflight.sh
# Checks (each prints what it found; on failure one line with the reason on stderr, exit 1):
#   present            nvidia-smi answers; prints "no GPU: ..." and exits 0 when it is absent
#   driver MIN         every GPU's driver version >= MIN (compared as versions, sort -V)
#   runtime            `docker info` lists an "nvidia" runtime (GPU containers need it)
#   vram NEED_MB       some GPU has at least NEED_MB MiB free (the model must fit on one GPU,
#                      otherwise Ollama offloads only some layers: "2 of 31 layers on GPU")
# Reads `nvidia-smi --query-gpu=driver_version,memory.total,memory.free,name
# --format=csv,noheader,nounits` (MiB), one line per GPU.
set -u
check=${1:-}
query() {
  nvidia-smi --query-gpu=driver_version,memory.total,memory.free,name --format=csv,noheader,nounits 2>&1
}
fail() { echo "$*" >&2; exit 1; }
case "$check" in
  present)
    command -v nvidia-smi >/dev/null 2>&1 || { echo "no GPU: nvidia-smi not found, the GPU checks are skipped"; exit 0; }
    out=$(query) || fail "nvidia-smi is installed but does not answer: $(printf '%s' "$out" | head -n 1) (driver not loaded? try nvidia-smi by hand)"
    [ -n "$out" ] || fail "nvidia-smi answers but lists no GPU"
    echo "gpu: $out" ;;
  driver)
    min=$2
    out=$(query) || fail "nvidia-smi does not answer: $out"
    printf '%s\n' "$out" | while IFS=, read -r drv _ _ name; do
      drv=$(echo "$drv" | tr -d ' '); name=$(echo "$name" | sed 's/^ *//')
      low=$(printf '%s\n%s\n' "$min" "$drv" | sort -V | head -n 1)
      if [ "$low" != "$min" ]; then
        echo "NVIDIA driver $drv on $name is older than the required $min: upgrade the driver (gpu_driver_min)" >&2; exit 1
      fi
      echo "driver $drv >= $min on $name"
    done ;;
  runtime)
    command -v docker >/dev/null 2>&1 || fail "GPU containers are asked for (openclaw_gpu_containers) but docker is not installed"
    rt=$(docker info --format '{{json .Runtimes}}' 2>&1) || fail "docker info failed: $rt"
    case "$rt" in
      *'"nvidia"'*) echo "docker runtimes: $rt" ;;
      *) fail "Docker has no nvidia runtime (runtimes: $(printf '%s' "$rt" | grep -o '"[a-z0-9.-]*":{' | tr -d '":{' | tr '\n' ' ')): install nvidia-container-toolkit and run nvidia-ctk runtime configure --runtime=docker" ;;
    esac ;;
  vram)
    need=$2
    out=$(query) || fail "nvidia-smi does not answer: $out"
    best=$(printf '%s\n' "$out" | awk -F, '{gsub(/ /, "", $3); if ($3 + 0 > m) { m = $3 + 0 } } END { print m + 0 }')
    [ "$best" -ge "$need" ] || fail "not enough free VRAM: the model needs $need MiB (weights + KV cache + overhead), the best GPU has $best MiB free: Ollama would offload layers to the CPU; free VRAM, lower ollama_context_length/ollama_num_parallel or pick a smaller model"
    echo "free VRAM $best MiB >= needed $need MiB" ;;
  *) fail "unknown check '$check' (present, driver MIN, runtime, vram NEED_MB)" ;;
esac
