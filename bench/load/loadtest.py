"""A bounded, loopback-only load test of a running kpitrack, then a check that no acknowledged save was lost.

Started by ``bench/load/run.sh`` (which brings up PostgreSQL and gunicorn); by hand, against a server that uses
the same database as this process (DATABASE_URL / SQLITE_PATH)::

    .venv/bin/python bench/load/loadtest.py --base http://127.0.0.1:8765 --duration 60

Virtual users are threads with their own session, each in a closed loop (no think time). Like a browser, each
keeps the last ``ETag`` of every page it read and revalidates it (``If-None-Match``): the dashboards are sent
``Cache-Control: private, no-cache``, so a browser asks again every time and shows its own copy on a ``304 Not
Modified``. A 304 is a successful read; the table splits each page kind's answers into 200 and 304.
- branch users (two per branch, so they meet on the same cells) read their dashboard and KPI pages and save a
  month the way the browser does: GET the month screen, POST one KPI's value with the version the form carries
  (``t<id>-version``) and a reason, then GET the page the save redirects to; on a conflict they choose
  「自分の値で保存」 once (the form then carries the version saved meanwhile); after an acknowledged save they
  revalidate their dashboard with the ETag they held: it must be a 200 (a 304 would show the figure before the
  save);
- headquarters users read the national matrix and the national KPI pages.

The answer to a save is classified: a redirect to the month screen is an acknowledged save; the same form with
the conflict box is a conflict (someone saved the cell since the form was read: expected, not an error);
anything else is an error. After the run the database is checked:
- every acknowledged save has its history row (version = the form's version + 1, with the value sent);
- no two acknowledged saves of one cell came from the same version (that would be a lost update);
- each cell holds the last acknowledged save (its version and value), and no unacknowledged write came after it;
- the page a save redirected to already showed the new version, and the dashboard read after it was not answered
  304 from the ETag held before the save (no stale read after an acknowledged save).

Prints a table (requests, req/s, p50/p95/p99 ms, errors per page kind and overall) and writes it as JSON. Exits 1
on any error, stale read or loss.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kpitrack.settings")

PASSWORD = "kpitrack-load-test"  # the throw-away database's load users only
REASON = "負荷試験"
LOGIN_TIMEOUT = 180  # every user logs in at once before the run; on a busy machine the queue is long
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="t(\d+)-version" value="(\d+)"')
VALUE_INPUT = re.compile(r'name="t(\d+)-value" value="([^"]*)"')
NO_CHANGES = "変更はありませんでした。"  # plans.entry.NO_CHANGES: the answer to a save that changed nothing
KINDS = (
    "branch_dashboard",
    "kpi_detail",
    "entry_get",
    "entry_post",
    "entry_resolve",
    "entry_after_save",
    "dashboard_after_save",
    "national_matrix",
    "national_kpi",
)


@dataclass
class Ack:
    """A save the server acknowledged: the cell, the version the form carried and the value sent."""

    target_id: int
    month: str
    base_version: int
    value: Decimal
    user: str


@dataclass
class Tally:
    """One virtual user's measurements (merged after the run: no lock on the hot path)."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    conflicts: int = 0
    unchanged: int = 0  # saves answered 「変更はありませんでした」 (the value was the one saved): not acknowledged
    stale: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{kind}: {detail}")


class Session:
    """A user's cookies over fresh loopback connections (gunicorn's sync workers close each connection), and, as
    a browser's cache does, the last ETag and body of each page that sent one: a GET of that page revalidates it
    with ``If-None-Match`` and a 304 gives back the body kept."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}
        self.kept: dict[str, tuple[str, str]] = {}  # path → (ETag, body)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, timeout: float = 30
    ) -> tuple[int, str, str, float]:
        headers = {"Host": f"{self.host}:{self.port}", "Accept-Language": "ja"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        kept = self.kept.get(path) if method == "GET" else None
        if kept is not None:
            headers["If-None-Match"] = kept[0]
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        elapsed = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if method == "GET":
            etag = response.headers.get("ETag")
            if response.status == 304 and kept is not None:
                text = kept[1]  # the browser shows its own copy
            elif response.status == 200 and etag and "no-store" not in response.headers.get("Cache-Control", ""):
                self.kept[path] = (etag, text)
            elif response.status != 304:
                self.kept.pop(path, None)
        return response.status, response.headers.get("Location", ""), text, elapsed

    def log_in(self, username: str) -> None:
        """Through the login page, before the timed run (password hashing is slow on purpose: a long timeout)."""
        status, _, page, _ = self.request("GET", "/accounts/login/", timeout=LOGIN_TIMEOUT)
        token = CSRF.search(page)
        if status != 200 or token is None:
            raise RuntimeError(f"login page answered {status}")
        form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD, "next": "/"}
        status, location, _, _ = self.request("POST", "/accounts/login/", form, timeout=LOGIN_TIMEOUT)
        if status != 302 or "/accounts/login/" in location:
            raise RuntimeError(f"{username} could not log in ({status})")


@dataclass(frozen=True)
class Plan:
    code: str
    kpis: list[str]


def setup_users(branches: int, per_branch: int, hq_users: int, year: int) -> tuple[list[tuple[str, Plan]], list[str]]:
    """Create (or reset) the load users: ``per_branch`` staff for each of the first ``branches`` branches that
    have a plan in ``year``, and ``hq_users`` headquarters users. Returns (branch users with their plan, HQ users)."""
    from django.contrib.auth import get_user_model

    from branches.models import Membership
    from plans.models import KpiTarget
    from plans.models import Plan as PlanModel

    user_model = get_user_model()
    plans = list(PlanModel.objects.filter(fiscal_year_id=year).select_related("branch").order_by("branch_id"))[
        :branches
    ]
    if len(plans) < branches:
        raise SystemExit(f"only {len(plans)} plans in {year}: generate the national data set first")

    def user(username: str, branch: object | None, role: str) -> str:
        account, _ = user_model.objects.get_or_create(username=username)
        account.set_password(PASSWORD)
        account.save()
        Membership.objects.update_or_create(user=account, defaults={"branch": branch, "role": role})
        return username

    branch_users = []
    for plan in plans:
        kpis = list(
            KpiTarget.objects.filter(plan=plan).order_by("order").values_list("kpi__code", flat=True).distinct()
        )
        for number in range(per_branch):
            name = user(f"load-{plan.branch.code}-{number + 1}", plan.branch, Membership.Role.STAFF)
            branch_users.append((name, Plan(plan.branch.code, kpis)))
    hq = [user(f"load-hq-{number + 1}", None, Membership.Role.HQ) for number in range(hq_users)]
    return branch_users, hq


def wait_for(base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if Session(base).request("GET", "/accounts/login/")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"no server answered at {base} within {seconds:.0f} s")
        time.sleep(0.2)


def measured(
    tally: Tally,
    session: Session,
    kind: str,
    path: str,
    form: dict[str, str] | None = None,
    expect: tuple[int, ...] = (200, 304),
) -> tuple[int, str, str] | None:
    try:
        status, location, text, elapsed = session.request("POST" if form is not None else "GET", path, form)
    except (OSError, http.client.HTTPException) as exc:
        tally.error(kind, f"{path}: {exc!r}")
        return None
    tally.times[kind].append(elapsed)
    tally.statuses[kind][status] += 1
    if status not in expect:
        tally.error(kind, f"{path}: HTTP {status}")
        return None
    return status, location, text


def save_month(
    tally: Tally, session: Session, username: str, plan: Plan, year: int, month: str, hot: int, rng: random.Random
) -> None:
    path = f"/branches/{plan.code}/{year}/entry/{month}/"
    dashboard = f"/branches/{plan.code}/{year}/"
    got = measured(tally, session, "entry_get", path)
    if got is None:
        return
    page = got[2]
    token = CSRF.search(page)
    versions = {int(pk): int(version) for pk, version in VERSION.findall(page)}
    shown_values = dict(VALUE_INPUT.findall(page))
    cells = [int(pk) for pk in shown_values][:hot]  # few cells, so that users meet on them
    if token is None or not cells or 'data-locked="1"' in page:
        tally.error("entry_get", f"{path}: no open month form to save")
        return
    target = rng.choice(cells)
    value = Decimal(rng.randint(1, 99))
    while shown_values[str(target)] and Decimal(shown_values[str(target)].replace(",", "")) == value:
        value = Decimal(rng.randint(1, 99))  # a user types a new figure: the same one would save nothing
    form = {
        "csrfmiddlewaretoken": token.group(1),
        f"t{target}-version": str(versions[target]),
        f"t{target}-value": str(value),
        f"t{target}-reason": REASON,
    }
    if acknowledged(tally, session, username, path, month, target, value, form, "entry_post", resolve=True):
        held = session.kept.get(dashboard)
        after = measured(tally, session, "dashboard_after_save", dashboard)
        if after is not None and after[0] != 200:
            tally.stale.append(f"{dashboard}: answered {after[0]} to the ETag {held and held[0]} after a save")


def acknowledged(
    tally: Tally,
    session: Session,
    username: str,
    path: str,
    month: str,
    target: int,
    value: Decimal,
    form: dict[str, str],
    kind: str,
    resolve: bool,
) -> bool:
    """POST one save and classify the answer; on a conflict, choose 「自分の値で保存」 once, as a user would.
    Whether a save was acknowledged."""
    answer = measured(tally, session, kind, path, form, expect=(200, 302))
    if answer is None:
        return False
    status, location, text = answer
    base = int(form[f"t{target}-version"])
    if status == 302 and location.endswith(path):
        after = measured(tally, session, "entry_after_save", path)
        if after is not None and NO_CHANGES in after[2]:
            # the value sent is the one saved (「自分の値で保存」 of the value the other user saved): nothing written
            tally.unchanged += 1
            return False
        tally.acks.append(Ack(target, month, base, value, username))
        if after is not None:
            shown = dict(VERSION.findall(after[2])).get(str(target))
            if shown is None or int(shown) < base + 1:
                tally.stale.append(f"{path} t{target}: saved version {base + 1}, page shows {shown}")
        return True
    if status == 200 and 'class="conflict"' in text:
        tally.conflicts += 1
        token = CSRF.search(text)
        now = dict(VERSION.findall(text)).get(str(target))  # the form now carries the version saved meanwhile
        if resolve and token is not None and now is not None:
            mine = {**form, "csrfmiddlewaretoken": token.group(1), f"t{target}-version": now}
            mine |= {f"t{target}-conflict": "1", f"t{target}-resolve": "mine"}
            return acknowledged(
                tally, session, username, path, month, target, value, mine, "entry_resolve", resolve=False
            )
        return False
    alert = re.search(r'class="(?:error|msg refused)"[^>]*>([^<]+)<', text)
    tally.error(kind, f"{path}: HTTP {status} {alert.group(1) if alert else location}")
    return False


class Clock:
    """When the timed run ends: set after every user has logged in (logins are not measured)."""

    def __init__(self, users: int) -> None:
        self.ready = threading.Barrier(users + 1)
        self.started = threading.Event()
        self.stop_at = 0.0

    def begin(self, session: Session, username: str, warm_up: list[str]) -> bool:
        """Log in and read each page kind once (imports, template compilation, connections: not measured), then
        wait for the start."""
        try:
            session.log_in(username)
            for path in warm_up:
                session.request("GET", path, timeout=LOGIN_TIMEOUT)
        except (RuntimeError, OSError, http.client.HTTPException) as exc:
            print(f"loadtest: {exc}", file=sys.stderr)
            self.ready.wait()
            return False
        self.ready.wait()
        self.started.wait()
        return True

    def running(self) -> bool:
        return time.monotonic() < self.stop_at


def branch_user(
    base: str, username: str, plan: Plan, args: argparse.Namespace, clock: Clock, tally: Tally, seed: int
) -> None:
    rng = random.Random(seed)
    session = Session(base)
    warm_up = [f"/branches/{plan.code}/{args.year}/", f"/branches/{plan.code}/{args.year}/kpi/{plan.kpis[0]}/"]
    if not clock.begin(session, username, warm_up + [f"/branches/{plan.code}/{args.year}/entry/{args.month}/"]):
        tally.error("login", username)
        return
    while clock.running():
        draw = rng.random()
        if draw < args.save_share:
            save_month(tally, session, username, plan, args.year, args.month, args.hot_cells, rng)
        elif draw < args.save_share + (1 - args.save_share) / 2:
            measured(tally, session, "branch_dashboard", f"/branches/{plan.code}/{args.year}/")
        else:
            kpi = rng.choice(plan.kpis)
            measured(tally, session, "kpi_detail", f"/branches/{plan.code}/{args.year}/kpi/{kpi}/")


def hq_user(
    base: str, username: str, kpis: list[str], args: argparse.Namespace, clock: Clock, tally: Tally, seed: int
) -> None:
    rng = random.Random(seed)
    session = Session(base)
    if not clock.begin(session, username, [f"/national/{args.year}/", f"/national/{args.year}/kpi/{kpis[0]}/"]):
        tally.error("login", username)
        return
    while clock.running():
        if rng.random() < args.matrix_share:
            measured(tally, session, "national_matrix", f"/national/{args.year}/")
        else:
            measured(tally, session, "national_kpi", f"/national/{args.year}/kpi/{rng.choice(kpis)}/")


def cpu_seconds(pids: list[int]) -> float:
    """CPU time used so far by these processes and their children (gunicorn's workers, PostgreSQL's backends): the
    live ones, and those that ended and were waited for (a worker gunicorn replaced after GUNICORN_MAX_REQUESTS)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        pid, parent = int(stat.parent.name), int(fields[1])
        if pid in pids or parent in pids:
            total += int(fields[11]) + int(fields[12])
        if pid in pids:
            total += int(fields[13]) + int(fields[14])  # its children's that ended
    return total / ticks


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))] if ordered else 0.0


def verify(acks: list[Ack]) -> list[str]:
    """What the database says about every acknowledged save (an empty list: nothing lost)."""
    from plans.models import KpiActual

    history = KpiActual.history.model
    problems: list[str] = []
    cells: dict[tuple[int, str], list[Ack]] = defaultdict(list)
    for ack in acks:
        cells[(ack.target_id, ack.month)].append(ack)
    for (target_id, month), saves in cells.items():
        first_day = f"{month}-01"
        bases = [ack.base_version for ack in saves]
        for base in {b for b in bases if bases.count(b) > 1}:
            problems.append(f"lost update: t{target_id} {month}: {bases.count(base)} saves acknowledged from v{base}")
        rows = history.objects.filter(target_id=target_id, month=first_day, period=KpiActual.Period.MONTHLY)
        recorded = {(row.version, row.value) for row in rows.exclude(history_type="-")}
        for ack in saves:
            if (ack.base_version + 1, ack.value) not in recorded:
                problems.append(f"no history row: t{target_id} {month} v{ack.base_version + 1} = {ack.value}")
        last = max(saves, key=lambda ack: ack.base_version)
        current = KpiActual.objects.filter(
            target_id=target_id, month=first_day, period=KpiActual.Period.MONTHLY
        ).first()
        if current is None or current.version < last.base_version + 1:
            problems.append(f"lost: t{target_id} {month} v{last.base_version + 1} = {last.value} is not in KpiActual")
        elif current.version == last.base_version + 1 and current.value != last.value:
            problems.append(f"lost: t{target_id} {month} holds {current.value}, acknowledged {last.value}")
        elif current.version > last.base_version + 1:
            problems.append(
                f"unacknowledged write: t{target_id} {month} is at v{current.version} after v{last.base_version + 1}"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--year", type=int, default=2025, help="fiscal year read and saved (default 2025)")
    parser.add_argument("--month", default="2025-06", help="month saved (YYYY-MM, in --year; default 2025-06)")
    parser.add_argument("--branches", type=int, default=6)
    parser.add_argument("--per-branch", type=int, default=2, help="users per branch (default 2)")
    parser.add_argument("--hq", type=int, default=4, help="headquarters users (default 4)")
    parser.add_argument("--save-share", type=float, default=0.15, help="share of branch iterations that save")
    parser.add_argument("--matrix-share", type=float, default=0.3, help="share of HQ reads that are the matrix")
    parser.add_argument("--hot-cells", type=int, default=2, help="KPIs of the month the saves spread over")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--watch", action="append", default=[], metavar="NAME=PID", help="report the CPU of a process and its children"
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.json"))
    args = parser.parse_args()
    if args.duration <= 0 or args.duration > 600:
        parser.error("--duration must be between 0 and 600 seconds")
    if urlsplit(args.base).hostname not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("the load test runs on loopback only")

    import django

    django.setup()
    from django.conf import settings

    wait_for(args.base, 60)
    branch_users, hq = setup_users(args.branches, args.per_branch, args.hq, args.year)
    national_kpis = sorted({kpi for _, plan in branch_users for kpi in plan.kpis})
    clock = Clock(len(branch_users) + len(hq))
    tallies = [Tally() for _ in range(len(branch_users) + len(hq))]
    threads = [
        threading.Thread(target=branch_user, args=(args.base, name, plan, args, clock, tallies[i], args.seed + i))
        for i, (name, plan) in enumerate(branch_users)
    ]
    threads += [
        threading.Thread(
            target=hq_user,
            args=(args.base, name, national_kpis, args, clock, tallies[len(branch_users) + i], args.seed + 100 + i),
        )
        for i, name in enumerate(hq)
    ]
    for thread in threads:
        thread.start()
    clock.ready.wait()  # every user has logged in (or failed to)
    watched = {name: int(pid) for name, _, pid in (item.partition("=") for item in args.watch)}
    cpu_before = {name: cpu_seconds([pid]) for name, pid in watched.items()}  # after the logins: not measured
    own_before = time.process_time()  # this load generator's own share of the same machine's cores
    started = time.monotonic()
    clock.stop_at = started + args.duration
    clock.started.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu_used = {name: cpu_seconds([watched[name]]) - before for name, before in cpu_before.items()}
    cpu_used["load generator"] = time.process_time() - own_before

    times: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    errors: dict[str, int] = defaultdict(int)
    samples: list[str] = []
    acks: list[Ack] = []
    stale: list[str] = []
    conflicts = unchanged = 0
    for tally in tallies:
        for kind, values in tally.times.items():
            times[kind].extend(values)
        for kind, counts in tally.statuses.items():
            for status, count in counts.items():
                statuses[kind][status] += count
                statuses["all"][status] += count
        for kind, count in tally.errors.items():
            errors[kind] += count
        samples += tally.error_samples
        acks += tally.acks
        stale += tally.stale
        conflicts += tally.conflicts
        unchanged += tally.unchanged
    problems = verify(acks)

    every = [value for values in times.values() for value in values]
    rows = []
    for kind in [k for k in KINDS if k in times or k in errors] + ["login"] * ("login" in errors) + ["all"]:
        values = every if kind == "all" else times.get(kind, [])
        count = len(values)
        rows.append(
            {
                "kind": kind,
                "requests": count,
                "per_s": round(count / elapsed, 1),
                "p50_ms": round(percentile(values, 0.50), 1),
                "p95_ms": round(percentile(values, 0.95), 1),
                "p99_ms": round(percentile(values, 0.99), 1),
                "errors": sum(errors.values()) if kind == "all" else errors.get(kind, 0),
                "status_200": statuses[kind].get(200, 0),
                "status_304": statuses[kind].get(304, 0),
            }
        )
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"\nload test: {elapsed:.1f} s on {database}, {len(branch_users)} branch users "
        f"({args.branches} branches), {len(hq)} HQ users, server {args.base}"
    )
    print("| page | requests | req/s | 200 | 304 | p50 ms | p95 ms | p99 ms | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['kind']} | {row['requests']} | {row['per_s']} | {row['status_200']} | {row['status_304']} | "
            f"{row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | {row['errors']} |"
        )
    print(
        f"\nsaves: {len(acks)} acknowledged, {conflicts} conflicts shown (then saved once with 「自分の値で保存」), "
        f"{unchanged} answered 「変更はありませんでした」, "
        f"{len({(a.target_id, a.month) for a in acks})} cells; stale reads after a save: {len(stale)}; "
        f"database check: {'nothing lost' if not problems else f'{len(problems)} problems'}"
    )
    total_requests = rows[-1]["requests"]
    cpu_ms = {name: round(used * 1000 / max(total_requests, 1), 1) for name, used in cpu_used.items()}
    if cpu_used:
        print(
            "CPU per request (ms; does not depend on how busy a shared machine is): "
            + ", ".join(f"{name} {ms}" for name, ms in cpu_ms.items())
        )
    for line in samples[:10] + stale[:10] + problems[:20]:
        print(f"  {line}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "database": database,
                "seconds": round(elapsed, 1),
                "branch_users": len(branch_users),
                "hq_users": len(hq),
                "pages": rows,
                "acknowledged_saves": len(acks),
                "conflicts": conflicts,
                "unchanged": unchanged,
                "stale_reads": stale,
                "problems": problems,
                "cpu_ms_per_request": cpu_ms,
                "error_samples": samples,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    print(f"written to {out}")
    failed = sum(errors.values()) > 0 or bool(stale) or bool(problems) or not acks
    if not acks:
        print("loadtest: no save was acknowledged: nothing was proved", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
