"""Episodes of care and their plans: a PT creates, certifies, recertifies, updates (at a
progress report) and discharges; a PTA and the PT view. Every change is kept in the plan's
append-only history with what changed, when and by whom."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields, replace
from typing import Any

from ptdoc.codec import to_plain
from ptdoc.domain import Episode
from ptdoc.errors import Problem, ValidationError
from ptdoc.identifiers import normalize_icd10
from ptdoc.permissions import Permission
from ptdoc.repositories import AuditAction, EpisodeChange
from ptdoc.services.core import WorkspaceCore

# What a progress report or recertification may change in a plan of care.
PLAN_FIELDS = ("diagnoses", "goals", "frequency", "duration", "certified_on",
               "certified_through", "order_on_file", "physician_name", "physician_npi")


class Episodes(WorkspaceCore):
    def episodes_of(self, patient_id: int) -> list[Episode]:
        """The patient's episodes, newest first (clinicians: PT, PTA)."""
        self.require(Permission.VIEW_CLINICAL, "patient", patient_id)
        self.store.patients.get(patient_id)
        return self.store.episodes.for_patient(patient_id)

    def episode_history(self, episode_id: int) -> list[EpisodeChange]:
        """What was done to the plan of care, oldest first, each field before and after."""
        self.require(Permission.VIEW_CLINICAL, "episode", episode_id)
        self.store.episodes.get(episode_id)
        return self.store.episode_history.for_episode(episode_id)

    def add_episode(self, episode: Episode, wait_for_codes: bool = True) -> Episode:
        """Open an episode under a plan of care (PT only). Diagnoses are checked against the
        ICD-10-CM code set (when it is open, or always with ``wait_for_codes``)."""
        self.require(Permission.EVALUATE)
        self.store.patients.get(episode.patient_id)
        episode = replace(episode, diagnoses=tuple(normalize_icd10(c) for c in episode.diagnoses))
        self._check_episode(episode, wait_for_codes)
        with self.store.db.atomic():
            episode = self.store.episodes.add(episode)
            self.store.draft_flags.forget_patient(episode.patient_id)
            self.store.episode_history.add(episode.id or 0, self.now(), self.actor, "create",
                                           _diff(None, episode))
            self.store.audit.record(self.actor, AuditAction.CREATE, "episode", episode.id)
        return episode

    def certify_episode(self, episode_id: int, certified_on: dt.date,
                        certified_through: dt.date | None = None,
                        order_on_file: bool | None = None) -> Episode:
        """The physician signed the plan of care on ``certified_on`` (through
        ``certified_through``, kept when not given)."""
        changes: dict[str, Any] = {"certified_on": certified_on}
        if certified_through is not None:
            changes["certified_through"] = certified_through
        if order_on_file is not None:
            changes["order_on_file"] = order_on_file
        return self.revise_episode(episode_id, "certify", **changes)

    def recertify_episode(self, episode_id: int, certified_on: dt.date,
                          certified_through: dt.date, **plan: Any) -> Episode:
        """A new certification period, with the plan's changes (goals, frequency...)."""
        return self.revise_episode(episode_id, "recertify", certified_on=certified_on,
                                   certified_through=certified_through, **plan)

    def discharge_episode(self, episode_id: int, discharged_on: dt.date) -> Episode:
        return self.revise_episode(episode_id, "discharge", discharged_on=discharged_on)

    def revise_episode(self, episode_id: int, action: str = "progress report",
                       **changes: Any) -> Episode:
        """Change the plan of care (PT only): ``action`` names why (progress report,
        certify, recertify, discharge); the history keeps each field before and after."""
        self.require(Permission.EVALUATE, "episode", episode_id)
        allowed = set(PLAN_FIELDS) | {"discharged_on", "start_date"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ValidationError.single(unknown[0], f"'{unknown[0]}' is not part of a plan "
                                                     "of care")
        before = self.store.episodes.get(episode_id)
        if before.discharged_on is not None and action != "discharge":
            raise ValidationError.single("discharged_on", f"This episode was discharged on "
                                                          f"{before.discharged_on}; open a new "
                                                          "episode instead")
        if "diagnoses" in changes:
            changes["diagnoses"] = tuple(normalize_icd10(c) for c in changes["diagnoses"])
        after = replace(before, **changes)
        self._check_episode(after, True)
        diff = _diff(before, after)
        if not diff:
            return before
        with self.store.db.atomic():
            self.store.episodes.update(after)
            self.store.draft_flags.forget_patient(after.patient_id)
            self.store.episode_history.add(episode_id, self.now(), self.actor, action, diff)
            self.store.audit.record(self.actor, AuditAction.EDIT, "episode", episode_id, action)
        return after

    def _check_episode(self, episode: Episode, wait_for_codes: bool) -> None:
        today = self.today()
        problems = []
        for name in ("start_date", "certified_on", "discharged_on"):
            value = getattr(episode, name)
            if value is not None and value > today:
                problems.append(Problem(name, f"{name.replace('_', ' ').capitalize()} "
                                              f"{value} is in the future"))
        codes = self.codes if wait_for_codes else self.codes_if_ready
        if codes is not None:
            for i, code in enumerate(episode.diagnoses):
                status = codes.status(code)
                if status == "unknown":
                    problems.append(Problem(f"diagnoses[{i}]", f"{code} is not an ICD-10-CM "
                                                               "code"))
                elif status == "category":
                    problems.append(Problem(f"diagnoses[{i}]", f"{code} is a category: give "
                                                               "one of its billable codes"))
        if problems:
            raise ValidationError(problems)


def plan_action(before: Episode, changes: dict[str, Any]) -> str:
    """Why the plan changed, as its history names it."""
    if changes.get("discharged_on"):
        return "discharge"
    if "certified_on" in changes and changes["certified_on"] is not None:
        return "recertify" if before.certified_on is not None else "certify"
    # Before its first certification the plan is still being written (at the evaluation, or
    # entered from paper); a progress report changes a certified plan.
    return "progress report" if before.certified_on is not None else "plan written"


def _diff(before: Episode | None, after: Episode) -> dict[str, list[Any]]:
    """Each changed field: [before, after], in the file's plain form."""
    out = {}
    for f in fields(Episode):
        if f.name in ("id", "patient_id"):
            continue
        old = None if before is None else to_plain(getattr(before, f.name))
        new = to_plain(getattr(after, f.name))
        if old != new and not (before is None and new in (None, "", [], False)):
            out[f.name] = [old, new]
    return out
