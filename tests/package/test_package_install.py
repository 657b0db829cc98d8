"""test_package_install.py: the Debian packages as an administrator gets
them. Installs corral, libcorral0 and libcorral-dev with apt (dpkg under
it), checks what they put on the machine (the user corral from
sysusers.d, the conffiles, the units, which `systemd-analyze verify`
accepts), then starts the installed corral with the installed
/etc/corral/corral.yml as corral.service would: as the user corral, with
the unit's environment, its runtime directory, a listening socket handed
over as corral.socket does (LISTEN_FDS, here on an ephemeral port) and a
NOTIFY_SOCKET on which it must say READY=1. /api/status must answer,
corralctl must find the instance, SIGTERM must stop it with exit 0, and
a purge must leave the machine as it was (the user too, when this test
made it).

This machine runs no systemd as PID 1, so nothing is started by systemctl.
Needs root; exits 77 (skipped) without it.

usage: test_package_install.py PACKAGES_DIR"""
import fcntl
import glob
import json
import os
import pwd
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PACKAGES = ("corral", "libcorral0", "libcorral-dev")
LOCK = "/run/lock/corral-package-test.lock"
DEADLINE = 60.0
APT = ["apt-get", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300"]


def run(*command, check=True, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)}: exit {result.returncode}\n"
                             f"{result.stdout}{result.stderr}")
    return result


def installed(package):
    result = run("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return result.returncode == 0 and "installed" in result.stdout.split()


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def check_files():
    user = pwd.getpwnam("corral")
    assert user.pw_uid < 1000 and user.pw_dir == "/var/lib/corral", user
    conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "corral").stdout
    assert "/etc/corral/corral.yml" in conffiles, conffiles
    assert "/etc/logrotate.d/corral" in conffiles, conffiles
    for path in ("/usr/bin/corral", "/usr/bin/corral-worker", "/usr/bin/corralctl",
                 "/usr/lib/systemd/system/corral.service",
                 "/usr/lib/systemd/system/corral.socket", "/usr/lib/sysusers.d/corral.conf",
                 "/usr/share/man/man8/corral.8.gz", "/usr/share/man/man5/corral.yml.5.gz",
                 "/usr/share/man/man8/corralctl.8.gz",
                 "/usr/share/bash-completion/completions/corralctl",
                 "/usr/include/corral/worker.h"):
        assert os.path.exists(path), path
    libraries = glob.glob("/usr/lib/*/libcorral.so.0")
    assert libraries and os.path.exists(libraries[0]), libraries
    soname = run("objdump", "-p", libraries[0]).stdout
    assert "SONAME               libcorral.so.0" in soname, soname
    pc = run("pkg-config", "--libs", "corral").stdout
    assert "-lcorral" in pc, pc
    for directory in ("/var/lib/corral", "/var/log/corral"):
        assert os.stat(directory).st_uid == user.pw_uid, directory
    # the units as systemd reads them: the binary and the man pages they
    # name exist, every setting is known
    verify = run("systemd-analyze", "verify", "/usr/lib/systemd/system/corral.service",
                 "/usr/lib/systemd/system/corral.socket", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    run("setpriv", "--reuid=corral", "--regid=corral", "--init-groups",
        "/usr/bin/corral", "--check", "-c", "/etc/corral/corral.yml")


def wait_ready(notify, process, work):
    notify.settimeout(0.5)
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with open(os.path.join(work, "stderr")) as stderr:
                raise AssertionError(f"corral exited {process.returncode}: {stderr.read()}")
        try:
            message = notify.recv(4096).decode()
        except socket.timeout:
            continue
        if "READY=1" in message.split("\n"):
            return
    raise AssertionError("no READY=1 on the notify socket")


def run_as_the_unit(work):
    """Starts /usr/bin/corral as corral.service with corral.socket would:
    in a mount namespace of its own where /run/corral is a fresh directory
    of the user corral (RuntimeDirectory=corral) and /tmp an empty one
    (PrivateTmp=yes), so that nothing of the machine's /run/corral (where
    corral run as root keeps its sockets) is touched."""
    user = pwd.getpwnam("corral")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)     # ReusePort=yes
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    os.chmod(work, 0o755)
    notify_path = os.path.join(work, "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    os.chmod(notify_path, 0o777)
    listen_fd = listener.fileno()

    def hand_over_socket():          # fd 3, as systemd places it
        os.dup2(listen_fd, 3)

    environment = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "LANG": "C.UTF-8", "NOTIFY_SOCKET": notify_path,
                   "XDG_RUNTIME_DIR": "/run/corral", "LISTEN_FDS": "1"}
    # unshare, sh and setpriv each exec the next: LISTEN_PID, the shell's
    # PID, is corral's
    script = (f"mount -t tmpfs -o mode=0755,uid={user.pw_uid},gid={user.pw_gid} tmpfs /run/corral"
              " && mount -t tmpfs -o mode=1777 tmpfs /tmp"
              " && LISTEN_PID=$$ exec setpriv --reuid=corral --regid=corral --init-groups"
              " --no-new-privs --inh-caps=-all --bounding-set=-all"
              " /usr/bin/corral -c /etc/corral/corral.yml")
    process = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        env=environment, cwd="/", preexec_fn=hand_over_socket, close_fds=False,
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr"), "w"))
    listener.close()
    return process, notify, port


def check_instance(process, notify, port, work):
    wait_ready(notify, process, work)
    with open(f"/proc/{process.pid}/status") as status:
        uid = next(line for line in status if line.startswith("Uid:")).split()[1]
    assert int(uid) == pwd.getpwnam("corral").pw_uid, uid
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=10) as answer:
        assert answer.status == 200, answer.status
        document = json.load(answer)
    assert document["status"]["overall"]["level"] == "available", document["status"]["overall"]
    # its /run/corral, seen through its own mount namespace
    with open(f"/proc/{process.pid}/root/run/corral/corral.pid") as pid_file:
        assert int(pid_file.read()) == process.pid
    with open("/var/lib/corral/endpoints.json") as endpoints:
        assert json.load(endpoints)["pid"] == process.pid
    # corralctl finds it through path.data, as the administrator runs it
    # (beside the service: in its mount namespace)
    status = run("nsenter", f"--target={process.pid}", "--mount",
                 "corralctl", "-c", "/etc/corral/corral.yml", "status", check=False)
    assert status.returncode == 0, status.stdout + status.stderr
    process.send_signal(15)
    assert process.wait(timeout=DEADLINE) == 0, open(os.path.join(work, "stderr")).read()
    assert not os.path.exists("/var/lib/corral/endpoints.json")
    with open("/var/log/corral/corral.log") as log:
        assert "ready" in log.read(), "no line in /var/log/corral/corral.log"


def main():
    if os.geteuid() != 0:
        print("skipped: installing packages needs root")
        return 77
    packages_dir = sys.argv[1]
    debs = [glob.glob(os.path.join(packages_dir, f"{name}_*.deb"))[0] for name in PACKAGES]
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)         # one run at a time on this machine
        for name in PACKAGES:
            assert not installed(name), f"{name} is installed already: not touching it"
        had_user = user_exists("corral")
        had_dirs = {d: os.path.exists(d) for d in ("/run/corral", "/var/lib/corral",
                                                   "/var/log/corral", "/etc/corral")}
        if not had_dirs["/run/corral"]:     # the mount point, as corral run by root makes it
            os.mkdir("/run/corral", 0o700)
        work = tempfile.mkdtemp(prefix="corral-package.", dir="/run")   # not under /tmp
        process = None
        try:
            run(*APT, "install", *debs)
            check_files()
            process, notify, port = run_as_the_unit(work)
            check_instance(process, notify, port, work)
        finally:
            if process and process.poll() is None:
                process.kill()
                process.wait()
            run(*APT, "purge", *PACKAGES, check=False)
            if not had_user and user_exists("corral"):
                run("userdel", "corral", check=False)
                run("groupdel", "corral", check=False)
            if not had_dirs["/run/corral"]:
                os.rmdir("/run/corral")
            subprocess.run(["rm", "-rf", work])
        for name in PACKAGES:
            assert not installed(name), f"{name} still installed after the purge"
        for directory, existed in had_dirs.items():
            assert os.path.exists(directory) == existed, f"{directory} left behind"
        assert user_exists("corral") == had_user
    print("ok: installed, served /api/status as corral, stopped, purged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
