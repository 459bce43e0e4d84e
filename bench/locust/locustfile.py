"""Persona load on a seeded database (``oncotrials seed``): run by ``bench/load.sh``.

Each persona (demo user) logs in once and discovers the objects it may see through the API once;
its simulated users share that session (``bench/load.sh`` resets the statistics once every user
has started, so the figures are the steady state) and loop over the pages the role opens most,
with a think time of 1-3 s between requests:

- research nurse: the work list, the patient list, a patient page;
- investigator: the home page, a cohort's escalation page, a patient page, the portfolio;
- data manager: the data queries, the casebook list, a casebook;
- sponsor monitor (one trial): the casebooks and data queries of its trial (SDV);
- API reader (data manager's session): paged API lists (patients, registrations, trials,
  adverse events) and one patient.

Environment: ``LOAD_PASSWORD`` (the demo personas' password by default).
"""

from __future__ import annotations

import os
import random
import re
from typing import Any, ClassVar

from gevent.lock import Semaphore

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "oncotrials-demo-2026")


class Persona(HttpUser):
    abstract = True
    username = ""
    wait_time = between(1, 3)
    # One login and one discovery per persona, shared by its simulated users: a password hash
    # costs about a second of server CPU, and the steady state (pages) is what is measured.
    _shared: ClassVar[dict[str, dict[str, Any]]] = {}
    _lock: ClassVar[Semaphore] = Semaphore()

    def on_start(self) -> None:
        with Persona._lock:
            shared = Persona._shared.get(self.username)
            if shared is None:
                shared = self._login_and_discover()
                Persona._shared[self.username] = shared
        self.client.cookies.update(shared["cookies"])
        self.patients: list[int] = shared["patients"]
        self.registrations: list[int] = shared["registrations"]
        self.cohorts: list[int] = shared["cohorts"]

    def _login_and_discover(self) -> dict[str, Any]:
        page = self.client.get("/login/", name="login page")
        token = self.client.cookies.get("csrftoken") or _csrf(page.text)
        r = self.client.post(
            "/login/",
            data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/login/"},
            name="login",
            allow_redirects=False,
        )
        if r.status_code != 302:
            raise RuntimeError(f"login of {self.username} failed: {r.status_code}")
        patients = _ids(self.client.get("/api/v1/patients?page_size=100", name="api: ids"))
        registrations = _ids(
            self.client.get("/api/v1/registrations?page_size=100", name="api: ids")
        )
        trials = _ids(self.client.get("/api/v1/trials?page_size=100", name="api: ids"))
        cohorts: list[int] = []
        for t in trials[:10]:  # escalation cohorts only: the others have no escalation page
            r = self.client.get(f"/api/v1/trials/{t}/cohorts", name="api: ids")
            cohorts += _ids(r, kind="escalation")
        return {
            "cookies": dict(self.client.cookies),
            "patients": patients,
            "registrations": registrations,
            "cohorts": cohorts,
        }

    def get(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")


def _csrf(html: str) -> str:
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return m.group(1) if m else ""


def _ids(response: Any, **match: str) -> list[int]:
    if response.status_code != 200:
        return []
    body = response.json()
    items = body["items"] if isinstance(body, dict) and "items" in body else body
    return [
        int(i["id"])
        for i in items
        if isinstance(i, dict) and "id" in i and all(i.get(k) == v for k, v in match.items())
    ]


class Nurse(Persona):
    weight = 3
    username = "nurse"

    @task(5)
    def worklist(self) -> None:
        self.get("/worklists/", "nurse: work list")

    @task(2)
    def patients(self) -> None:
        self.get("/patients/", "nurse: patient list")

    @task(3)
    def patient(self) -> None:
        if self.patients:
            self.get(f"/patients/{random.choice(self.patients)}/", "patient page")


class Investigator(Persona):
    weight = 2
    username = "investigator"

    @task(3)
    def home(self) -> None:
        self.get("/", "investigator: home")

    @task(3)
    def escalation(self) -> None:
        if self.cohorts:
            self.get(f"/cohorts/{random.choice(self.cohorts)}/escalation/", "escalation page")

    @task(2)
    def patient(self) -> None:
        if self.patients:
            self.get(f"/patients/{random.choice(self.patients)}/", "patient page")

    @task(1)
    def portfolio(self) -> None:
        self.get("/trials/", "investigator: portfolio")


class DataManager(Persona):
    weight = 2
    username = "datamanager"

    @task(4)
    def queries(self) -> None:
        self.get("/crfs/queries/", "data queries")

    @task(2)
    def casebooks(self) -> None:
        self.get("/crfs/", "casebook list")

    @task(2)
    def casebook(self) -> None:
        if self.registrations:
            self.get(f"/crfs/registrations/{random.choice(self.registrations)}/", "casebook")


class Monitor(Persona):
    weight = 1
    username = "monitor"

    @task(2)
    def casebooks(self) -> None:
        self.get("/crfs/", "casebook list")

    @task(4)
    def casebook(self) -> None:
        if self.registrations:
            self.get(f"/crfs/registrations/{random.choice(self.registrations)}/", "casebook")

    @task(1)
    def queries(self) -> None:
        self.get("/crfs/queries/", "data queries")


class ApiReader(Persona):
    weight = 2
    username = "datamanager"

    @task(3)
    def patients(self) -> None:
        page = random.randint(1, 20)
        self.get(f"/api/v1/patients?page={page}&page_size=100", "api: patients")

    @task(2)
    def registrations(self) -> None:
        self.get("/api/v1/registrations?page_size=100", "api: registrations")

    @task(1)
    def trials(self) -> None:
        self.get("/api/v1/trials?page_size=100", "api: trials")

    @task(1)
    def adverse_events(self) -> None:
        self.get("/api/v1/safety/adverse-events?page_size=100", "api: adverse events")

    @task(2)
    def patient(self) -> None:
        if self.patients:
            self.get(f"/api/v1/patients/{random.choice(self.patients)}", "api: patient")
