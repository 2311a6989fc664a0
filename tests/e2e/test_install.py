"""`make install`: the systemd units follow PREFIX, and the logrotate file.

`make install DESTDIR=tmp PREFIX=/opt/x` is run with the repository's
Makefile on the existing build (`-o all`: the programs are not remade,
rebuilding them is not what is tested here).  The units must name
/opt/x and nothing of /usr/local; the worker's unit and the one
deploy-worker.sh writes come from the same template; and, where
systemd-analyze is installed, both units must parse cleanly and keep
their hardening (`systemd-analyze security` exposure no worse than now);
assay-web's unit too.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT

BUILD = os.environ.get("ASSAY_BUILD") or os.path.join(REPO_ROOT, "build")
PREFIX = "/opt/x"
UNITS = ("assay-scheduler", "assay-worker", "assay-web")
# `systemd-analyze security --offline=yes` (systemd 252, Debian 12): the
# overall exposure of each unit as installed; lower is safer.
EXPOSURE = {"assay-scheduler": 6.4, "assay-worker": 5.9, "assay-web": 2.4}
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=full", "ProtectHome=yes", "PrivateTmp=yes",
             "PrivateDevices=yes", "PrivateMounts=yes", "ProtectClock=yes",
             "RestrictRealtime=yes", "LockPersonality=yes", "SystemCallArchitectures=native",
             "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK")
# assay-web runs no sandbox: stricter than the other two.
WEB_HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/spool/assay",
                 "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
                 "CapabilityBoundingSet=CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER",
                 "RestrictNamespaces=yes", "MemoryDenyWriteExecute=yes",
                 "SystemCallFilter=@system-service",
                 "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """DESTDIR after `make install PREFIX=/opt/x`."""
    dest = tmp_path_factory.mktemp("destdir")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    p = subprocess.run(["make", "-C", REPO_ROOT, "-o", "all", "install", f"BUILD={BUILD}",
                        f"DESTDIR={dest}", f"PREFIX={PREFIX}"], capture_output=True, text=True,
                       timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"make install exited {p.returncode}\n{p.stdout}\n{p.stderr}"
    return dest


def unit_text(dest, name):
    return (dest / f"opt/x/lib/systemd/system/{name}.service").read_text()


def test_assay_deliver_installed(installed):
    """The scheduler's other child, started once a course sends grades to
    Canvas, and its documentation."""
    assert os.access(installed / "opt/x/bin/assay-deliver", os.X_OK)
    assert (installed / "opt/x/share/doc/assay/INTEGRATIONS.md").is_file()


def test_units_name_the_prefix(installed):
    for name in UNITS:
        assert os.access(installed / f"opt/x/bin/{name}", os.X_OK), name
        text = unit_text(installed, name)
        assert "/usr/local" not in text, name
        assert not re.search(r"@[A-Z_]+@", text), f"{name}: a placeholder is left"
        assert "\nDocumentation=file:///opt/x/share/doc/assay/DEPLOY.md\n" in text, name
        assert (installed / "opt/x/share/doc/assay/DEPLOY.md").is_file()
        for line in WEB_HARDENING if name == "assay-web" else HARDENING:
            assert f"\n{line}\n" in text, f"{name}: {line}"
    assert ("\nExecStart=/opt/x/bin/assay-scheduler --spool /var/spool/assay\n"
            in unit_text(installed, "assay-scheduler"))
    worker = unit_text(installed, "assay-worker")
    assert ("\nExecStart=/opt/x/bin/assay-worker --dir /var/lib/assay-worker --slots 2 "
            "--name %H\n") in worker
    assert "\nPrivateNetwork=yes\n" in worker
    assert "\nPrivateNetwork=" not in unit_text(installed, "assay-scheduler")   # shippers use SSH
    assert ("\nExecStart=/opt/x/bin/assay-web --spool /var/spool/assay\n"
            in unit_text(installed, "assay-web"))


def test_logrotate_file_is_installed(installed):
    with open(os.path.join(REPO_ROOT, "scripts", "logrotate", "assay")) as f:
        source = f.read()
    assert (installed / "etc/logrotate.d/assay").read_text() == source
    assert (installed / "opt/x/share/assay/logrotate/assay").read_text() == source
    assert "/var/spool/assay/logs/*.log" in source and "delaycompress" in source


def test_installed_deploy_script_uses_the_same_template(installed, tmp_path):
    """deploy-worker.sh, as installed, finds the template beside it; its
    unit is make install's with the host's values (and a header line)."""
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True,
                   capture_output=True)
    root = tmp_path / "root"
    p = subprocess.run([str(installed / "opt/x/share/assay/deploy-worker.sh"), "--pubkey",
                        f"{key}.pub", "--root", str(root), "--binary",
                        os.path.join(BUILD, "assay-worker"), "--name", "w1", "--slots", "2"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    header, _, deployed = (root / "etc/systemd/system/assay-worker.service").read_text() \
        .partition("\n")
    assert header.startswith("# Written by scripts/deploy-worker.sh")
    # deploy-worker.sh installs the binary in /usr/local/bin, whatever the primary's PREFIX
    expected = unit_text(installed, "assay-worker").replace("/opt/x", "/usr/local") \
        .replace("--name %H", "--name w1")
    assert deployed == expected


def test_deploy_refuses_a_worker_directory_the_unit_hides(tmp_path):
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True,
                   capture_output=True)
    p = subprocess.run([os.path.join(REPO_ROOT, "scripts", "deploy-worker.sh"), "--pubkey",
                        f"{key}.pub", "--root", str(tmp_path / "root"), "--binary",
                        os.path.join(BUILD, "assay-worker"), "--dir", "/home/grading"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "ProtectHome=yes" in p.stderr


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_units_parse_and_keep_their_hardening(installed, tmp_path):
    for name in UNITS:
        # a copy whose ExecStart names the installed file, so that verify finds it
        copy = tmp_path / f"{name}.service"
        copy.write_text(unit_text(installed, name).replace(f"{PREFIX}/", f"{installed}{PREFIX}/"))
        v = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                           text=True, timeout=60)
        assert v.returncode == 0 and v.stdout + v.stderr == "", f"{name}:\n{v.stdout}{v.stderr}"
        s = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(copy)],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", s.stdout)
        assert m, f"{name}: no exposure level in\n{s.stdout}{s.stderr}"
        assert float(m.group(1)) <= EXPOSURE[name], f"{name}:\n{s.stdout}"
