"""Use cases: what a signed-in user can do, with permissions checked and audited on every call.

The UI and the CLI go through a Workspace; neither talks to the store for anything that
changes data. Services return values and raise KnownErrors; they never touch Qt. The
Workspace is assembled from one part per subject, each a module of this package.
"""

from ptdoc.services.charges import Charges
from ptdoc.services.core import WorkspaceCore
from ptdoc.services.episodes import Episodes
from ptdoc.services.interchange import Interchange
from ptdoc.services.paper import Paper
from ptdoc.services.patients import Patients
from ptdoc.services.reference import ReferenceData
from ptdoc.services.schedule import Schedule
from ptdoc.services.sessions import Sessions
from ptdoc.services.signing import Signing


class Workspace(ReferenceData, Patients, Episodes, Schedule, Sessions, Signing, Charges, Paper,
                Interchange, WorkspaceCore):
    """The database as seen by one actor (``None``: code that builds a clinic, such as the
    demo; the window and the command line act as a signed-in user)."""


__all__ = ["Workspace"]
