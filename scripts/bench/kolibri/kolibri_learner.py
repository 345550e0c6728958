"""One Kolibri 0.19 learner's browser, for the side-by-side benchmark.

It is answers.py's learner (the same session, recording, storm and loop) with Kolibri's sign-in
and Kolibri's learner API calls in place of our pages, so both servers are measured by the same
client code. The calls are the ones Kolibri's own learner app makes:

- sign in: GET the sign-in page ``/en/auth/`` (it sets the CSRF cookie), then POST
  ``/api/auth/session/`` with username, password and facility;
- ``light``: GET ``/learn/api/state/``, the cheapest authenticated call of the Learn app;
- ``home``: GET ``/learn/api/homehydrate/``, the data of a learner's Learn home page;
- ``heartbeat``: PUT ``/api/auth/session/current/`` ``{"active": true}``, the browser's presence
  call (our hub has none);
- ``answer``: an exercise is opened with POST ``/api/logger/trackprogress/``, then each answer is
  one PUT ``/api/logger/trackprogress/<session>/`` with one interaction; after 5 answers the next
  exercise is opened. The exercise's own pages come from its channel's static files, which this
  classroom has none of (its lessons name made-up content ids), so they are not requested;
- ``classroom``: each step is an answer (60 %), the home data (25 %) or a heartbeat (15 %).
The learner pauses for the think time after every step.
"""

from __future__ import annotations

import time
from typing import Any

from scripts.bench import answers as bench
from scripts.bench.answers import LearnerError, timed
from scripts.bench.kolibri.classroom import made_up_resource, password_for

ANSWERS_PER_EXERCISE = 5
LABELS = {
    "light": "GET /learn/api/state/ (light)",
    "home": "GET /learn/api/homehydrate/ (home)",
    "heartbeat": "PUT /api/auth/session/current/ (heartbeat)",
    "open": "POST /api/logger/trackprogress/ (open exercise)",
    "answer": "PUT /api/logger/trackprogress/<id>/ (answer)",
}


class KolibriLearner(bench.Learner):
    def __init__(self, n: int, learners: int, port: int, stats: bench.Stats, facility: str,
                 think: tuple[float, float], seed: int, mode: str, right: float = 0.7) -> None:
        username = f"learner{n % learners + 1:02d}"
        super().__init__(n, {"username": username}, port, stats, None, think, right, "json", seed)  # type: ignore[arg-type]
        self.username, self.facility, self.mode = username, facility, mode
        self.exercise: str | None = None
        self.answered = 0
        self.resource = n

    def _csrf(self) -> dict[str, str]:
        return {"X-CSRFToken": self.session.cookies.get("kolibri_csrftoken") or "", "Accept": "application/json"}

    def sign_in(self, label: str = "login") -> None:
        self.session.cookies.clear()
        started = time.perf_counter()
        timed(self.stats, self.session, f"{label} GET", "GET", "/en/auth/", headers={"Accept": "text/html"})
        timed(self.stats, self.session, f"{label} POST", "POST", "/api/auth/session/", headers=self._csrf(),
              json={"username": self.username, "password": password_for(self.username), "facility": self.facility})
        with self.stats.lock:
            self.stats.logins.append(time.perf_counter() - started)
        self.signed_in = True

    def step(self, deadline: float) -> None:
        mode = self.mode
        if mode == "classroom":
            pick = self.rng.random()
            mode = "answer" if pick < 0.60 else "home" if pick < 0.85 else "heartbeat"
        if mode == "light":
            timed(self.stats, self.session, LABELS["light"], "GET", "/learn/api/state/", headers=self._csrf())
        elif mode == "home":
            timed(self.stats, self.session, LABELS["home"], "GET", "/learn/api/homehydrate/", headers=self._csrf())
        elif mode == "heartbeat":
            timed(self.stats, self.session, LABELS["heartbeat"], "PUT", "/api/auth/session/current/",
                  headers=self._csrf(), json={"active": True})
        else:
            self._answer()
        self.think(deadline)

    def _answer(self) -> None:
        if self.exercise is None or self.answered >= ANSWERS_PER_EXERCISE:
            self.resource = (self.resource + 1) % 10
            opened = timed(self.stats, self.session, LABELS["open"], "POST", "/api/logger/trackprogress/",
                           headers=self._csrf(), json=self._exercise(5 + self.resource))
            self.exercise, self.answered = opened.json()["session_id"], 0
        self.answered += 1
        right = self.rng.random() < self.right
        interaction: dict[str, Any] = {
            "item": f"item-{self.answered}", "correct": 1 if right else 0, "complete": True, "time_spent": 8.0,
            "answer": {"response": "12" if right else "21"}, "simple_answer": "12" if right else "21"}
        try:
            timed(self.stats, self.session, LABELS["answer"], "PUT", f"/api/logger/trackprogress/{self.exercise}/",
                  headers=self._csrf(),
                  json={"progress_delta": 0.2, "time_spent_delta": 8.0, "interactions": [interaction]})
        except LearnerError:
            self.exercise = None
            raise

    @staticmethod
    def _exercise(n: int) -> dict[str, Any]:
        resource = made_up_resource(n)
        return {"node_id": resource["contentnode_id"], "content_id": resource["content_id"],
                "channel_id": resource["channel_id"], "kind": "exercise",
                "mastery_model": {"type": "m_of_n", "m": 3, "n": ANSWERS_PER_EXERCISE}}
