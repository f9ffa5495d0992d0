# shellcheck shell=sh
# GPU pre-flight for a host-side model server (verify role, tag gpu). POSIX sh, run as
#   sh -s -- CHECK ARGS < gpu-preflight.sh
# Checks (each prints what it found; on failure one line with the reason on stderr, exit 1):
#   present            nvidia-smi answers; prints "no GPU: ..." and exits 0 when it is absent
#   driver MIN         the NVIDIA driver version >= MIN (compared as versions, sort -V)
#   runtime            `docker info` lists an "nvidia" runtime (GPU containers need it)
#   vram NEED_MB       some GPU has at least NEED_MB MiB free (the model must fit on one GPU,
#                      otherwise Ollama offloads only some layers: "2 of 31 layers on GPU")
# Reads what `nvidia-smi` prints by default (the table people paste into bug reports; the
# recordings in tests/fixtures/gpu/ are real ones): the driver from the header's "Driver
# Version:" (drivers from 2026 print "KMD Version:"), and per GPU its name and
# "USEDMiB / TOTALMiB" (free = total - used). Drivers from 331 to 610 print this layout.
set -u
check=${1:-}
fail() { echo "$*" >&2; exit 1; }
# nvidia-smi's table as "driver,total_mib,free_mib,name" lines, one per GPU.
gpus() {
  printf '%s\n' "$1" | awk '
    /NVIDIA-SMI/ && match($0, /(Driver|KMD) Version: *[0-9][0-9.]*/) {
      s = substr($0, RSTART, RLENGTH); sub(/.*: */, "", s); drv = s
    }
    /^\| +[0-9]+ +[^ |]/ {
      split($0, cell, "|"); name = cell[2]
      sub(/^ *[0-9]+ +/, "", name); sub(/ +$/, "", name)
      n = split(name, w, " ")
      if (n > 1) { name = w[1]; for (i = 2; i < n; i++) name = name " " w[i] }
    }
    match($0, /[0-9]+MiB *\/ *[0-9]+MiB/) {
      m = substr($0, RSTART, RLENGTH); gsub(/MiB/, "", m); split(m, u, "/")
      print drv "," u[2] + 0 "," (u[2] - u[1]) "," name
    }'
}
# Runs nvidia-smi; sets $table (its lines) or fails with why.
read_gpus() {
  out=$(nvidia-smi 2>&1) || fail "nvidia-smi is installed but does not answer: $(printf '%s' "$out" | head -n 1) (driver not loaded, or driver and library versions differ: run nvidia-smi by hand, reboot after a driver upgrade)"
  table=$(gpus "$out")
  [ -n "$table" ] || fail "nvidia-smi answers but its table lists no GPU (first line: $(printf '%s' "$out" | head -n 1))"
  case "$table" in ,*) fail "nvidia-smi's table has no driver version (first line: $(printf '%s' "$out" | head -n 1))" ;; esac
}
case "$check" in
  present)
    command -v nvidia-smi >/dev/null 2>&1 || { echo "no GPU: nvidia-smi not found, the GPU checks are skipped"; exit 0; }
    read_gpus
    printf '%s\n' "$table" | while IFS=, read -r drv total free name; do
      echo "gpu: $name, driver $drv, $free of $total MiB free"
    done ;;
  driver)
    min=$2
    read_gpus
    drv=$(printf '%s\n' "$table" | head -n 1 | cut -d, -f1)
    names=$(printf '%s\n' "$table" | cut -d, -f4- | paste -sd ';' - | sed 's/;/, /g')
    low=$(printf '%s\n%s\n' "$min" "$drv" | sort -V | head -n 1)
    [ "$low" = "$min" ] || fail "NVIDIA driver $drv on $names is older than the required $min: upgrade the driver (gpu_driver_min)"
    echo "driver $drv >= $min on $names" ;;
  runtime)
    command -v docker >/dev/null 2>&1 || fail "GPU containers are asked for (openclaw_gpu_containers) but docker is not installed"
    out=$(docker info 2>&1); rc=$?
    rt=$(printf '%s\n' "$out" | sed -n 's/^ *Runtimes: *//p' | head -n 1)
    [ -n "$rt" ] || fail "docker info (exit $rc) shows no Runtimes line: $(printf '%s\n' "$out" | grep -i -m 1 'error\|cannot' || printf '%s' "$out" | head -n 1)"
    case " $rt " in
      *' nvidia '*) echo "docker runtimes: $rt" ;;
      *) fail "Docker has no nvidia runtime (runtimes: $rt): install nvidia-container-toolkit and run nvidia-ctk runtime configure --runtime=docker, then restart docker" ;;
    esac ;;
  vram)
    need=$2
    read_gpus
    best=$(printf '%s\n' "$table" | awk -F, '$3 + 0 > m { m = $3 + 0; n = $4 } END { print m + 0 "," n }')
    free=${best%%,*}; name=${best#*,}
    [ "$free" -ge "$need" ] || fail "not enough free VRAM: the model needs $need MiB (weights + KV cache + overhead), the best GPU ($name) has $free MiB free: Ollama would offload layers to the CPU; free VRAM, lower ollama_context_length/ollama_num_parallel or pick a smaller model"
    echo "free VRAM $free MiB on $name >= needed $need MiB" ;;
  *) fail "unknown check '$check' (present, driver MIN, runtime, vram NEED_MB)" ;;
esac
