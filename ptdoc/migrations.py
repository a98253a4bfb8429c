"""The schema, as append-only numbered steps keyed on ``PRAGMA user_version``.

Never edit a released step: add ``m00N_...`` at the end of MIGRATIONS. Each step runs in one
transaction together with its version bump (see db.migrate). Signed notes, addenda and the
audit log are protected by triggers, so no caller (a bug, a script) can rewrite them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlite_utils import Database

from ptdoc.fields import search_key

LOCKED = "signed session is locked: corrections go in an addendum"


def _locked_children(table: str) -> str:
    """Triggers that stop inserts, updates and deletes of rows that belong to a signed session."""
    signed = "(SELECT status FROM sessions WHERE id = {ref}.session_id) = 'signed'"
    return f"""
    CREATE TRIGGER {table}_locked_insert BEFORE INSERT ON {table}
    WHEN {signed.format(ref="NEW")} BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END;
    CREATE TRIGGER {table}_locked_update BEFORE UPDATE ON {table}
    WHEN {signed.format(ref="OLD")} OR {signed.format(ref="NEW")}
    BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END;
    CREATE TRIGGER {table}_locked_delete BEFORE DELETE ON {table}
    WHEN {signed.format(ref="OLD")} BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END;
    """


def m001_initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE clinic (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            name TEXT NOT NULL,
            address TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            npi TEXT,
            idle_lock_minutes INTEGER NOT NULL DEFAULT 10
        );
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            full_name TEXT NOT NULL,
            credential TEXT NOT NULL,
            npi TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            password_hash TEXT NOT NULL
        );
        CREATE TABLE payers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            profile TEXT NOT NULL,
            unit_method TEXT NOT NULL,
            medicare INTEGER NOT NULL
        );
        CREATE TABLE patients (
            id INTEGER PRIMARY KEY,
            mrn TEXT NOT NULL UNIQUE,
            first_name TEXT NOT NULL,
            last_name TEXT NOT NULL,
            date_of_birth TEXT NOT NULL,
            payer_id INTEGER REFERENCES payers(id),
            member_id TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX patients_name ON patients(last_name COLLATE NOCASE, first_name COLLATE NOCASE);
        CREATE INDEX patients_dob ON patients(date_of_birth);
        CREATE TABLE episodes (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            start_date TEXT NOT NULL,
            diagnoses TEXT NOT NULL DEFAULT '[]',
            goals TEXT NOT NULL DEFAULT '[]',
            frequency TEXT NOT NULL DEFAULT '',
            certified_through TEXT,
            certified_on TEXT,
            order_on_file INTEGER NOT NULL DEFAULT 0,
            physician_name TEXT NOT NULL DEFAULT '',
            physician_npi TEXT,
            discharged_on TEXT
        );
        CREATE INDEX episodes_patient ON episodes(patient_id, start_date);
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            episode_id INTEGER REFERENCES episodes(id),
            date_of_service TEXT NOT NULL,
            note_type TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('draft', 'signed')),
            delivered_by INTEGER REFERENCES users(id),
            supervised_by INTEGER REFERENCES users(id),
            supervisor_availability TEXT,
            mode TEXT NOT NULL,
            group_size INTEGER,
            time_in TEXT,
            time_out TEXT,
            total_treatment_minutes INTEGER,
            diagnoses TEXT NOT NULL DEFAULT '[]',
            patient_response TEXT NOT NULL DEFAULT '',
            assessment TEXT NOT NULL DEFAULT '',
            home_program TEXT NOT NULL DEFAULT '',
            acknowledgements TEXT NOT NULL DEFAULT '[]',
            signer_id INTEGER REFERENCES users(id),
            signer_name TEXT,
            signer_credential TEXT,
            signer_npi TEXT,
            signed_at TEXT,
            content_hash TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK ((status = 'draft' AND content_hash IS NULL AND signed_at IS NULL)
                OR (status = 'signed' AND content_hash IS NOT NULL AND signed_at IS NOT NULL
                    AND signer_id IS NOT NULL AND signer_credential IS NOT NULL))
        );
        CREATE INDEX sessions_date ON sessions(date_of_service);
        CREATE INDEX sessions_patient ON sessions(patient_id, date_of_service);
        CREATE INDEX sessions_episode ON sessions(episode_id, date_of_service);
        CREATE TABLE exercises (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            region TEXT NOT NULL DEFAULT '',
            side TEXT,
            body_position TEXT NOT NULL DEFAULT '',
            equipment TEXT NOT NULL DEFAULT '',
            load TEXT,
            load_unit TEXT,
            sets INTEGER,
            reps INTEGER,
            hold_seconds INTEGER,
            duration_minutes INTEGER,
            distance TEXT,
            distance_unit TEXT,
            assistance TEXT,
            cues TEXT NOT NULL DEFAULT '[]',
            change TEXT NOT NULL,
            modification TEXT NOT NULL DEFAULT '',
            modification_reason TEXT NOT NULL DEFAULT '',
            pain_before INTEGER,
            pain_after INTEGER,
            response TEXT NOT NULL DEFAULT '',
            minutes INTEGER,
            code TEXT NOT NULL,
            mode TEXT NOT NULL,
            delivered_by TEXT NOT NULL,
            UNIQUE (session_id, position)
        );
        CREATE INDEX exercises_name ON exercises(name COLLATE NOCASE, session_id);
        CREATE TABLE services (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            position INTEGER NOT NULL,
            code TEXT NOT NULL,
            minutes INTEGER,
            units INTEGER,
            modifiers TEXT NOT NULL DEFAULT '[]',
            UNIQUE (session_id, position)
        );
        CREATE TABLE addenda (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            kind TEXT NOT NULL,
            author_id INTEGER NOT NULL REFERENCES users(id),
            author_name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            reason TEXT NOT NULL,
            text TEXT NOT NULL
        );
        CREATE INDEX addenda_session ON addenda(session_id);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user_id INTEGER,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL DEFAULT '',
            entity_id INTEGER,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX audit_entity ON audit(entity, entity_id);

        CREATE TRIGGER sessions_locked_update BEFORE UPDATE ON sessions
        WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, '"""
        + LOCKED
        + """'); END;
        CREATE TRIGGER sessions_locked_delete BEFORE DELETE ON sessions
        WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, '"""
        + LOCKED
        + """'); END;
        CREATE TRIGGER addenda_only_signed BEFORE INSERT ON addenda
        WHEN (SELECT status FROM sessions WHERE id = NEW.session_id) IS NOT 'signed'
        BEGIN SELECT RAISE(ABORT, 'addenda belong to signed sessions'); END;
        CREATE TRIGGER addenda_no_update BEFORE UPDATE ON addenda
        BEGIN SELECT RAISE(ABORT, 'addenda are append-only'); END;
        CREATE TRIGGER addenda_no_delete BEFORE DELETE ON addenda
        BEGIN SELECT RAISE(ABORT, 'addenda are append-only'); END;
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """
        + _locked_children("exercises")
        + _locked_children("services")
    )


def m002_next_visit(db: Database) -> None:
    """The front desk's summaries show the patient's next visit when it is known; imports look
    signed notes up by their content hash."""
    db.execute("ALTER TABLE patients ADD COLUMN next_visit TEXT")
    db.execute("CREATE INDEX sessions_content_hash ON sessions(content_hash)")


def m003_payer_rules_and_fees(db: Database) -> None:
    """Per-payer modifier and edit settings (defaults from the payer's profile), and the
    clinic's fee schedule for year-to-date therapy amounts (the KX threshold)."""
    defaults = {"medicare": (1, 1, 1, 1), "medicare_advantage": (1, 1, 0, 1),
                "medicaid": (1, 0, 0, 1), "commercial": (0, 0, 0, 1)}
    for column in ("gp_required", "cq_applies", "kx_applies", "code_pair_edits"):
        db.execute(f"ALTER TABLE payers ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
    for profile, (gp, cq, kx, pairs) in defaults.items():
        db.execute("UPDATE payers SET gp_required = ?, cq_applies = ?, kx_applies = ?, "
                   "code_pair_edits = ? WHERE profile = ?", [gp, cq, kx, pairs, profile])
    db.execute("""
        CREATE TABLE fee_schedule (
            code TEXT NOT NULL,
            year INTEGER NOT NULL,
            amount TEXT NOT NULL,
            PRIMARY KEY (code, year)
        )""")


def m004_clinic_exercises(db: Database) -> None:
    """Exercises the clinic adds to the shipped library, with their default parameters."""
    db.execute("""
        CREATE TABLE clinic_exercises (
            name TEXT PRIMARY KEY COLLATE NOCASE,
            defaults TEXT NOT NULL
        )""")


def m005_audit_by_user(db: Database) -> None:
    """Recent sign-in attempts of a user are read on every sign-in and signature."""
    db.execute("CREATE INDEX audit_user ON audit(user_id, id)")


def m006_clinic_time_zone(db: Database) -> None:
    """The clinic's time zone (an IANA name): signature, addendum and print times are stored
    in UTC and shown in it. A clinic set up before it starts in this computer's zone."""
    from ptdoc.clock import workstation_zone

    db.execute("ALTER TABLE clinic ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC'")
    db.execute("UPDATE clinic SET time_zone = ?", [workstation_zone()])


def m007_refuse_replace(db: Database) -> None:
    """REPLACE (INSERT OR REPLACE, REPLACE INTO, UPDATE OR REPLACE) deletes the row it
    collides with without firing delete triggers, so it could rewrite a signed note, an
    addendum or an audit row. Refuse an insert that would collide with such a row, and a
    change of id that would."""
    replaced = "signed session, addendum and audit rows cannot be replaced"
    signed_child = ("(SELECT s.status FROM {table} c JOIN sessions s ON s.id = c.session_id "
                    "WHERE c.id = NEW.id) = 'signed'")
    statements = [
        ("sessions_no_replace", "BEFORE INSERT ON sessions",
         "(SELECT status FROM sessions WHERE id = NEW.id) = 'signed'"),
        ("sessions_no_new_id", "BEFORE UPDATE OF id ON sessions", "NEW.id IS NOT OLD.id"),
        ("addenda_no_replace", "BEFORE INSERT ON addenda",
         "EXISTS (SELECT 1 FROM addenda WHERE id = NEW.id)"),
        ("audit_no_replace", "BEFORE INSERT ON audit",
         "EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)"),
    ]
    for table in ("exercises", "services"):
        statements += [
            (f"{table}_no_replace", f"BEFORE INSERT ON {table}",
             signed_child.format(table=table)),
            (f"{table}_no_new_id", f"BEFORE UPDATE OF id ON {table}",
             f"NEW.id IS NOT OLD.id AND ({signed_child.format(table=table)})"),
        ]
    for name, when, condition in statements:
        db.execute(f"CREATE TRIGGER {name} {when} WHEN {condition} "
                   f"BEGIN SELECT RAISE(ABORT, '{replaced}'); END")


def m008_keyed_signatures(db: Database) -> None:
    """Signatures only their signer can make, and an audit log that is a hash chain.

    ``signing_keys`` is the key history: every user's public keys, each with its private key
    sealed under that user's password, never changed or removed (a new password makes a new
    key), so a note signed years ago still verifies. Signed sessions keep the signed content,
    the key id and the signature bytes. Each audit row carries the previous row's hash and its
    own; the rows already there are chained here, in order. Notes signed before this step have
    only a SHA-256; ``keyed_signatures.since`` is the latest of them, so a note dated after
    it without a key does not verify.
    """
    from ptdoc.repositories import AuditLog

    db.executescript("""
        CREATE TABLE signing_keys (
            id INTEGER PRIMARY KEY,
            key_id TEXT NOT NULL UNIQUE,
            user_id INTEGER NOT NULL REFERENCES users(id),
            public_key TEXT NOT NULL,
            sealed_private TEXT NOT NULL,
            created_at TEXT NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE INDEX signing_keys_user ON signing_keys(user_id, id);
        CREATE TRIGGER signing_keys_no_update BEFORE UPDATE ON signing_keys
        BEGIN SELECT RAISE(ABORT, 'the key history is append-only'); END;
        CREATE TRIGGER signing_keys_no_delete BEFORE DELETE ON signing_keys
        BEGIN SELECT RAISE(ABORT, 'the key history is append-only'); END;
        CREATE TRIGGER signing_keys_no_replace BEFORE INSERT ON signing_keys
        WHEN EXISTS (SELECT 1 FROM signing_keys WHERE id = NEW.id OR key_id = NEW.key_id)
        BEGIN SELECT RAISE(ABORT, 'the key history is append-only'); END;
        CREATE TABLE keyed_signatures (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            since TEXT NOT NULL
        );
        ALTER TABLE sessions ADD COLUMN key_id TEXT;
        ALTER TABLE sessions ADD COLUMN signature_value TEXT;
        ALTER TABLE sessions ADD COLUMN signed_content TEXT;
        ALTER TABLE audit ADD COLUMN prev_hash TEXT;
        ALTER TABLE audit ADD COLUMN hash TEXT;
        DROP TRIGGER audit_no_update;
    """)
    # Only notes signed up to now can lack a key: a note dated later without one is refused.
    latest = db.execute("SELECT max(signed_at) FROM sessions WHERE status = 'signed'"
                        ).fetchone()[0]
    db.execute("INSERT INTO keyed_signatures (id, since) VALUES (1, ?)",
               [latest or "0001-01-01T00:00:00+00:00"])
    previous = AuditLog.GENESIS
    for row in list(db.query(f"SELECT {AuditLog.CHAINED} FROM audit ORDER BY id")):
        digest = AuditLog.row_hash(previous, row)
        db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?",
                   [previous, digest, row["id"]])
        previous = digest
    db.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
               "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def m009_unique_npi(db: Database) -> None:
    """An NPI names one clinician, so no two users may hold it: a second account with a
    clinician's NPI could sign as them. Where a clinic already has such a pair, the user who
    got the NPI first keeps it; each later holder is disabled and its NPI cleared (their
    signatures keep the NPI they were made with), for the administrator to look at."""
    db.execute("UPDATE users SET active = 0, npi = NULL WHERE npi IS NOT NULL AND id > "
               "(SELECT min(first.id) FROM users AS first WHERE first.npi = users.npi)")
    db.execute("CREATE UNIQUE INDEX users_npi ON users(npi) WHERE npi IS NOT NULL")


def m010_clinic_setup(db: Database) -> None:
    """What a clinic needs to go live without code: patients' sex, phone, address and a
    secondary payer; a plan of care's duration; appointments (the patient's next visit moves
    here, at no particular time, and the old column goes); and the plan of care's history,
    append-only: every certification, recertification, progress update and discharge with
    what changed, when and by whom."""
    # One statement at a time: executescript would commit the step's transaction first.
    script = """
        ALTER TABLE patients ADD COLUMN sex TEXT;
        ALTER TABLE patients ADD COLUMN phone TEXT NOT NULL DEFAULT '';
        ALTER TABLE patients ADD COLUMN address TEXT NOT NULL DEFAULT '';
        ALTER TABLE patients ADD COLUMN secondary_payer_id INTEGER REFERENCES payers(id);
        ALTER TABLE patients ADD COLUMN secondary_member_id TEXT NOT NULL DEFAULT '';
        CREATE INDEX patients_member_id ON patients(member_id) WHERE member_id != '';
        ALTER TABLE episodes ADD COLUMN duration TEXT NOT NULL DEFAULT '';
        CREATE TABLE appointments (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            day TEXT NOT NULL,
            time TEXT,
            clinician_id INTEGER REFERENCES users(id)
        );
        CREATE INDEX appointments_day ON appointments(day, time);
        CREATE INDEX appointments_patient ON appointments(patient_id, day);
        INSERT INTO appointments (patient_id, day)
            SELECT id, next_visit FROM patients WHERE next_visit IS NOT NULL;
        ALTER TABLE patients DROP COLUMN next_visit;
        CREATE TABLE episode_history (
            id INTEGER PRIMARY KEY,
            episode_id INTEGER NOT NULL REFERENCES episodes(id),
            at TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            changes TEXT NOT NULL
        );
        CREATE INDEX episode_history_episode ON episode_history(episode_id, id);
    """
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)
    refused = "the plan of care history is append-only"
    for name, when in (("no_update", "BEFORE UPDATE ON episode_history"),
                       ("no_delete", "BEFORE DELETE ON episode_history"),
                       ("no_replace", "BEFORE INSERT ON episode_history WHEN EXISTS "
                                      "(SELECT 1 FROM episode_history WHERE id = NEW.id)")):
        db.execute(f"CREATE TRIGGER episode_history_{name} {when} "
                   f"BEGIN SELECT RAISE(ABORT, '{refused}'); END")


def m011_must_change_password(db: Database) -> None:
    """A password an administrator set for someone else (a new account, a reset) is
    temporary: the user chooses their own at their next sign-in. Existing users chose theirs
    or were told it long ago: none is made to change now."""
    db.execute("ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0")


def m012_draft_flags(db: Database) -> None:
    """Each draft's blocker and warning counts as last judged, and under what (the rules'
    stamp, the code set and the day), so the day view lists a busy day without judging every
    draft again. A row judged under other rules is judged again when it is shown. And an index
    for finding patients by the beginning of their first name."""
    db.execute("""
        CREATE TABLE draft_flags (
            session_id INTEGER PRIMARY KEY REFERENCES sessions(id),
            blockers INTEGER NOT NULL,
            warnings INTEGER NOT NULL,
            judged_under TEXT NOT NULL
        )""")
    # Patient search looks first names up by prefix too (last names have patients_name).
    db.execute("CREATE INDEX patients_first_name ON patients(first_name COLLATE NOCASE, "
               "last_name COLLATE NOCASE)")


def m013_service_detail(db: Database) -> None:
    """Each service line that is not exercise says what was done (technique, region,
    parameters). Lines written before say nothing: they keep an empty text, and notes signed
    with them still verify (an empty text is not part of what is signed)."""
    db.execute("ALTER TABLE services ADD COLUMN detail TEXT NOT NULL DEFAULT ''")


def m014_place_of_service(db: Database) -> None:
    """Where the clinic bills its services as furnished (the claim's CMS place-of-service
    code): 11, office, for every clinic set up before, as ptdoc billed until now."""
    db.execute("ALTER TABLE clinic ADD COLUMN place_of_service TEXT NOT NULL DEFAULT '11'")


def m015_session_place_of_service(db: Database) -> None:
    """Each signed note keeps the place of service it was billed at: recorded at signing from
    the clinic's setting, so a later change of the setting does not rewrite past claims. Notes
    signed before get the clinic's setting at this migration (what they were billed at, unless
    it was changed since). As a column default, since a signed row refuses every update."""
    row = db.execute("SELECT place_of_service FROM clinic WHERE id = 1").fetchone()
    code = row[0] if row and re.fullmatch(r"[0-9]{2}", str(row[0])) else "11"
    db.execute(f"ALTER TABLE sessions ADD COLUMN place_of_service TEXT DEFAULT '{code}'")


def m016_draft_locks(db: Database) -> None:
    """Who has each draft open for editing, on which workstation and since when, so another
    workstation shows it read-only with its holder. ``holder`` names one opened database
    (a window or a command); ``pid`` and ``host`` tell a file's holder that has died; on a
    server ``connection`` is the holder's server process, which ends with its connection."""
    db.execute("""
        CREATE TABLE draft_locks (
            session_id INTEGER PRIMARY KEY,
            holder TEXT NOT NULL,
            user_id INTEGER,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            connection INTEGER,
            taken_at TEXT NOT NULL,
            touched_at TEXT NOT NULL
        )""")


def m017_name_search_keys(db: Database) -> None:
    """Patient search finds the beginning of a name through an index on both backends, and
    without regard to case or accents on both (``fields.search_key``: "jose" finds José).
    Each patient's first and last name are kept also as their search keys, compared in
    code-point order (BINARY; PostgreSQL's "C" collation), where a prefix is a range of the
    index. Until now the server translated the search to an ILIKE that no index serves and
    read every patient, and a file ignored the case of ASCII letters only."""
    for column in ("first_key", "last_key"):
        db.execute(f"ALTER TABLE patients ADD COLUMN {column} TEXT COLLATE BINARY NOT NULL "
                   "DEFAULT ''")
    keys = [(search_key(first), search_key(last), pid) for pid, first, last in
            db.execute("SELECT id, first_name, last_name FROM patients").fetchall()]
    db.conn.executemany("UPDATE patients SET first_key = ?, last_key = ? WHERE id = ?", keys)
    db.execute("CREATE INDEX patients_last_key ON patients(last_key, first_key)")
    db.execute("CREATE INDEX patients_first_key ON patients(first_key, last_key)")
    db.execute("DROP INDEX patients_first_name")  # m012's, for the search these replace


def m018_draft_idle_minutes(db: Database) -> None:
    """How long a draft open on another workstation may go without a save before it may be
    taken over: the clinic's setting, 20 minutes (ptdoc's rule until now) unless changed."""
    db.execute("ALTER TABLE clinic ADD COLUMN draft_idle_minutes INTEGER NOT NULL DEFAULT 20")


def m019_mrn_search_key(db: Database) -> None:
    """An MRN is found whatever the case it is typed in ("rpt-10014" finds RPT-10014), through
    an index on both backends: each patient's MRN is kept also as its search key
    (``fields.search_key``, as the names' in m017), compared whole. (The server already names
    the UNIQUE constraint's index on mrn "patients_mrn_key".)"""
    db.execute("ALTER TABLE patients ADD COLUMN mrn_key TEXT COLLATE BINARY NOT NULL "
               "DEFAULT ''")
    keys = [(search_key(mrn), pid) for pid, mrn in
            db.execute("SELECT id, mrn FROM patients").fetchall()]
    db.conn.executemany("UPDATE patients SET mrn_key = ? WHERE id = ?", keys)
    db.execute("CREATE INDEX patients_mrn_search ON patients(mrn_key)")


MIGRATIONS: list[Callable[[Database], None]] = [m001_initial, m002_next_visit,
                                                m003_payer_rules_and_fees,
                                                m004_clinic_exercises, m005_audit_by_user,
                                                m006_clinic_time_zone,
                                                m007_refuse_replace,
                                                m008_keyed_signatures, m009_unique_npi,
                                                m010_clinic_setup,
                                                m011_must_change_password,
                                                m012_draft_flags,
                                                m013_service_detail,
                                                m014_place_of_service,
                                                m015_session_place_of_service,
                                                m016_draft_locks,
                                                m017_name_search_keys,
                                                m018_draft_idle_minutes,
                                                m019_mrn_search_key]
LATEST_VERSION = len(MIGRATIONS)
