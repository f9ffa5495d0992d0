"""The bench workload (site.yml) as a pyinfra 3 deploy: the same end state under /opt/bench.

Run by bench/run as `pyinfra -y INVENTORY.py deploy.py` with the inventory it writes (host data:
ssh_port, ssh_user, ssh_key, ssh_known_hosts_file, bench_slot). pyinfra decides at prepare time
from facts, so the Ansible guards map to facts read before the operations run (`creates` ->
skip when the File fact exists), and the handler maps to `_if` on the notifying operations.
"""

from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import files, server

BASE = "/opt/bench"
HERE = Path(__file__).resolve().parent
TEMPLATE_VARS = {
    "app_name": "bench",
    "app_port": 8000,
    "app_features": ["metrics", "tracing", "gzip"],
    "inventory_hostname": host.name,
    "bench_slot": host.data.bench_slot,
}

files.directory(name="Base directory", path=BASE, mode="755")
# A loop: one operation per item, as Ansible's loop runs the module per item.
for sub, mode in [
    ("etc", "755"),
    ("bin", "755"),
    ("data", "750"),
    ("log", "750"),
    ("conf.d", "755"),
    ("share", "755"),
]:
    files.directory(name=f"Directory tree: {sub}", path=f"{BASE}/{sub}", mode=mode)
files.directory(
    name="Spool directory owned by nobody",
    path=f"{BASE}/spool",
    user="nobody",
    group="nogroup",
    mode="770",
)

files.put(name="Static config", src=str(HERE / "files/app.conf"), dest=f"{BASE}/etc/app.conf", mode="644")
files.put(name="Launcher script", src=str(HERE / "files/run.sh"), dest=f"{BASE}/bin/run.sh", mode="755")
files.put(
    name="Logrotate rules",
    src=str(HERE / "files/logrotate.conf"),
    dest=f"{BASE}/etc/logrotate.conf",
    mode="644",
)
files.put(
    name="Message of the day",
    src=StringIO("This host is provisioned by the bench workload.\n"),
    dest=f"{BASE}/etc/motd",
    mode="644",
)
files.put(
    name="Secret settings",
    src=StringIO("token=not-a-real-secret\n"),
    dest=f"{BASE}/etc/secret.conf",
    mode="600",
)
files.put(
    name="Spool readme owned by nobody",
    src=StringIO("Files waiting to be processed.\n"),
    dest=f"{BASE}/spool/README",
    user="nobody",
    group="nogroup",
    mode="640",
)

app_ini = files.template(
    name="App settings from a template",
    src=str(HERE / "templates/app.ini.j2"),
    dest=f"{BASE}/etc/app.ini",
    mode="640",
    **TEMPLATE_VARS,
)
files.template(
    name="Host info from a template",
    src=str(HERE / "templates/hostinfo.j2"),
    dest=f"{BASE}/etc/hostinfo",
    mode="644",
    **TEMPLATE_VARS,
)
app_env = files.template(
    name="Environment file from a template",
    src=str(HERE / "templates/app.env.j2"),
    dest=f"{BASE}/etc/app.env",
    mode="600",
    **TEMPLATE_VARS,
)

# lineinfile with create/mode: make the file (empty, mode) if missing, then ensure the lines.
files.file(name="Limits file", path=f"{BASE}/etc/limits.conf", mode="644")
files.line(name="Open files limit", path=f"{BASE}/etc/limits.conf", line="^nofile=", replace="nofile=1024")
files.line(name="Process limit", path=f"{BASE}/etc/limits.conf", line="^nproc=", replace="nproc=512")
files.line(name="No core dumps", path=f"{BASE}/etc/limits.conf", line="^core=0$")
files.file(name="Peers file", path=f"{BASE}/conf.d/peers.conf", mode="644")
files.line(
    name="This host in the peers file",
    path=f"{BASE}/conf.d/peers.conf",
    line=f"^{host.name} ",
    replace=f"{host.name} slot={host.data.bench_slot}",
)

files.link(name="Current points at bin", path=f"{BASE}/current", target=f"{BASE}/bin")
files.link(name="Active config link", path=f"{BASE}/etc/active.ini", target=f"{BASE}/etc/app.ini")

# copy force: false -> create the empty file only when it is missing.
files.file(name="Empty log file, created once", path=f"{BASE}/log/app.log", mode="640")

# Guarded commands (`creates`/`removes`): decided from the File fact at prepare time.
if not host.get_fact(File, path=f"{BASE}/data/initialised"):
    server.shell(
        name="Initialise the data directory once",
        commands=[f"echo initialised > {BASE}/data/initialised && chmod 0644 {BASE}/data/initialised"],
    )
if not host.get_fact(File, path=f"{BASE}/data/seed.txt"):
    server.shell(
        name="Seed data once",
        commands=[f"seq 1 100 > {BASE}/data/seed.txt && chmod 0644 {BASE}/data/seed.txt"],
    )
if host.get_fact(File, path=f"{BASE}/data/stale.lock"):
    server.shell(name="Drop a stale lock if one is left", commands=[f"rm {BASE}/data/stale.lock"])

# stat + when
# (File is None when the path is missing, False when it is not a regular file: a symlink here.)
os_flag = "linux\n" if host.get_fact(File, path="/etc/os-release") is not None else "unknown\n"
files.put(name="Flag Linux hosts", src=StringIO(os_flag), dest=f"{BASE}/etc/os.flag", mode="644")

files.directory(name="No leftover temp directory", path=f"{BASE}/tmp", present=False)

# The handler: runs once, after the notifying operations, only if one of them changed.
server.shell(
    name="reload app",
    commands=[f"echo reloaded > {BASE}/log/reload.stamp && chmod 0640 {BASE}/log/reload.stamp"],
    # A list given to _if means all of them; a handler runs when any notifier changed.
    _if=lambda: app_ini.did_change() or app_env.did_change(),
)
