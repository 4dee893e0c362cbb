"""What the benchmarks share: PostgreSQL, the demo database, and an Odoo server of this checkout
started for the measure and stopped after it (``bench/intake.py``, ``bench/dispatch.py``).

PostgreSQL is reached as the scripts do: $PGHOST (127.0.0.1), $PGUSER and $PGPASSWORD (odoo).
Odoo is the one scripts/setup.sh finds, run with the venv $ODOO_VENV (/opt/odoo-18.0-venv).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg2
import requests

REPO = Path(__file__).resolve().parent.parent
ADDON = "whatsapp_helpdesk"
sys.path.insert(0, str(REPO / "scripts"))
import demo_account  # noqa: E402  (the demo account's ids and credentials, from the database)

read_demo_account = demo_account.read


class BenchError(Exception):
    """The benchmark could not run (exit code 2)."""


def log(message):
    """A progress line on stderr, prefixed with the benchmark's name."""
    print(f"[{Path(sys.argv[0]).stem}] {message}", file=sys.stderr, flush=True)


def percentile(values, fraction, empty=None):
    """The ``fraction`` percentile of ``values`` (nearest rank), ``empty`` without any."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else empty


# -- PostgreSQL -----------------------------------------------------------------------------------


def pg_connect(db):
    """An autocommit connection to ``db``."""
    conn = demo_account.connect(db)
    conn.autocommit = True
    return conn


def db_ready(db):
    """Whether ``db`` exists with whatsapp_helpdesk installed."""
    try:
        conn = pg_connect(db)
    except psycopg2.OperationalError:
        return False
    try:
        with conn.cursor() as cr:
            cr.execute(
                "SELECT 1 FROM ir_module_module"
                " WHERE name = 'whatsapp_helpdesk' AND state = 'installed'"
            )
            return bool(cr.fetchone())
    except psycopg2.Error:
        return False
    finally:
        conn.close()


# -- Odoo -----------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Odoo:
    """Command lines of this checkout's Odoo (found and prepared by scripts/setup.sh) on ``db``,
    with the addon from ``addons_dir`` (the repository unless told otherwise)."""

    def __init__(self, db, addons_dir=REPO):
        self.db = db
        self.addons_dir = addons_dir
        setup = subprocess.run(
            ["bash", str(REPO / "scripts" / "setup.sh")],
            check=True,
            capture_output=True,
            text=True,
        )
        self.home = setup.stdout.strip().splitlines()[-1]
        self.python = f"{os.environ.get('ODOO_VENV', '/opt/odoo-18.0-venv')}/bin/python"
        lib = REPO / "scripts" / "lib.sh"
        subprocess.run(["bash", "-c", f"source {lib} && ensure_postgres"], check=True)

    def common(self):
        # -d without --db-filter: Odoo serves that database without listing the databases (a
        # new PostgreSQL connection) for every request that comes without a session cookie
        return [
            "--db_host=127.0.0.1",
            "--db_user=odoo",
            "--db_password=odoo",
            "-d",
            self.db,
            f"--addons-path={self.home}/odoo/addons,{self.addons_dir}",
            "--log-level=warn",
        ]

    def server(self, *extra):
        return [self.python, f"{self.home}/odoo-bin", *self.common(), *extra]

    def shell(self):
        return [self.python, f"{self.home}/odoo-bin", "shell", *self.common(), "--no-http"]


def ensure_database(odoo):
    """Install the addon (with demo data) when missing, else update it once, so that the code
    and the database measured agree; return (``"installed"`` or ``"updated"``, seconds)."""
    started = time.perf_counter()
    if db_ready(odoo.db):
        log(f"updating whatsapp_helpdesk in {odoo.db} (-u)...")
        action = "updated"
        extra = ("-u", "whatsapp_helpdesk")
    else:
        log(f"installing whatsapp_helpdesk with demo data in {odoo.db} (once)...")
        action = "installed"
        extra = ("-i", "whatsapp_helpdesk")
    command = odoo.server(*extra, "--stop-after-init", "--no-http", "--max-cron-threads=0")
    if subprocess.run(command, timeout=3600).returncode != 0 or not db_ready(odoo.db):
        raise BenchError(f"could not {action[:-1]} whatsapp_helpdesk in {odoo.db}")
    return action, round(time.perf_counter() - started, 1)


def start_odoo(
    odoo, workers, log_path=None, info_loggers=(), *, cron_threads=1, port=None, env=None, extra=()
):
    """Start Odoo on ``port`` (a free one) of 127.0.0.1 with ``workers`` HTTP workers (0: one
    threaded process) and ``cron_threads`` cron workers, in its own process group, its log in
    ``log_path`` (else this process's) with ``info_loggers`` at INFO, ``extra`` options, ``env``
    added to its environment; return (process, port, start time).

    Odoo's time and memory limits are raised far above a run's length, unless the environment
    variable ``WA_BENCH_ODOO_LIMITS=default`` asks for Odoo's own (120 s real and 60 s CPU per
    pass of the cron worker: the jobs must then end their passes in time)."""
    port = port or free_port()
    limits = (
        ()
        if os.environ.get("WA_BENCH_ODOO_LIMITS") == "default"
        else (
            "--limit-time-real=1200",
            "--limit-time-cpu=1200",
            "--limit-memory-soft=4294967296",
            "--limit-memory-hard=6442450944",
        )
    )
    extra = [*(f"--log-handler={name}:INFO" for name in info_loggers), *extra]
    if log_path:
        extra.append(f"--logfile={log_path}")
    command = odoo.server(
        *extra,
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        # a free one too: a second Odoo of the machine on the default 8072 makes the gevent
        # worker fail to bind and respawn in a loop, burning the CPU the run measures
        f"--gevent-port={free_port()}",
        f"--workers={workers}",
        f"--max-cron-threads={cron_threads}",
        *limits,
    )
    started = time.time()
    environment = dict(os.environ, **env) if env else None
    return subprocess.Popen(command, start_new_session=True, env=environment), port, started


def wait_for_odoo(port, seconds=120):
    """Whether Odoo answers ``/web/health`` on ``port`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/web/health", timeout=1).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def stop_odoo(process):
    """Stop Odoo's process group (TERM, then KILL after 30 s), and any worker left in it."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        log("Odoo did not stop within 30 s: killing its process group")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass
    # workers still in the group (e.g. a cron worker that outlived its parent)
    for proc in group_processes(process.pid):
        try:
            proc.kill()
        except psutil.Error:
            pass


def group_processes(pgid):
    """The live processes of the process group ``pgid``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid:
                found.append(proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return found


# -- what each process costs ----------------------------------------------------------------------


class ProcessWatch:
    """CPU seconds and peak RSS of the processes a benchmark runs, by role: Odoo's process group
    (``main``, ``http`` workers, the ``cron`` worker, ``gevent``), the PostgreSQL backends of
    the database (``postgres``), and any other process given by pid (``sandbox``, this
    ``load generator``...).

    Call :meth:`sample` often: a process counts from its first sample (from 0 when it was born
    after the watch started), and one that exits keeps its last sample. The cron worker is the
    child ``WorkerCron.start()`` reniced by +10 (or whose process title says WorkerCron).
    """

    def __init__(self, db, odoo_pid=None, others=None):
        self.db = db
        self.odoo_pid = odoo_pid
        self.others = dict(others or {})  # pid -> role
        self.started = time.monotonic()
        self.first = {}  # pid -> cpu seconds at first sight
        self.last = {}  # pid -> cpu seconds at the last sample
        self.roles = {}  # pid -> role
        self.peaks = {}  # pid -> peak RSS (MB)
        self.total_peak = 0.0
        self.samples = 0
        self._baseline_taken = False

    def _odoo_role(self, proc, root_nice):
        title = " ".join(proc.cmdline())
        if proc.pid == self.odoo_pid:
            return "odoo main"
        if "WorkerCron" in title or proc.nice() >= root_nice + 10:
            return "odoo cron worker"
        if "gevent" in title:
            return "odoo gevent"
        return "odoo http workers"

    def _postgres_backends(self):
        found = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            cmdline = proc.info.get("cmdline") or []
            if cmdline and cmdline[0].startswith("postgres: ") and f" {self.db} " in cmdline[0]:
                found.append(proc)
        return found

    def sample(self):
        """Read the CPU and memory of every watched process once."""
        processes = []
        root_nice = 0
        if self.odoo_pid:
            group = group_processes(self.odoo_pid)
            root = next((p for p in group if p.pid == self.odoo_pid), None)
            root_nice = root.nice() if root else 0
            for proc in group:
                try:
                    processes.append((proc, self._odoo_role(proc, root_nice)))
                except psutil.Error:
                    continue
        processes += [(proc, "postgres") for proc in self._postgres_backends()]
        for pid, role in self.others.items():
            try:
                processes.append((psutil.Process(pid), role))
            except psutil.Error:
                continue
        total_rss = 0
        for proc, role in processes:
            try:
                with proc.oneshot():
                    cpu = sum(proc.cpu_times()[:2])
                    rss = proc.memory_info().rss
            except psutil.Error:
                continue
            pid = proc.pid
            if pid not in self.first:
                self.first[pid] = cpu if not self._baseline_taken else 0.0
            if role == "odoo cron worker" or pid not in self.roles:
                self.roles[pid] = role  # a fresh cron worker looks like the others at first
            self.last[pid] = cpu
            self.peaks[pid] = max(self.peaks.get(pid, 0.0), rss / 2**20)
            if role != "postgres":
                total_rss += rss
        self.total_peak = max(self.total_peak, total_rss / 2**20)
        self.samples += 1
        self._baseline_taken = True

    def rebase(self):
        """Count CPU from now on (e.g. once the work measured starts, not Odoo's start-up)."""
        self.sample()
        self.first = dict(self.last)
        self.started = time.monotonic()

    def cpu_report(self, items):
        """{role: {"cpu_s", "ms_per_item"}} for the ``items`` (messages, events) of the run."""
        seconds = {}
        for pid, last in self.last.items():
            role = self.roles[pid]
            seconds[role] = seconds.get(role, 0.0) + max(0.0, last - self.first[pid])
        total = sum(seconds.values())
        report = {
            role: {
                "cpu_s": round(value, 2),
                "ms_per_item": round(1000 * value / items, 3) if items else None,
            }
            for role, value in sorted(seconds.items())
        }
        report["all"] = {
            "cpu_s": round(total, 2),
            "ms_per_item": round(1000 * total / items, 3) if items else None,
            "machine_cores_busy": round(total / max(time.monotonic() - self.started, 1e-6), 2),
        }
        return report

    def memory_report(self):
        """Peak RSS of the cron worker(s), of Odoo's group at one sample, and per process."""
        cron = [mb for pid, mb in self.peaks.items() if self.roles[pid] == "odoo cron worker"]
        return {
            "cron_worker": round(max(cron, default=0.0), 1),
            "total": round(self.total_peak, 1),
            "total_note": "peak of the sum of RSS over the processes other than PostgreSQL at "
            "one sample (shared pages of forked workers are counted once per process)",
            "per_process": [
                {"pid": pid, "role": self.roles[pid], "peak_rss_mb": round(mb, 1)}
                for pid, mb in sorted(self.peaks.items())
                if self.roles[pid] != "postgres"
            ],
            "samples": self.samples,
        }
