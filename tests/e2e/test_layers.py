"""The layers of docs/ARCHITECTURE.md hold in the source and in the
binaries: every include points down, and the daemons that never run
student code carry none of the sandbox, the seccomp filter or the
notebook code (the shipper none of the engine), and only assay-deliver
links libcurl."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ASSAY_BUILD", os.path.join(ROOT, "build"))


def defined_symbols(path):
    """The global functions and data an object, archive or program defines."""
    out = subprocess.run(["nm", "--defined-only", "-g", path], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1] for line in out.splitlines()
            if len(line.split()) == 3 and line.split()[1] in "TDBR"}


def test_includes_point_down():
    p = subprocess.run([os.path.join(ROOT, "scripts", "check-layers.sh"), ROOT],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout == "", p.stdout + p.stderr


def test_scheduler_and_shipper_carry_no_sandbox():
    sandbox = defined_symbols(os.path.join(BUILD, "lib", "libassay-sandbox.a"))
    notebook = set()
    for obj in ("engine/nbgrader.o", "engine/kinds/notebook.o", "engine/kinds/notebook_html.o"):
        notebook |= defined_symbols(os.path.join(BUILD, "obj", obj))
    engine = defined_symbols(os.path.join(BUILD, "lib", "libassay-engine.a"))
    assert sandbox and notebook and engine
    for prog in ("assay-scheduler", "assay-shipper"):
        exe = os.path.join(BUILD, prog)
        have = defined_symbols(exe)
        assert not have & sandbox, f"{prog} links the sandbox: {sorted(have & sandbox)[:5]}"
        assert not have & notebook, f"{prog} links the notebook code: {sorted(have & notebook)[:5]}"
        libs = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
        assert "libseccomp" not in libs, f"{prog} links libseccomp:\n{libs}"
    shipper = defined_symbols(os.path.join(BUILD, "assay-shipper"))
    assert not shipper & engine, f"assay-shipper links the engine: {sorted(shipper & engine)[:5]}"


def test_only_deliver_intake_and_shipper_link_libcurl():
    """The HTTP client stays in assay-deliver, assay-intake and assay-shipper
    (the slurm transport talks to slurmrestd): `assay`
    (run once per submission) starts without it, assay-deliver carries no
    engine or sandbox, and assay-intake (which stages fetched archives
    with the engine's upload rules) no sandbox."""
    for prog in ("assay", "assay-scheduler", "assay-worker"):
        libs = subprocess.run(["ldd", os.path.join(BUILD, prog)], capture_output=True,
                              text=True).stdout
        assert "libcurl" not in libs, f"{prog} links libcurl:\n{libs}"
    deliver = os.path.join(BUILD, "assay-deliver")
    libs = subprocess.run(["ldd", deliver], capture_output=True, text=True).stdout
    assert "libcurl" in libs and "libseccomp" not in libs, libs
    have = defined_symbols(deliver)
    engine = defined_symbols(os.path.join(BUILD, "lib", "libassay-engine.a"))
    sandbox = defined_symbols(os.path.join(BUILD, "lib", "libassay-sandbox.a"))
    assert not have & (engine | sandbox), sorted(have & (engine | sandbox))[:5]
    intake = os.path.join(BUILD, "assay-intake")
    libs = subprocess.run(["ldd", intake], capture_output=True, text=True).stdout
    assert "libcurl" in libs and "libseccomp" not in libs, libs
    have = defined_symbols(intake)
    assert not have & sandbox, sorted(have & sandbox)[:5]


def test_web_carries_no_engine_and_daemons_no_web_libraries():
    """assay-web links the spool, never the engine or the sandbox; the
    scheduler and shippers link neither libmicrohttpd nor libsodium."""
    engine = defined_symbols(os.path.join(BUILD, "lib", "libassay-engine.a"))
    sandbox = defined_symbols(os.path.join(BUILD, "lib", "libassay-sandbox.a"))
    web = os.path.join(BUILD, "assay-web")
    have = defined_symbols(web)
    assert not have & (engine | sandbox), sorted(have & (engine | sandbox))[:5]
    libs = subprocess.run(["ldd", web], capture_output=True, text=True).stdout
    assert "libseccomp" not in libs and "libmicrohttpd" in libs, libs
    for prog in ("assay-scheduler", "assay-shipper"):
        libs = subprocess.run(["ldd", os.path.join(BUILD, prog)], capture_output=True,
                              text=True).stdout
        assert "libmicrohttpd" not in libs and "libsodium" not in libs, f"{prog}:\n{libs}"
