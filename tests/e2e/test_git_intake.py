"""Pushes from GitHub and GitLab graded, and their commit statuses posted:
the real assay-web (POST /hooks/github, /hooks/gitlab), assay-intake,
scheduler, shippers, worker and assay-deliver, and local GitHub and
GitLab servers (fake_forge.py) that fail the test on any request that
deviates from their documented APIs.  The repositories are real: made
with git here, their archives made by `git archive` of the commit.

Each case checks what the forge ends up holding (the statuses, in order,
with their exact descriptions), what the spool holds (versions graded,
pushes/), the answers assay-web gave and the log lines it wrote.
"""
import hashlib
import hmac
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

from assay_helpers import exe, poll
from fake_forge import github, gitlab  # noqa: F401  (the fixtures)
from pipeline import HI_TEST, VARIANTS, assignment_doc, pipeline  # noqa: F401  (the fixture)

COURSE, ASG = "cs101", "hw1"
ORG, GROUP = "cs101-org", "cs/cs101"
SECRET = "It's a Secret to Everybody"
GL_SECRET = "gitlab-hook-token-5d1f"
RESULT_URL = "https://assay.example.edu/course/{course}/{assignment}/student/{student}"


# ---- repositories ----------------------------------------------------------

def git(cwd, *args):
    p = subprocess.run(["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.edu",
                        "-c", "init.defaultBranch=main", *args], cwd=cwd,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout


def make_repo(base, name, files, links=None):
    """A git repository NAME with FILES ({path: text or bytes}) and LINKS
    ({path: target}) in one commit; returns (sha, its zip as `git archive`
    makes it, with GitHub's top folder)."""
    d = os.path.join(base, "repos", name)
    os.makedirs(d)
    git(d, "init", "-q")
    for path, data in files.items():
        full = os.path.join(d, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
    for path, target in (links or {}).items():
        os.symlink(target, os.path.join(d, path))
    git(d, "add", "-A")
    git(d, "commit", "-q", "-m", "my work")
    sha = git(d, "rev-parse", "HEAD").decode().strip()
    top = f"{name.replace('/', '-')}-{sha[:7]}/"
    return sha, git(d, "archive", "--format=zip", f"--prefix={top}", "HEAD")


# ---- the spool, assay-web and the webhooks ---------------------------------

def private_file(path, text):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text + "\n")
    return path


class Web:
    def __init__(self, spool):
        self.p = subprocess.Popen([exe("assay-web"), "--spool", spool.root, "--listen",
                                   "127.0.0.1:0"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        line = self.p.stdout.readline().decode()
        assert line.startswith("listening on http://"), f"assay-web said {line!r}"
        self.url = line.split()[-1]

    def post(self, path, headers, body):
        req = urllib.request.Request(self.url + path, data=body, method="POST",
                                     headers=dict(headers, **{"Content-Type": "application/json"}))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


@pytest.fixture
def web():
    started = []

    def start(spool):
        w = Web(spool)
        started.append(w)
        return w
    yield start
    for w in started:
        w.stop()


def start_course(spool, forges, course_git, web_start):
    """Assignment cs101/hw1 (2 points for printing "hi"), forges.json with
    FORGES (secrets and tokens in 0600 files), course.json's "git" block;
    the scheduler (with assay-intake and assay-deliver) and assay-web."""
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST]))
    with open(spool.path("forges.json"), "w") as f:
        json.dump(forges, f)
    with open(spool.path("courses", COURSE, "course.json"), "w") as f:
        json.dump({"git": course_git}, f)
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    spool.wait_for("assay-intake and assay-deliver", lambda: any(
        "assay-intake started" in l.message for l in spool.log_lines()))
    return web_start(spool)


def setup_github(spool, fake, web_start, **extra):
    block = {"secret_file": private_file(os.path.join(spool.base, "gh.secret"), SECRET),
             "token_file": private_file(os.path.join(spool.base, "gh.token"), fake.token),
             "api_url": fake.api_url, "result_url": RESULT_URL, **extra}
    return start_course(spool, {"github": block}, {"github": ORG, "students": {"octo-ada": "ada"}},
                 web_start)


def github_event(repo, sha, ref="refs/heads/main"):
    return json.dumps({"ref": ref, "before": "0" * 40, "after": sha,
                       "repository": {"full_name": repo, "name": repo.split("/")[1],
                                      "default_branch": "main"},
                       "pusher": {"name": "octo-ada"}, "head_commit": {"id": sha}}).encode()


def github_headers(body, delivery=None, secret=SECRET, event="push"):
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": sig, "User-Agent": "GitHub-Hookshot/test"}


def push_github(w, fake, name, variant="right", delivery=None, files=None, links=None):
    """A commit in repository ORG/NAME and its push event sent to assay-web."""
    files = files if files is not None else {"hello.py": VARIANTS[variant][0]}
    sha, zipped = make_repo(w.repos_base, name, files, links)
    repo = f"{ORG}/{name}"
    fake.add_archive(repo, sha, zipped)
    body = github_event(repo, sha)
    status, text = w.post("/hooks/github", github_headers(body, delivery), body)
    return sha, status, text


def statuses(fake, sha, n, timeout=60):
    """The forge's statuses of SHA once it holds N of them and no other
    comes within a moment."""
    poll(lambda: len(fake.statuses_of(sha)) >= n, timeout)
    time.sleep(1)
    return fake.statuses_of(sha)


def result(spool, student, version, timeout=60):
    path = spool.path("results", COURSE, ASG, student, str(version), "results.json")
    assert poll(lambda: os.path.exists(path), timeout), \
        f"no result for {student} version {version}\n{spool.log_text()[-3000:]}"
    with open(path) as f:
        return json.load(f)


def versions(spool, student):
    d = spool.path("submissions", COURSE, ASG, student)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def pushes(spool, state):
    d = spool.path("pushes", state)
    return sorted(n for n in os.listdir(d) if n.endswith(".json")) if os.path.isdir(d) else []


# ---- GitHub ----------------------------------------------------------------

def test_github_push_graded_and_statuses_posted(pipeline, github, web):  # noqa: F811
    spool = pipeline()
    w = setup_github(spool, github, web)
    w.repos_base = spool.base
    sha, status, text = push_github(w, github, "hw1-octo-ada", "right", delivery="d-right")
    assert (status, text) == (202, "queued: github-d-right\n")
    r = result(spool, "ada", 1)
    assert (r["score"], r["max_score"]) == (2, 2)
    assert r["assay"]["status"] == "graded"
    got = statuses(github, sha, 2)
    assert [(s["state"], s["description"]) for s in got] == [
        ("pending", "Queued for grading"), ("success", "Points 2/2")]
    for s in got:
        assert s["context"] == "assay/hw1"
        assert s["target_url"] == "https://assay.example.edu/course/cs101/hw1/student/ada"
        assert s["repo"] == f"{ORG}/hw1-octo-ada"
    # a second push, wrong this time: its own commit gets failure
    sha2, status, _ = push_github(w, github, "hw1-octo-ada-2", "wrong")
    assert status == 202   # hw1-octo-ada-2: student octo-ada-2 (no mapping: the name as is)
    r = result(spool, "octo-ada-2", 1)
    assert r["score"] == 0
    assert [(s["state"], s["description"]) for s in statuses(github, sha2, 2)] == [
        ("pending", "Queued for grading"), ("failure", "Points 0/2")]
    assert github.archive_gets == 2
    assert len(pushes(spool, "done")) == 2 and not pushes(spool, "incoming")
    # neither the secret nor the token is anywhere in the spool
    for root, _, files in os.walk(spool.root):
        for name in files:
            path = os.path.join(root, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    data = f.read()
                assert github.token.encode() not in data and SECRET.encode() not in data, path


def test_forged_signature_refused_nothing_done(pipeline, github, web):  # noqa: F811
    spool = pipeline()
    w = setup_github(spool, github, web)
    w.repos_base = spool.base
    sha, zipped = make_repo(spool.base, "hw1-octo-ada", {"hello.py": VARIANTS["right"][0]})
    github.add_archive(f"{ORG}/hw1-octo-ada", sha, zipped)
    body = github_event(f"{ORG}/hw1-octo-ada", sha)
    status, text = w.post("/hooks/github", github_headers(body, "d-forged", secret="guess"),
                          body)
    assert status == 401
    assert text == "X-Hub-Signature-256 does not match the body signed with the secret\n"
    headers = github_headers(body, "d-unsigned")
    del headers["X-Hub-Signature-256"]
    status, _ = w.post("/hooks/github", headers, body)
    assert status == 401
    time.sleep(2)   # whatever would have happened has had time to
    refused = [l for l in spool.log_lines() if "GitHub webhook refused" in l.message]
    assert [(l.level, l.message) for l in refused] == [
        ("warning", "GitHub webhook refused (delivery d-forged): X-Hub-Signature-256 does not "
                    "match the body signed with the secret; nothing was read or queued"),
        ("warning", "GitHub webhook refused (delivery d-unsigned): no X-Hub-Signature-256 "
                    "header (set the webhook's secret on GitHub); nothing was read or queued")]
    assert SECRET not in spool.log_text()
    assert github.requests == [] and versions(spool, "ada") == []
    assert pushes(spool, "incoming") == [] and pushes(spool, "done") == []


def test_redelivery_graded_once(pipeline, github, web):  # noqa: F811
    spool = pipeline()
    w = setup_github(spool, github, web)
    w.repos_base = spool.base
    sha, zipped = make_repo(spool.base, "hw1-octo-ada", {"hello.py": VARIANTS["right"][0]})
    github.add_archive(f"{ORG}/hw1-octo-ada", sha, zipped)
    body = github_event(f"{ORG}/hw1-octo-ada", sha)
    answers = [w.post("/hooks/github", github_headers(body, "d-again"), body) for _ in range(3)]
    assert answers[0] == (202, "queued: github-d-again\n")
    assert answers[1][0] == 200 and answers[2][0] == 200
    assert result(spool, "ada", 1)["score"] == 2
    # and once more after it was graded
    assert w.post("/hooks/github", github_headers(body, "d-again"), body)[0] == 200
    assert len(statuses(github, sha, 2)) == 2
    assert versions(spool, "ada") == ["1"]
    assert github.archive_gets == 1


def test_unmapped_repo_accepted_nothing_graded(pipeline, github, web):  # noqa: F811
    spool = pipeline()
    w = setup_github(spool, github, web)
    body = github_event("someone-else/hw1-octo-ada", "a" * 40)
    status, text = w.post("/hooks/github", github_headers(body, "d-unmapped"), body)
    assert status == 202
    assert text.startswith("not graded: no course maps the GitHub repository "
                           "someone-else/hw1-octo-ada")
    body = github_event(f"{ORG}/hw1-octo-ada", "b" * 40, ref="refs/heads/experiment")
    status, text = w.post("/hooks/github", github_headers(body, "d-branch"), body)
    assert (status, text) == (202, "not graded: only pushes to the default branch (main) are\n")
    ping = b'{"zen": "Design for failure.", "hook_id": 1}'
    assert w.post("/hooks/github", github_headers(ping, "d-ping", event="ping"), ping)[0] == 200
    time.sleep(2)
    lines = [l for l in spool.log_lines() if "not graded" in l.message and "GitHub push" in l.message]
    assert len(lines) == 2 and lines[0].level == "warning"
    assert github.requests == [] and pushes(spool, "incoming") == []
    assert not os.path.isdir(spool.path("submissions", COURSE))


@pytest.mark.parametrize("case", ["symlink out", "huge file", "deep tree"])
def test_hostile_repo_refused_with_a_clear_status(pipeline, github, web, case):  # noqa: F811
    spool = pipeline()
    w = setup_github(spool, github, web, max_archive_mb=1)
    w.repos_base = spool.base
    files, links = {"hello.py": VARIANTS["right"][0]}, None
    if case == "symlink out":
        links = {"notes.txt": "/etc/shadow"}
    elif case == "huge file":
        files["data.bin"] = os.urandom(3 << 20)    # does not compress: over 1 MB zipped
    else:
        files["/".join(["d"] * 70) + "/deep.txt"] = "x"
    sha, status, _ = push_github(w, github, "hw1-octo-ada", files=files, links=links)
    assert status == 202
    got = statuses(github, sha, 1)
    assert len(got) == 1 and got[0]["state"] == "failure"
    desc = got[0]["description"]
    assert desc.startswith(f"Assay refused the commit {sha[:12]}: ")
    want = {"symlink out": "link", "huge file": "larger than 1 MB",
            "deep tree": "deep"}[case]
    assert want in desc, desc
    assert versions(spool, "ada") == []
    assert len(pushes(spool, "failed")) == 1
    name = pushes(spool, "failed")[0][:-5]
    with open(spool.path("pushes", "failed", name + ".reason")) as f:
        assert f.read().startswith(f"Assay refused the commit {sha[:12]}: ")
    assert any(l.level == "error" and "not graded: Assay refused the commit" in l.message
               for l in spool.log_lines())


# ---- GitLab ----------------------------------------------------------------

def gitlab_event(project_id, path, sha):
    return json.dumps({"object_kind": "push", "event_name": "push", "ref": "refs/heads/main",
                       "before": "0" * 40, "after": sha, "checkout_sha": sha,
                       "user_username": "octo-ada", "project_id": project_id,
                       "project": {"id": project_id, "path_with_namespace": path,
                                   "default_branch": "main"}}).encode()


def test_gitlab_push_graded_statuses_and_wrong_token(pipeline, gitlab, web):  # noqa: F811
    spool = pipeline()
    block = {"secret_file": private_file(os.path.join(spool.base, "gl.secret"), GL_SECRET),
             "token_file": private_file(os.path.join(spool.base, "gl.token"), gitlab.token),
             "api_url": gitlab.api_url, "result_url": RESULT_URL}
    w = start_course(spool, {"gitlab": block}, {"gitlab": GROUP, "students": {"octo-ada": "ada"}}, web)
    sha, zipped = make_repo(spool.base, "hw1-octo-ada", {"hello.py": VARIANTS["right"][0]})
    gitlab.add_archive(77, sha, zipped)
    body = gitlab_event(77, f"{GROUP}/hw1-octo-ada", sha)
    headers = {"X-Gitlab-Event": "Push Hook", "Idempotency-Key": "gl-key-1",
               "X-Gitlab-Token": "not-the-token"}
    assert w.post("/hooks/gitlab", headers, body)[0] == 401
    # a payload it cannot grade is still 2xx: GitLab disables a hook after 4xx
    headers["X-Gitlab-Token"] = GL_SECRET
    assert w.post("/hooks/gitlab", dict(headers, **{"Idempotency-Key": "gl-x"}), b"{}")[0] == 200
    assert w.post("/hooks/gitlab", headers, body) == (202, "queued: gitlab-gl-key-1\n")
    assert w.post("/hooks/gitlab", headers, body)[0] == 200
    r = result(spool, "ada", 1)
    assert (r["score"], r["max_score"]) == (2, 2)
    got = statuses(gitlab, sha, 3)
    assert [(s["state"], s["description"]) for s in got] == [
        ("pending", "Queued for grading"), ("running", "Grading"), ("success", "Points 2/2")]
    assert all(s["name"] == "assay/hw1" and s["project"] == 77 for s in got)
    assert versions(spool, "ada") == ["1"] and gitlab.archive_gets == 1
    refused = [l for l in spool.log_lines() if "GitLab webhook refused" in l.message]
    assert len(refused) == 1 and GL_SECRET not in spool.log_text()
