"""The benchmark's classroom inside a provisioned Kolibri: run by Kolibri's own Django shell.

    kolibri manage shell -c "import runpy; runpy.run_path('scripts/bench/kolibri/classroom.py', run_name='__main__')"

with BENCH_LEARNERS (default 40) in the environment. It makes, in the device's facility: one
class, one coach of that class, BENCH_LEARNERS learners enrolled in it (usernames learner01...,
passwords from ``password_for``), two active lessons of five resources each and one active quiz,
both assigned to the class. The lessons name made-up content ids: no channel is imported, so
Kolibri's learner home lists them without fetching content, as the Kolibri figures in
docs/performance.md always did. It imports nothing of ours (it runs in Kolibri's virtualenv) and
prints one JSON line with what it made. side_by_side.py imports ``password_for`` from here.
"""

import json
import os

CLASS_NAME = "Class 5A"
FAKE_CHANNEL = "c" * 32


def password_for(username):
    """The password of a benchmark account: never a real one, the same in side_by_side.py."""
    return "bench-" + username


def made_up_resource(n):
    return {"contentnode_id": f"{0xA000 + n:032x}", "content_id": f"{0xB000 + n:032x}",
            "channel_id": FAKE_CHANNEL}


def build(learners):
    from kolibri.core.auth.models import Classroom, Facility, FacilityUser
    from kolibri.core.exams.models import Exam, ExamAssignment
    from kolibri.core.lessons.models import Lesson, LessonAssignment

    facility = Facility.get_default_facility()
    classroom = Classroom.objects.create(name=CLASS_NAME, parent=facility)
    coach = FacilityUser.objects.create_user("coach1", password=password_for("coach1"), facility=facility,
                                             full_name="Bench Coach")
    classroom.add_coach(coach)
    for n in range(1, learners + 1):
        username = f"learner{n:02d}"
        learner = FacilityUser.objects.create_user(username, password=password_for(username), facility=facility,
                                                   full_name=f"Learner {n:02d}")
        classroom.add_member(learner)
    for number in (1, 2):
        lesson = Lesson.objects.create(title=f"Lesson {number}", collection=classroom, created_by=coach,
                                       is_active=True,
                                       resources=[made_up_resource(5 * number + k) for k in range(5)])
        LessonAssignment.objects.create(lesson=lesson, collection=classroom, assigned_by=coach)
    quiz = Exam.objects.create(title="Quiz 1", question_count=0, question_sources=[], collection=classroom,
                               creator=coach, active=True)
    ExamAssignment.objects.create(exam=quiz, collection=classroom, assigned_by=coach)
    return {"facility": facility.id, "class": classroom.id, "learners": learners,
            "lessons": Lesson.objects.count(), "quizzes": Exam.objects.count()}


if __name__ == "__main__":
    print("BENCH_CLASSROOM " + json.dumps(build(int(os.environ.get("BENCH_LEARNERS", "40")))))
