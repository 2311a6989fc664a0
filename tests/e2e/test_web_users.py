"""`assay users`: the web console's accounts and rosters, on a real spool.

Passwords come on standard input and are kept as Argon2id hashes in
users.json (mode 0600); an API token is printed once and kept hashed; a
roster import creates accounts and enrols students, or changes nothing
when a line is wrong, naming the file, the line and the fix.
"""
import json
import os
import stat

from pipeline import HI_TEST, assignment_doc, pipeline  # noqa: F401  (the fixture)
from web import PASSWORD, Web


def test_add_list_passwd_remove(pipeline):  # noqa: F811
    spool = pipeline()
    p = spool.assay("users", "add", "ada", "--admin", input=PASSWORD + "\n")
    assert p.returncode == 0 and p.stdout == "ada: added\n", p.stdout + p.stderr
    p = spool.assay("users", "add", "ada", input=PASSWORD + "\n")
    assert p.returncode == 1
    assert p.stderr == ("assay users add: user ada exists already (fix: `assay users passwd ada` "
                        "to change the password)\n")
    p = spool.assay("users", "add", "bob", input="short\n")
    assert p.returncode == 1
    assert p.stderr == "assay users add: a password needs at least 8 characters\n"
    p = spool.assay("users", "add", "../evil", input=PASSWORD + "\n")
    assert p.returncode == 1 and "is not a valid user name" in p.stderr
    p = spool.assay("users", "add", "sso", "--no-password")
    assert p.returncode == 0
    path = spool.path("users.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        text = f.read()
    assert PASSWORD not in text and "$argon2id$" in text
    rows = json.loads(spool.assay_ok("users", "list", "--json"))
    assert rows == [{"name": "ada", "admin": True, "password": True, "tokens": 0},
                    {"name": "sso", "admin": False, "password": False, "tokens": 0}]
    out = spool.assay_ok("users", "list")
    assert out.splitlines()[0].split() == ["ada", "admin", "password", "0", "tokens"]
    p = spool.assay("users", "passwd", "ada", input="a new password 2\n")
    assert p.returncode == 0 and p.stdout == "ada: password changed\n"
    p = spool.assay("users", "passwd", "nobody", input="a new password 2\n")
    assert p.returncode == 1 and "no user nobody" in p.stderr
    assert spool.assay("users", "remove", "sso").returncode == 0
    assert [r["name"] for r in json.loads(spool.assay_ok("users", "list", "--json"))] == ["ada"]
    log = spool.log_text()
    assert "users: added admin ada (by " in log and "users: removed sso (by " in log
    assert PASSWORD not in log and "a new password 2" not in log
    # the new password works on the web, the old one no longer
    web = Web(spool)
    try:
        assert web.client().login("ada", PASSWORD).status == 401
        assert web.client().login("ada", "a new password 2").status == 303
    finally:
        assert web.stop() == 0


def test_token_is_shown_once_and_kept_hashed(pipeline):  # noqa: F811
    spool = pipeline()
    spool.assay("users", "add", "ada", input=PASSWORD + "\n")
    token = spool.assay_ok("users", "token", "ada").strip()
    assert token.startswith("assay_") and len(token) == 70
    with open(spool.path("users.json")) as f:
        assert token not in f.read()
    assert "new API token for ada" in spool.log_text() and token not in spool.log_text()
    p = spool.assay("users", "token", "nobody")
    assert p.returncode == 1 and "no user nobody" in p.stderr


def test_roster_import(pipeline, tmp_path):  # noqa: F811
    spool = pipeline()
    spool.add_assignment("cs1", "hw", assignment_doc([HI_TEST]))
    spool.assay("users", "add", "sam", input=PASSWORD + "\n")
    good = tmp_path / "roster.csv"
    good.write_text("Name,username,email,password\n"
                    "Sam S,sam,s@x.org,\n"
                    "Pat P,pat,p@x.org,pat password 1\n"
                    "Kim K,kim,k@x.org,\n")
    p = spool.assay("users", "import", "--course", "cs1", str(good))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "2 accounts created, 1 existed; 3 newly enrolled in cs1\n"
    with open(spool.path("courses", "cs1", "roster.json")) as f:
        assert json.load(f) == {"students": ["sam", "pat", "kim"]}
    rows = {r["name"]: r for r in json.loads(spool.assay_ok("users", "list", "--json"))}
    assert rows["pat"]["password"] and not rows["kim"]["password"]
    bad = tmp_path / "bad.csv"
    bad.write_text("username\nzed\nnot a name\n")
    p = spool.assay("users", "import", "--course", "cs1", str(bad))
    assert p.returncode == 1
    assert p.stderr == (f"assay users import: {bad}: line 3: username \"not a name\" is not a "
                        "valid name (letters, digits, '-', '_', '.', '@'; at most 64); nothing "
                        "was changed\n")
    assert "zed" not in spool.assay_ok("users", "list")
    nohdr = tmp_path / "nohdr.csv"
    nohdr.write_text("sam\n")
    p = spool.assay("users", "import", "--course", "cs1", str(nohdr))
    assert p.returncode == 1 and "line 1 must be a header naming a \"username\" column" in p.stderr
    p = spool.assay("users", "import", "--course", "nope", str(good))
    assert p.returncode == 1 and "no course nope in this spool" in p.stderr
    # an enrolled student who never submitted sees the course on the web
    web = Web(spool)
    try:
        c = web.client()
        assert c.login("pat", "pat password 1").status == 303
        page = c.get("/").text
        assert 'data-course="cs1"' in page and "not submitted" in page
    finally:
        assert web.stop() == 0
