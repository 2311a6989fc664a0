"""The web console in a real browser: headless Chromium (Debian's chromium
and chromium-driver, driven with python3-selenium) against a real
assay-web on a spool whose scheduler, shippers and workers grade for real.

An instructor signs in, starts "Grade all", watches the live progress
reach 100 %, opens the submission that failed and finds its reason, and
downloads the CSV; a student signs in and sees only their own result,
with the hidden test summed and never shown.  A screenshot of every page
is kept in the test's directory (printed at the end).
"""
import csv
import os
import shutil

import pytest

from assay_helpers import make_tempdir, remove_tempdir
from pipeline import HI_TEST, assignment_doc, pipeline  # noqa: F401  (the fixture)
from web import PASSWORD, Web, add_user

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HIDDEN = dict(HI_TEST, name="secret check", points=1, visibility="hidden",
              expected_stdout="hi", compare="contains")
# student -> (hello.py or None for a submission without it, score of 3)
STUDENTS = {"sam": ("print('hi')\n", 3), "bob": ("print('bye')\n", 0),
            "cy": (None, 0)}


def browser(downloads, tmp):
    """Headless Chromium saving downloads in DOWNLOADS; its profile and the
    files it keeps in $TMPDIR (a singleton socket it never removes) go to
    TMP, which the test removes."""
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1200,1600", f"--user-data-dir={tmp}/profile"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": downloads,
                                           "download.prompt_for_download": False})
    service = webdriver.chrome.service.Service(CHROMEDRIVER, env=dict(os.environ, TMPDIR=tmp))
    return webdriver.Chrome(service=service, options=opts)


class Shots:
    def __init__(self, driver, where):
        self.driver, self.where, self.n = driver, where, 0
        os.makedirs(where, exist_ok=True)

    def take(self, name):
        self.n += 1
        self.driver.save_screenshot(os.path.join(self.where, f"{self.n:02d}-{name}.png"))


def sign_in(driver, url, user):
    driver.get(url + "/login")
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "signin").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)


def setup_course(spool):
    spool.two_workers(slots=1)
    spool.add_assignment("cs1", "hw", assignment_doc([HI_TEST, HIDDEN]))
    with open(spool.path("courses", "cs1", "course.json"), "w") as f:
        f.write('{"instructors": ["ada"]}\n')
    for name in ("ada", *STUDENTS):
        add_user(spool, name)
    spool.start()
    spool.wait_running(slots=2, daemons=2)
    for student, (code, score) in STUDENTS.items():
        files = {"hello.py": code} if code else {"other.py": "print('hi')\n"}
        job, r = spool.submit_wait("cs1", "hw", student,
                                   spool.make_submission(student, files), timeout=90)
        assert r["score"] == score, (student, r)


def test_instructor_and_student_in_chromium(pipeline, tmp_path):  # noqa: F811
    spool = pipeline()
    setup_course(spool)
    web = Web(spool)
    downloads = str(tmp_path / "downloads")
    os.makedirs(downloads)
    shots_dir = str(tmp_path / "screenshots")
    chrome_tmp = make_tempdir("assay-chrome-")
    driver = browser(downloads, chrome_tmp)
    shots = Shots(driver, shots_dir)
    try:
        sign_in(driver, web.url, "ada")
        shots.take("instructor-home")
        driver.find_element(By.LINK_TEXT, "cs1").click()
        driver.find_element(By.LINK_TEXT, "hw").click()
        shots.take("assignment-before")
        driver.find_element(By.ID, "grade-all").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "flash"))
        assert "grade all: queued 3 submissions" in driver.find_element(By.ID, "flash").text
        WebDriverWait(driver, 180, poll_frequency=0.5).until(
            lambda d: "3/3 (100 %)" in d.find_element(By.ID, "progress-text").text)
        assert driver.find_element(By.ID, "progress").get_attribute("data-finished") == "1"
        shots.take("assignment-graded")
        driver.refresh()
        failures = driver.find_element(By.ID, "failures").text
        assert "submission" in failures and "hello.py" in failures, failures
        hist = driver.find_element(By.ID, "histogram").text
        assert "2 graded" in driver.page_source or hist
        # the failed submission and its reason
        driver.find_element(By.ID, "failures").find_element(By.LINK_TEXT, "cy").click()
        shots.take("failed-submission")
        err = driver.find_element(By.ID, "instructor-view").find_element(
            By.CLASS_NAME, "result-error").text
        assert "Error (submission)" in err and "hello.py" in err, err
        assert driver.find_element(By.ID, "student-view")
        assert "worker" in driver.find_element(By.ID, "graded-by").text
        # the CSV
        driver.back()
        driver.find_element(By.ID, "export").click()
        path = os.path.join(downloads, "cs1-hw.csv")
        WebDriverWait(driver, 30).until(lambda d: os.path.exists(path))
        with open(path) as f:
            rows = {r["student"]: r for r in csv.DictReader(f)}
        assert sorted(rows) == sorted(STUDENTS)
        for student, (code, score) in STUDENTS.items():
            assert float(rows[student]["score"]) == score and float(rows[student]["max"]) == 3
            assert rows[student]["status"] == ("graded" if code else "error")
        # the student: only their own result, the hidden test summed
        driver.delete_all_cookies()
        sign_in(driver, web.url, "sam")
        shots.take("student-home")
        mine = driver.find_element(By.ID, "my-results").text
        assert "hw" in mine and "3 / 3" in mine, mine
        assert "bob" not in driver.page_source and "cy" not in mine
        driver.find_element(By.LINK_TEXT, "hw").click()
        shots.take("student-result")
        view = driver.find_element(By.ID, "student-view").text
        assert "Hidden tests: 1 of 1 points." in view, view
        assert "secret check" not in driver.page_source
        assert not driver.find_elements(By.ID, "instructor-view")
        assert not driver.find_elements(By.ID, "job-log")
        driver.get(web.url + "/course/cs1/hw/student/bob")
        shots.take("student-refused")
        assert "403" in driver.find_element(By.TAG_NAME, "h1").text
        driver.get(web.url + "/course/cs1/hw")
        assert "403" in driver.find_element(By.TAG_NAME, "h1").text
        # readable on a phone: the student's page at a phone's width
        driver.set_window_size(390, 844)
        driver.get(web.url + "/course/cs1/hw/student/sam")
        shots.take("student-result-phone")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 400, f"the page is {width} px wide on a 390 px screen"
    finally:
        driver.quit()
        remove_tempdir(chrome_tmp)
        print(f"\nscreenshots of the web console: {shots_dir}")
        assert web.stop() == 0
