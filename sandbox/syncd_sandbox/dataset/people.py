"""The team: people with an identity in each tool, and departments sized by headcount."""

from __future__ import annotations

from collections import Counter

from syncd_sandbox.dataset.draw import Draw, Weighted
from syncd_sandbox.dataset.names import all_names, ascii_fold
from syncd_sandbox.dataset.vocabulary import DEPARTMENT_SHARES, FOCUS_HOURS_PER_PERSON
from syncd_sandbox.production import Department, Person

EMAIL_DOMAIN = "tidewatergames.example"
HIDDEN_EMAIL_SHARE = 0.1  # Jira Cloud users who hide their email from the API
CLOUD_ID_SHARE = 0.65  # newer accounts look like "712020:<uuid>", older ones are 24 hex
_FIRST_SG_USER_ID = 42

# The leads, present in every production: one per department, the producer first.
LEADS: tuple[tuple[str, str], ...] = (
    ("Zoë Lefèvre", "Production"),
    ("Łukasz Wójcik", "Engineering"),
    ("Søren Ødegaard", "Art"),
    ("María José Núñez", "Animation"),
    ("山田 太郎", "VFX"),
    ("Ана Петрова", "QA"),
    ("Nguyễn Thu Hà", "Design"),
    ("Ελένη Παπαδοπούλου", "Audio"),
)


def build_people(draw: Draw, count: int) -> tuple[Person, ...]:
    """`count` people: the department leads, then others drawn from every culture."""
    if count < len(LEADS):
        raise ValueError(f"a production needs at least {len(LEADS)} people, got {count}")
    by_display = {display: (given, family) for display, given, family in all_names()}
    lead_names = {display for display, _ in LEADS}
    others = [display for display in by_display if display not in lead_names]
    if count - len(LEADS) > len(others):
        raise ValueError(f"at most {len(others) + len(LEADS)} distinct names, asked {count}")
    draw.shuffle(others)
    departments = Weighted(DEPARTMENT_SHARES)
    roster = list(LEADS) + [(name, departments.draw(draw)) for name in others[: count - len(LEADS)]]

    hidden = [draw.chance(HIDDEN_EMAIL_SHARE) for _ in roster]
    if sum(hidden) < 2:  # every production shows the connector at least two hidden emails
        for index in draw.sample(range(1, count), 2):
            hidden[index] = True

    people: list[Person] = []
    emails: set[str] = set()
    account_ids: set[str] = set()
    sg_user_id = _FIRST_SG_USER_ID
    for (display, department), email_hidden in zip(roster, hidden, strict=True):
        given, family = by_display[display]
        local = _unique_local(f"{ascii_fold(given)}.{ascii_fold(family)}", emails)
        account_id = _account_id(draw, account_ids)
        sg_user_id += draw.between(1, 3)  # ids of retired users leave gaps
        people.append(
            Person(
                key=local,
                display_name=display,
                email=f"{local}@{EMAIL_DOMAIN}",
                department=department,
                jira_account_id=account_id,
                sg_user_id=sg_user_id,
                jira_email_visible=not email_hidden,
            )
        )
    return tuple(people)


def build_departments(people: tuple[Person, ...]) -> tuple[Department, ...]:
    """The eight departments, each with capacity from its headcount."""
    headcount = Counter(person.department for person in people)
    return tuple(
        Department(name=name, capacity_hours_per_week=headcount[name] * FOCUS_HOURS_PER_PERSON)
        for name, _ in DEPARTMENT_SHARES
    )


def _unique_local(local: str, taken: set[str]) -> str:
    candidate, suffix = local, 1
    while candidate in taken:  # two people folding to the same ASCII name
        suffix += 1
        candidate = f"{local}{suffix}"
    taken.add(candidate)
    return candidate


def _account_id(draw: Draw, taken: set[str]) -> str:
    while True:
        cloud_style = draw.chance(CLOUD_ID_SHARE)
        account_id = f"712020:{draw.uuid4()}" if cloud_style else draw.hex(24)
        if account_id not in taken:
            taken.add(account_id)
            return account_id
