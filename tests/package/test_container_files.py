"""test_container_files.py: docs/container/ holds a Containerfile and a
Kubernetes manifest that cannot be run here (no OCI runtime can set
RLIMIT_NOFILE on these machines). This test parses both and checks every
port, path and duration in them against the configuration they ship with,
docs/container/corral.yml, and that corral accepts that configuration.

usage: test_container_files.py SOURCE_DIR [CORRAL_BINARY]"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

DURATION = re.compile(r"^(\d+)(ms|s|m|h)$")
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def seconds(text):
    match = DURATION.match(str(text))
    assert match, f"not a duration: {text!r}"
    return int(match.group(1)) * UNITS[match.group(2)]


def containerfile(path):
    """[(instruction, argument text)], continuation lines joined."""
    instructions, pending = [], ""
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line = pending + line
            pending = ""
            word, _, rest = line.strip().partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def check_containerfile(path, config):
    instructions = containerfile(path)
    by_name = {}
    for word, rest in instructions:
        by_name.setdefault(word, []).append(rest)
    assert instructions[0] == ("FROM", "debian:bookworm-slim"), instructions[0]
    port = config["server"]["port"]
    assert by_name["EXPOSE"] == [str(port)], by_name["EXPOSE"]
    assert by_name["VOLUME"] == [config["path"]["data"]], by_name["VOLUME"]
    copies = [shlex.split(rest) for rest in by_name["COPY"]]
    assert ["docs/container/corral.yml", "/etc/corral/corral.yml"] in copies, copies
    entrypoint = yaml.safe_load(by_name["ENTRYPOINT"][0])          # the JSON form
    assert entrypoint[:2] == ["/usr/bin/tini", "--"], entrypoint
    assert entrypoint[2:] == ["/usr/bin/corral", "-c", "/etc/corral/corral.yml"], entrypoint
    assert by_name["STOPSIGNAL"] == ["SIGTERM"]
    user = by_name["USER"][-1]
    run = " ".join(by_name["RUN"])
    uid, gid = user.split(":")
    assert f"--uid {uid}" in run and f"--gid {gid} corral" in run, (user, run)
    assert "/tmp/packages/corral_*.deb" in run and "tini" in run, run
    return int(uid)


def check_kubernetes(path, config, uid):
    with open(path) as f:
        documents = {d["kind"]: d for d in yaml.safe_load_all(f)}
    deployment, budget = documents["Deployment"], documents["PodDisruptionBudget"]
    labels = deployment["spec"]["selector"]["matchLabels"]
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["labels"] == labels
    assert budget["spec"]["selector"]["matchLabels"] == labels
    assert "maxUnavailable" in budget["spec"] or "minAvailable" in budget["spec"]
    assert deployment["spec"]["replicas"] >= 2, "a budget of one pod blocks every drain"

    port = config["server"]["port"]
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/api/metrics"

    spec = pod["spec"]
    assert spec["securityContext"]["runAsUser"] == uid
    assert spec["securityContext"]["runAsNonRoot"] is True
    (container,) = spec["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": port}, ports
    readiness, liveness = container["readinessProbe"], container["livenessProbe"]
    assert readiness["httpGet"] == {"path": "/api/status", "port": "http"}, readiness
    assert liveness["httpGet"]["port"] == "http" and liveness["httpGet"]["path"].startswith("/api/")
    # the readiness probe notices a stop before the liveness probe kills
    assert (readiness["periodSeconds"] * readiness["failureThreshold"]
            < liveness["periodSeconds"] * liveness["failureThreshold"])

    # the grace period covers preStop's pause and corral's own stop deadline
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "/bin/sleep", pre_stop
    pause = int(pre_stop[1])
    shutdown = seconds(config["node"]["shutdown_timeout"])
    assert spec["terminationGracePeriodSeconds"] >= pause + shutdown + 1, \
        (spec["terminationGracePeriodSeconds"], pause, shutdown)

    # count: auto follows the CPU limit, which must exist
    assert config["node"]["workers"]["count"] == "auto"
    assert float(container["resources"]["limits"]["cpu"]) >= 1

    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"] for v in spec["volumes"]}
    assert config["path"]["data"] in mounts, mounts
    assert set(mounts.values()) <= volumes, (mounts, volumes)
    if container["securityContext"].get("readOnlyRootFilesystem"):
        # with no XDG_RUNTIME_DIR, a non-root corral's runtime directory is
        # under /tmp (docs/tools.md): it must be writable
        assert "/tmp" in mounts, mounts
    assert "pid" not in config, "a PID file in a read-only root file system"


def check_config_loads(config_path, corral):
    """corral --check accepts the shipped file (path.data made absent-safe:
    the check runs on a copy whose data directory is a temporary one)."""
    with open(config_path) as f:
        text = f.read()
    with tempfile.TemporaryDirectory(prefix="corral-container.") as work:
        copy = os.path.join(work, "corral.yml")
        with open(copy, "w") as f:
            f.write(text.replace("/var/lib/corral", os.path.join(work, "data")))
        result = subprocess.run([corral, "--check", "-c", copy], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def main():
    source = sys.argv[1]
    directory = os.path.join(source, "docs", "container")
    config_path = os.path.join(directory, "corral.yml")
    with open(config_path) as f:
        config = yaml.safe_load(f)
    uid = check_containerfile(os.path.join(directory, "Containerfile"), config)
    check_kubernetes(os.path.join(directory, "kubernetes.yml"), config, uid)
    if len(sys.argv) > 2:
        check_config_loads(config_path, sys.argv[2])
    print("ok: Containerfile and kubernetes.yml agree with docs/container/corral.yml")


if __name__ == "__main__":
    main()
