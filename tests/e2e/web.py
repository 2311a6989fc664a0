"""Helpers for the tests of assay-web: start it on a spool (port 0, the
port read from its first line of output), and a small HTTP client that
keeps cookies, follows no redirect and signs in through the real form.
"""
import http.client
import json
import os
import re
import signal
import subprocess
import urllib.parse

from assay_helpers import exe, wait_for

PASSWORD = "correct horse 1"


class Web:
    """One assay-web on SPOOL (a pipeline Spool), started with port 0."""

    def __init__(self, spool, config=None):
        self.spool = spool
        if config is not None:
            with open(spool.path("web.json"), "w") as f:
                json.dump(config, f)
        self.out_path = os.path.join(spool.base, "web.out")
        self.err = open(os.path.join(spool.base, "web.err"), "wb")
        self.proc = subprocess.Popen([exe("assay-web"), "--spool", spool.root, "--listen",
                                      "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening on (http://127\.0\.0\.1:(\d+))$", line.strip())
        assert m, f"assay-web said {line!r}; stderr: {self.stderr()}"
        self.url, self.port = m.group(1), int(m.group(2))

    def stderr(self):
        self.err.flush()
        with open(os.path.join(self.spool.base, "web.err"), errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        return self.proc.returncode

    def client(self, source=None):
        return Client(self.port, source)


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def cookies(self):
        out = {}
        for k, v in self.headers:
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                out[name] = rest.split(";")[0]
        return out


class Client:
    """A browser-like client: cookies kept, redirects not followed."""

    def __init__(self, port, source=None):
        self.port = port
        self.source = source      # the local address to connect from (a proxy's)
        self.cookies = {}

    def request(self, method, path, form=None, headers=None, body=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items() if v)
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                       source_address=(self.source, 0) if self.source else None)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            resp = Response(r.status, r.getheaders(), r.read())
        finally:
            c.close()
        for k, v in resp.cookies().items():
            self.cookies[k] = v
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form=None, **kw):
        return self.request("POST", path, form=form, **kw)

    def csrf(self, path="/"):
        """The session's CSRF token, from a form on PATH."""
        m = re.search(r'name="csrf" value="([0-9a-f]{64})"', self.get(path).text)
        assert m, f"no CSRF token on {path}"
        return m.group(1)

    def login(self, user, password=PASSWORD):
        page = self.get("/login")
        if page.status == 303 and "assay_login" in self.cookies:
            token = self.cookies["assay_login"]   # signed in already: the form's token
        else:
            assert page.status == 200, page.text
            token = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)
        return self.post("/login", {"csrf": token, "user": user, "password": password,
                                    "next": "/"})

    def post_form(self, path, form=None, page="/"):
        """POST with the session's CSRF token, as a form on PAGE would."""
        return self.post(path, {"csrf": self.csrf(page), **(form or {})})


def add_user(spool, name, admin=False, password=PASSWORD):
    args = ["users", "add", name] + (["--admin"] if admin else [])
    p = spool.assay(*args, input=password + "\n")
    assert p.returncode == 0, p.stderr
    return name


def wait_port_closed(web):
    wait_for("assay-web to stop", lambda: not web.alive(), timeout=10)
