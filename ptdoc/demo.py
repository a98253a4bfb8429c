"""A realistic demo clinic: users of every role, 24 patients, episodes and months of visits.

Dates are relative to ``today`` so the demo always looks current. Most past visits are signed
and clean; the latest visits of some patients are drafts, and a few drafts carry the gaps the
rules flag (97162 billed for exercise, missing parameters, no response, a modification without
its reason, aide time billed). Everything goes through the services, so the demo obeys the same
validation, permissions and signing as real use. Seeded: the same day gives the same clinic.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from ptdoc import paths
from ptdoc.access import SignerProof
from ptdoc.catalog import payer_from_profile
from ptdoc.clock import zone
from ptdoc.domain import (
    Acknowledgement,
    Assistance,
    Clinic,
    Credential,
    Cue,
    DeliveryMode,
    Episode,
    ExerciseChange,
    LoadUnit,
    NoteType,
    Patient,
    Payer,
    PayerProfile,
    Provider,
    ServiceLine,
    Session,
    Side,
    SupervisorAvailability,
    User,
)
from ptdoc.icd_index import KnownCodes
from ptdoc.identifiers import npi_with_check_digit
from ptdoc.library import LibraryExercise, shipped_library
from ptdoc.services import Workspace
from ptdoc.store import Store

DEMO_PASSWORD = "demo1234"
# Springfield, Illinois: the demo shows every time in US Central time.
DEMO_TIME_ZONE = "America/Chicago"

USERS = [  # username, full name, credential, NPI stem (9 digits) or None
    ("admin", "Dana Whitfield", Credential.ADMIN, None),
    ("mchen", "Maria Chen", Credential.DPT, "154820193"),
    ("jokafor", "James Okafor", Credential.PT, "167302948"),
    ("lrivera", "Luis Rivera", Credential.PTA, "182736450"),
    ("tnguyen", "Tam Nguyen", Credential.AIDE, None),
    ("pkim", "Pat Kim", Credential.FRONT_DESK, None),
]

PAYERS = [("Medicare Part B", "medicare"), ("Sunrise Medicare Advantage", "medicare_advantage"),
          ("State Medicaid", "medicaid"), ("Blue Harbor PPO", "commercial"),
          ("Atlas Health HMO", "commercial")]

# Illustrative allowed amounts per unit for the year-to-date (KX) total; a clinic enters its
# own Medicare fee schedule.
DEMO_FEES = {"97110": "29.50", "97112": "33.80", "97116": "29.10", "97140": "27.40",
             "97530": "35.60", "97161": "101.20", "97162": "101.20", "97163": "101.20",
             "97164": "68.90", "97010": "0", "97150": "18.40"}

# The diagnoses the demo uses, so building it never waits for the full ICD-10-CM index.
DEMO_CODES = {
    "M17.11": "Unilateral primary osteoarthritis, right knee",
    "Z47.1": "Aftercare following joint replacement surgery",
    "Z96.651": "Presence of right artificial knee joint",
    "M75.41": "Impingement syndrome of right shoulder",
    "M54.50": "Low back pain, unspecified",
    "S83.511D": "Sprain of anterior cruciate ligament of right knee, subsequent encounter",
    "S93.401D": "Sprain of unspecified ligament of right ankle, subsequent encounter",
    "S42.201D": "Unspecified fracture of upper end of right humerus, subsequent encounter "
                "for fracture with routine healing",
    "M48.061": "Spinal stenosis, lumbar region without neurogenic claudication",
    "M62.81": "Muscle weakness (generalized)",
    "M54.2": "Cervicalgia",
}
KX_REASON = ("Continued skilled therapy is medically necessary: the patient is progressing but "
             "has not met the plan-of-care goals (see assessment).")

PATIENTS = [  # first, last, birth year
    ("Eleanor", "Whitaker", 1948), ("Harold", "Jensen", 1951), ("Rosa", "Delgado", 1957),
    ("Samuel", "Okonkwo", 1962), ("Margaret", "O'Brien", 1944), ("Wei", "Zhang", 1969),
    ("Zoë", "Ångström", 1985), ("Dmitri", "Volkov", 1959), ("Aisha", "Rahman", 1990),
    ("Thomas", "Becker", 1953), ("Linda", "Nakamura", 1966), ("George", "Papadopoulos", 1946),
    ("Priya", "Venkataraman", 1978), ("Frank", "Kowalski", 1950), ("Maribel", "Castillo", 1972),
    ("Robert", "Lindqvist", 1942), ("Naledi", "Dlamini", 1988), ("Henry", "Fairbanks", 1955),
    ("Sofia", "Moretti", 1981), ("Kenji", "Watanabe", 1949), ("Yusuf", "Demir", 1964),
    ("Grace", "Mbeki", 1975), ("Arthur", "Pennington", 1940), ("Lucía", "Fernández", 1993),
]

PHYSICIANS = [("Dr. Alan Brooks", "176543210"), ("Dr. Helen Park", "143256789"),
              ("Dr. Samir Haddad", "198765432")]


@dataclass(frozen=True)
class Condition:
    diagnoses: tuple[str, ...]
    side: Side
    exercises: tuple[str, ...]
    other_code: str  # the second timed service of a visit
    goals: tuple[str, ...]
    other_detail: str  # what was done under other_code, as the note says it


CONDITIONS = [
    Condition(("M17.11",), Side.RIGHT,
              ("Quad sets", "Straight leg raise", "Long arc quads", "Sit to stand",
               "Step ups, forward", "Mini squats", "Heel raises", "Recumbent bike"), "97140",
              ("Ascend and descend 12 stairs with one rail and no knee pain above 3/10",
               "Walk 20 minutes in the community without a rest"),
              "grade III tibiofemoral and patellar mobilizations, right knee"),
    Condition(("Z47.1", "Z96.651"), Side.RIGHT,
              ("Heel slides", "Quad sets", "Short arc quads", "Straight leg raise",
               "Sit to stand", "Knee extension stretch (prone hang)", "Recumbent bike",
               "Terminal knee extension"), "97530",
              ("Knee flexion to 110 degrees for stairs and car transfers",
               "Walk without an assistive device on level surfaces"),
              "car transfer and stair practice with a rail, right knee"),
    Condition(("M75.41",), Side.RIGHT,
              ("Pendulums", "Scapular retraction", "Rows with band", "External rotation with band",
               "Serratus wall slides", "Scaption", "Sleeper stretch", "Prone Y raises"), "97140",
              ("Reach an overhead shelf with the right arm without pain",
               "Sleep through the night without shoulder pain"),
              "grade III posterior glenohumeral glides, soft tissue mobilization, right "
              "shoulder"),
    Condition(("M54.50",), Side.NOT_APPLICABLE,
              ("Pelvic tilts", "Abdominal bracing", "Dead bug", "Bird dog", "Glute bridges",
               "Cat-camel", "Front plank", "Lower trunk rotation"), "97530",
              ("Lift a 20 lb grocery bag from floor to counter with correct mechanics",
               "Sit for 60 minutes at work with pain no higher than 2/10"),
              "floor-to-counter lifting practice, 10 lb box, hip hinge with cues"),
    Condition(("S83.511D",), Side.RIGHT,
              ("Terminal knee extension", "Single-leg stance", "Step downs, eccentric",
               "Lateral lunges", "Leg press", "Hamstring curls, machine", "BOSU squats",
               "Monster walks"), "97112",
              ("Single-leg hop test at 85% of the uninvolved side",
               "Return to recreational soccer practice"),
              "single-leg balance on foam with perturbations, right leg"),
    Condition(("S93.401D",), Side.RIGHT,
              ("Ankle alphabet", "Ankle 4-way with band", "Heel raises", "Single-leg stance",
               "Foam pad balance", "Calf stretch, gastrocnemius", "Towel scrunches",
               "Single-leg heel raises"), "97112",
              ("Stand on the right leg 30 seconds on foam", "Walk on uneven ground without "
                                                           "giving way"),
              "proprioceptive training on wobble board, right ankle"),
    Condition(("S42.201D",), Side.RIGHT,
              ("Pendulums", "Shoulder flexion AAROM with wand", "Table slides", "Pulley flexion",
               "Isometric external rotation", "Wall walks", "Grip strengthening",
               "Scapular retraction"), "97140",
              ("Shoulder flexion to 140 degrees to comb hair", "Dress the upper body "
                                                               "independently"),
              "grade II glenohumeral glides and scar mobilization, right shoulder"),
    Condition(("M48.061", "M62.81"), Side.NOT_APPLICABLE,
              ("Pelvic tilts", "Single knee to chest", "Seated marching", "Sit to stand",
               "NuStep", "Standing hip abduction", "Heel raises", "Glute bridges"), "97116",
              ("Walk 500 feet with a cane without neurogenic symptoms", "Stand 15 minutes to "
                                                                         "cook a meal"),
              "gait training with a cane, 300 ft level surfaces and curb"),
    Condition(("M54.2",), Side.NOT_APPLICABLE,
              ("Chin tucks", "Deep neck flexor endurance", "Upper trapezius stretch",
               "Scapular retraction", "Rows with band", "Open books",
               "Thoracic extension over foam roll", "Levator scapulae stretch"), "97140",
              ("Turn the head fully to check traffic while driving",
               "Work at the computer 2 hours with neck pain no higher than 2/10"),
              "grade III central PA glides C5-7 and suboccipital release"),
]

RESPONSES = ["tolerated well, no increase in symptoms", "mild quadriceps fatigue by the last set",
             "required rest breaks between sets", "form improved with cueing by the third set",
             "reported muscle burn but no joint pain", "slight compensation with trunk lean, "
                                                        "corrected with mirror feedback"]
def _goal_progress(note_type: NoteType, episode: Episode) -> str:
    """A progress report states progress toward each goal of the plan."""
    if note_type != NoteType.PROGRESS_REPORT or not episode.goals:
        return ""
    return " Progress toward goals: " + "; ".join(
        f"{goal[:1].lower()}{goal[1:]}: progressing, not yet met" for goal in episode.goals) + "."


ASSESSMENTS = [
    "Patient tolerated progression of loading without increase in pain. Improving control "
    "with less cueing; continue to progress strength and functional tasks toward goals.",
    "Gains in range and strength since last visit; still needs cueing to maintain alignment "
    "under load. Skilled progression and monitoring of response remain necessary.",
    "Pain reduced after session. Balance and endurance improving but below goal; continue "
    "plan of care with progression of dynamic tasks.",
]


@dataclass
class _Clock:
    """The demo's notion of 'now': each visit is signed on its own date of service."""

    now: dt.datetime


def build_demo(path: Path | str, today: dt.date, seed: int = 7) -> Store:
    """Create the demo clinic in a new database at ``path`` (a file not there yet, or a
    server's database holding no clinic) and return the open store."""
    if not paths.is_server_url(path) and Path(path).exists():
        # even an empty file: only a new path becomes a database
        raise FileExistsError(f"{path} already exists; the demo is only built into a new file")
    rng = random.Random(seed)
    store = Store.open(path)
    held = store.holdings()
    if held:
        store.close()
        raise FileExistsError(f"{paths.without_password(path)} already holds a clinic "
                              f"({held}); the demo is only built into an empty database")
    clock = _Clock(dt.datetime.combine(today, dt.time(12), zone(DEMO_TIME_ZONE)))
    codes = KnownCodes(DEMO_CODES)
    admin = Workspace(store, None, today=lambda: today, now=lambda: clock.now, codes=codes)
    with store.db.atomic():
        admin.save_clinic(Clinic("Riverside Physical Therapy", "1200 River Road, Suite 4, "
                                 "Springfield, IL 62704", "(217) 555-0142",
                                 npi_with_check_digit("192837465"),
                                 time_zone=DEMO_TIME_ZONE))
        users = {}
        for username, name, cred, npi in USERS:
            users[username] = admin.add_user(
                User(username, name, cred, npi_with_check_digit(npi) if npi else None),
                DEMO_PASSWORD)
        payers = [admin.add_payer(payer_from_profile(name, profile))
                  for name, profile in PAYERS]
        for year in (today.year - 1, today.year):
            for code, amount in DEMO_FEES.items():
                store.fees.set(code, year, Decimal(amount))
        library = {e.name: e for e in shipped_library()}
        spaces = {u: Workspace(store, users[u], today=lambda: today, now=lambda: clock.now,
                               codes=codes) for u in ("mchen", "jokafor", "lrivera")}
        proofs = {u: ws.prove_signer(DEMO_PASSWORD) for u, ws in spaces.items()}
        for index, (first, last, year) in enumerate(PATIENTS):
            builder = _PatientBuilder(rng, today, index, library, spaces, proofs, users, clock)
            patient = admin.add_patient(Patient(
                f"RPT-{10001 + index}", first, last,
                dt.date(year, rng.randint(1, 12), rng.randint(1, 28)),
                payers[index % len(payers)].id, f"M{rng.randint(10**7, 10**8 - 1)}"))
            builder.run(patient, payers[index % len(payers)], admin)
    return store


class _PatientBuilder:
    def __init__(self, rng: random.Random, today: dt.date, index: int,
                 library: dict[str, LibraryExercise],
                 spaces: dict[str, Workspace], proofs: dict[str, SignerProof],
                 users: dict[str, User], clock: _Clock):
        self.rng, self.today, self.index = rng, today, index
        self.library, self.spaces, self.users, self.clock = library, spaces, users, clock
        self.proofs = proofs
        self.condition = CONDITIONS[index % len(CONDITIONS)]
        self.pt = "mchen" if index % 2 == 0 else "jokafor"

    def run(self, patient: Patient, payer: Payer, admin: Workspace) -> None:
        rng = self.rng
        start = self.today - dt.timedelta(days=rng.randint(10, 75))
        physician, stem = PHYSICIANS[self.index % len(PHYSICIANS)]
        certified = start + dt.timedelta(days=rng.randint(3, 12))
        episode = admin.add_episode(Episode(
            patient.id or 0, start, diagnoses=self.condition.diagnoses, goals=self.condition.goals,
            frequency="2x/week for 10 weeks", certified_through=start + dt.timedelta(days=89),
            certified_on=certified if certified <= self.today else None,
            physician_name=physician, physician_npi=npi_with_check_digit(stem)))
        dates = self._visit_dates(start)
        draft_last = self.index % 4 == 1 or (dates[-1] == self.today and self.index % 2)
        for number, dos in enumerate(dates, start=1):
            last = number == len(dates)
            gap = self.index % 6 == 3 and last
            self._visit(patient, payer, episode, number, dos,
                        sign=not (last and (draft_last or gap)), gap=gap)
        following = self.today + dt.timedelta(days=1)
        while following.weekday() not in self._weekdays:
            following += dt.timedelta(days=1)
        if dates[-1] != self.today and self.index % 5 == 0:  # expected today, no note yet
            _book(admin, patient.id or 0, self.today, dt.time(16, 30), self.users[self.pt].id)
        slot = dt.time(8 + self.index % 9, 30 if self.index % 2 else 0)
        _book(admin, patient.id or 0, following, slot, self.users[self.pt].id)

    @property
    def _weekdays(self) -> tuple[int, int]:
        return (0, 3) if self.index % 2 == 0 else (1, 4)

    def _visit_dates(self, start: dt.date) -> list[dt.date]:
        dates, day = [], start
        while day <= self.today:
            if day.weekday() in self._weekdays or day == start:
                dates.append(day)
            day += dt.timedelta(days=1)
        if self.index % 3 == 0 and dates[-1] != self.today and self.today.weekday() < 5:
            dates.append(self.today)  # a third of the caseload is on today's schedule
        return dates

    def _visit(self, patient: Patient, payer: Payer, episode: Episode, number: int,
               dos: dt.date, sign: bool, gap: bool) -> None:
        rng = self.rng
        note_type = NoteType.EVALUATION if number == 1 else \
            NoteType.PROGRESS_REPORT if number % 10 == 0 else NoteType.DAILY
        by_pta = note_type == NoteType.DAILY and number % 3 == 0
        who = "lrivera" if by_pta else self.pt
        ws = self.spaces[who]
        self.clock.now = dt.datetime.combine(dos, dt.time(13, rng.randint(0, 59)),
                                             zone(DEMO_TIME_ZONE))
        session = ws.new_session(patient.id or 0, dos, episode.id, note_type)
        provider = Provider.PTA if by_pta else Provider.PT
        exercises = self._exercises(number, provider, 2 if number == 1 else rng.randint(4, 6))
        ex_minutes = sum(e.minutes or 0 for e in exercises)
        services = [ServiceLine("97110", ex_minutes)]
        if note_type == NoteType.EVALUATION:
            services.insert(0, ServiceLine(rng.choice(["97161", "97162", "97163"]), None,
                                           detail="history, systems review, tests and "
                                                  "measures; plan of care written"))
        else:
            other = rng.choice([8, 10, 12, 15])
            services.append(ServiceLine(self.condition.other_code, other,
                                        detail=f"{self.condition.other_detail}, {other} min"))
        if payer.profile == PayerProfile.COMMERCIAL and number % 4 == 2:
            services.append(ServiceLine("97010", 10, detail="moist heat pack after exercise, "
                                                            "10 min"))
        lines = tuple(services)
        eval_minutes = 30 if note_type == NoteType.EVALUATION else 0
        total = sum(line.minutes or 0 for line in services) + eval_minutes
        slot = dt.time(8 + (self.index % 9), 0 if self.index % 2 else 30)
        time_out = (dt.datetime.combine(dos, slot) + dt.timedelta(minutes=total + 10)).time()
        session = replace(
            session, exercises=exercises, services=lines, total_treatment_minutes=total,
            time_in=slot, time_out=time_out,
            supervised_by=self.users[self.pt].id if by_pta else None,
            supervisor_availability=SupervisorAvailability.ON_SITE if by_pta else None,
            patient_response=f"Pain {exercises[0].pain_before}/10 before and "
                             f"{exercises[0].pain_after}/10 after; {rng.choice(RESPONSES)}.",
            assessment=rng.choice(ASSESSMENTS) + _goal_progress(note_type, episode),
            home_program="Home program reviewed; patient reports doing it "
                         f"{rng.choice(['daily', '5 of 7 days', 'most days'])}.")
        session = self._as_claimed(ws, session)
        if gap:
            session = self._with_gap(session)
        ws.save_draft(session)
        if sign:
            self.clock.now += dt.timedelta(hours=4)
            ws.sign(session.id or 0, self.proofs[ws.actor.username if ws.actor else ""])

    @staticmethod
    def _as_claimed(ws: Workspace, session: Session) -> Session:
        """Units and modifiers as ptdoc computes them; a written reason for each warning."""
        judged = ws.review(session)
        claimed = {line.code: line for line in judged.claim.lines}
        services = tuple(replace(s, units=claimed[s.code].units,
                                 modifiers=claimed[s.code].modifier_codes)
                         for s in session.services)
        acks = tuple(Acknowledgement(f.code, f.field, KX_REASON) for f in judged.open_warnings)
        return replace(session, services=services, acknowledgements=acks)

    def _exercises(self, visit: int, provider: Provider, count: int) -> tuple:
        rng = self.rng
        names = rng.sample(self.condition.exercises, count)
        rows = []
        for name in names:
            base = self.library[name]
            step = visit // 3  # progress every few visits
            load = base.load + step if base.load is not None and \
                base.load_unit == LoadUnit.LB else base.load
            reps = min(base.reps + min(step, 3) * 2, 30) if base.reps else None
            progressed = visit > 1 and step > 0 and visit % 3 == 0
            pain = rng.randint(1, 5)
            rows.append(replace(
                base.entry(), side=self.condition.side, load=load, reps=reps,
                assistance=rng.choice([Assistance.INDEPENDENT, Assistance.STAND_BY,
                                       Assistance.CONTACT_GUARD]),
                cues=tuple(rng.sample([Cue.VERBAL, Cue.TACTILE, Cue.VISUAL], rng.randint(1, 2))),
                change=ExerciseChange.NEW if visit == 1 else
                (ExerciseChange.PROGRESSED if progressed else ExerciseChange.AS_BEFORE),
                modification="Increased repetitions and load" if progressed else "",
                modification_reason="Completed prior sets with good form and pain no higher "
                                    "than 3/10" if progressed else "",
                pain_before=pain, pain_after=max(0, pain - rng.randint(0, 2)),
                response=rng.choice(RESPONSES), minutes=rng.choice([5, 6, 7, 8, 10]),
                delivered_by=provider))
        return tuple(rows)

    def _with_gap(self, session: Session) -> Session:
        """One of the documentation gaps the rules catch, chosen by patient."""
        kind = (self.index // 6) % 4
        ex = list(session.exercises)
        if kind == 0:   # the source article's mistake: evaluation code for an exercise visit
            services = tuple(replace(s, code="97162", minutes=None, units=1)
                             if s.code == "97110" else s for s in session.services)
            return replace(session, services=services)
        if kind == 1:   # an exercise with no parameters
            ex[0] = replace(ex[0], sets=None, reps=None, hold_seconds=None,
                            duration_minutes=None)
        elif kind == 2:  # progression without the reason, and no response recorded
            ex[0] = replace(ex[0], change=ExerciseChange.PROGRESSED,
                            modification="Added 2 lb", modification_reason="", response="")
            return replace(session, exercises=tuple(ex), patient_response="")
        else:            # aide time counted as billable one-on-one exercise
            ex[-1] = replace(ex[-1], delivered_by=Provider.AIDE, mode=DeliveryMode.AIDE)
        return replace(session, exercises=tuple(ex))


def _book(admin, patient_id: int, day: dt.date, time: dt.time, clinician_id: int | None
          ) -> None:
    """The first half hour from ``time`` on that the clinician has free: a clinic does not
    double-book (a group visit aside)."""
    from ptdoc.errors import DoubleBooking

    minutes = time.hour * 60 + time.minute
    while True:
        try:
            admin.set_appointment(patient_id, day, dt.time(*divmod(minutes, 60)),
                                  clinician_id)
            return
        except DoubleBooking:
            minutes += 30
            if minutes >= 24 * 60:
                raise
