# talon's controller-side helper for the modules talon does not implement natively: it finds a
# module as ansible-core finds it (ansible.builtin, ansible.legacy, collections) and builds the
# module's payload (AnsiballZ) with ansible-core's own code, for talon to run on the host with
# the host's Python. Protocol: one JSON request per line on stdin, one JSON answer per line on
# stdout (the first answer says whether ansible-core could be loaded). Written for talon.
import json
import sys


def answer(out, value):
    out.write(json.dumps(value) + "\n")
    out.flush()


def main():
    out = sys.stdout
    # ansible's display must never write into the protocol.
    sys.stdout = sys.stderr
    try:
        import ansible
        from ansible import constants as C
        from ansible.executor.module_common import modify_module
        from ansible.parsing.dataloader import DataLoader
        from ansible.plugins.loader import action_loader, init_plugin_loader, module_loader
        from ansible.template import Templar

        init_plugin_loader()
        templar = Templar(loader=DataLoader())
    except Exception as e:  # any failure here means: no usable ansible-core
        answer(out, {"error": f"ansible-core cannot be loaded by {sys.executable}: {type(e).__name__}: {e}"})
        return

    answer(out, {"ready": True, "version": ansible.__version__, "python": sys.executable})

    def resolve(name, module_only):
        found = module_loader.find_plugin_with_context(name)
        if not found.resolved:
            paths = [p for p in module_loader._get_paths()] if hasattr(module_loader, "_get_paths") else []
            return {"found": False, "searched": paths, "collections": list(C.COLLECTIONS_PATHS)}
        fqcn = found.resolved_fqcn or name
        # A module with its own action plugin needs controller-side code that talon does not run.
        # (an action that runs the module itself, as package does its backend, asks for the
        # module only.)
        action = action_loader.find_plugin_with_context(fqcn)
        needs_action = not module_only and bool(action.resolved) and action.resolved_fqcn not in (
            "ansible.builtin.normal",
            "ansible.legacy.normal",
        )
        return {
            "found": True,
            "fqcn": fqcn,
            "path": found.plugin_resolved_path,
            "action": action.resolved_fqcn if needs_action else None,
            "options": options(found.plugin_resolved_path, fqcn),
        }

    def options(path, fqcn):
        # The documented options and their aliases (None when the module documents none, or its
        # documentation cannot be read: then nothing is checked before the run).
        try:
            from ansible.plugins.loader import fragment_loader
            from ansible.utils.plugin_docs import get_docstring

            parts = fqcn.split(".")
            collection = ".".join(parts[:2]) if len(parts) > 2 and parts[0] != "ansible" else None
            doc = get_docstring(path, fragment_loader, collection_name=collection, is_module=True)[0]
            opts = (doc or {}).get("options")
            if not isinstance(opts, dict):
                return None
            return {name: list((o or {}).get("aliases") or []) for name, o in opts.items()}
        except Exception:
            return None

    def build(req):
        args = dict(req["args"])
        args.update(
            {
                "_ansible_check_mode": bool(req["check"]),
                "_ansible_no_log": bool(req["no_log"]),
                "_ansible_debug": False,
                "_ansible_diff": bool(req["diff"]),
                "_ansible_verbosity": int(req.get("verbosity", 0)),
                "_ansible_version": ansible.__version__,
                "_ansible_module_name": req["name"],
                "_ansible_syslog_facility": C.DEFAULT_SYSLOG_FACILITY,
                "_ansible_selinux_special_fs": C.DEFAULT_SELINUX_SPECIAL_FS,
                "_ansible_socket": None,
                "_ansible_shell_executable": "/bin/sh",
                "_ansible_keep_remote_files": False,
                "_ansible_tmpdir": None,
                "_ansible_remote_tmp": "~/.ansible/tmp",
                "_ansible_ignore_unknown_opts": False,
                "_ansible_target_log_info": None,
                "_ansible_tracebacks_for": [],
            }
        )
        built = modify_module(
            module_name=req["name"],
            module_path=req["path"],
            module_args=args,
            templar=templar,
            task_vars={"ansible_python_interpreter": req["interpreter"]},
            module_compression=C.DEFAULT_MODULE_COMPRESSION,
        )
        if built.module_style != "new":
            return {"error": f"{req['name']} is a {built.module_style}-style module, which talon does not run"}
        return {"payload": built.b_module_data.decode("utf-8")}

    for line in sys.stdin:
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "resolve":
                result = resolve(req["name"], bool(req.get("module_only")))
            elif op == "build":
                result = build(req)
            else:
                result = {"error": f"unknown request {op!r}"}
        except Exception as e:
            result = {"error": f"{type(e).__name__}: {e}"}
        answer(out, result)


main()
