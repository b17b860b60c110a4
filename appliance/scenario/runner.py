"""Running a validated scenario against a real appliance.

Order of a run: start (or reach) the appliance, prepare the sitting as a secretary,
pair every device, open the display's live channel (``observers: N`` screens), play
every step (a failed step does not stop the run; an appliance that stops answering
does), then tidy up: stop our own appliance, or erase the rehearsal session on someone
else's.

Extension of the report (issue 11): the runner measures itself, so a rehearsal of 500
delegates can show the box, not the runner, was the bottleneck. ``runner`` in the text
and ``--json`` reports holds ``wall_s``, ``cpu_s`` (this process's user + system CPU,
``resource.getrusage``), ``cpu_percent`` (of wall time; 100 is one core busy all along),
``max_rss_mb``, and for the runner's own appliance ``children_cpu_s`` (the CPU of the
processes it started and waited for: the appliance, which shares the machine).
"""

from __future__ import annotations

import asyncio
import random
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from .actors import Person
from .client import Api, ApplianceGone
from .expect import check
from .live import LiveObserver, summary
from .model import Scenario, Step
from .report import Failure, Report, StepResult, step_title
from .server import LocalAppliance, ServerError, make_dirs
from .session import SetupFailed, prepare
from .steps import Play, Verdict, play_action

ERASE_PATH = "/api/session"


@dataclass(frozen=True)
class Options:
    """How to run: against our own appliance, or one at ``url`` with a secretary code."""

    url: str | None = None
    code: str | None = None
    data: Path | None = None
    seed: int = 0
    keep: bool = False


async def run(scn: Scenario, opts: Options, say: Callable[[str], None]) -> Report:
    """Play the scenario and return its report (never raises for appliance trouble)."""
    report = Report(scn.name)
    started = _usage()
    rng = random.Random(opts.seed)
    server: LocalAppliance | None = None
    scratch: TemporaryDirectory[str] | None = None
    try:
        if opts.url is None:
            data_dir, keys_dir, logs_dir, scratch = make_dirs(opts.data)
            server = LocalAppliance(data_dir, keys_dir, logs_dir)
            say(f"starting the appliance on {server.base_url} (data {data_dir})")
            await server.start()
            base_url, code = server.base_url, server.setup_code
        else:
            base_url, code = opts.url, opts.code or ""
        api = Api(base_url)
        try:
            await _play(scn, opts, api, server, code, rng, report)
        finally:
            await api.aclose()
    except ServerError as exc:
        report.failures.append(
            Failure(0, {"setup": "start the appliance"}, "ok", "no answer", str(exc))
        )
    finally:
        if server is not None:
            await server.stop()
        if scratch is not None:
            if opts.keep:
                say(f"kept the run's files in {scratch.name}")
            else:
                scratch.cleanup()
        report.runner = _cost(started, _usage())
    return report


def _usage() -> tuple[float, resource.struct_rusage, resource.struct_rusage]:
    return time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)


def _cost(
    before: tuple[float, resource.struct_rusage, resource.struct_rusage],
    after: tuple[float, resource.struct_rusage, resource.struct_rusage],
) -> dict[str, float]:
    """What the run cost this process (and the children it waited for), from two readings."""
    wall = after[0] - before[0]
    cpu = (after[1].ru_utime + after[1].ru_stime) - (before[1].ru_utime + before[1].ru_stime)
    children = (after[2].ru_utime + after[2].ru_stime) - (before[2].ru_utime + before[2].ru_stime)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cpu_percent": round(100 * cpu / wall, 1) if wall > 0 else 0.0,
        "max_rss_mb": round(after[1].ru_maxrss / 1024, 1),  # Linux reports KiB
        "children_cpu_s": round(children, 2),
    }


async def _play(
    scn: Scenario,
    opts: Options,
    api: Api,
    server: LocalAppliance | None,
    code: str,
    rng: random.Random,
    report: Report,
) -> None:
    try:
        cast, documents = await prepare(api, scn, code, opts.url is not None, rng)
    except SetupFailed as exc:
        report.failures.append(Failure(0, {"setup": exc.what}, "ok", exc.reply.code, str(exc)))
        return
    except ApplianceGone as exc:
        report.failures.append(Failure(0, {"setup": "prepare"}, "ok", "no answer", str(exc)))
        return
    play = Play(api, cast, documents)
    screens = [Person("display"), *(Person("observer", n) for n in range(2, scn.setup.observers + 1))]
    observers = [LiveObserver(api.base_url, cast.token(p) or "") for p in screens[: scn.setup.observers]]
    for observer in observers:
        observer.start()
    try:
        for step in scn.steps:
            started = time.perf_counter()
            try:
                verdict = await _step(play, step, server, rng)
            except (ApplianceGone, ServerError) as exc:
                tail = (
                    f"\n{server.stderr_tail()}" if server is not None and not server.alive else ""
                )
                verdict = Verdict(False, "an answer", "no answer", f"{exc}{tail}")
                _record(report, step, verdict, started)
                report.notes.append(f"stopped at step {step.n}: the appliance stopped answering")
                return
            _record(report, step, verdict, started)
    finally:
        await asyncio.gather(*(observer.stop() for observer in observers))
        if observers:
            report.notes.append(summary(observers))
        if opts.url is not None:
            await _erase(api, cast.token(Person("secretary")), opts.keep, report)


def _record(report: Report, step: Step, verdict: Verdict, started: float) -> None:
    ms = (time.perf_counter() - started) * 1000
    report.steps.append(StepResult(step.n, verdict.ok, ms, step_title(step.raw)))
    if not verdict.ok:
        report.failures.append(
            Failure(step.n, step.raw, verdict.expected, verdict.found, verdict.message)
        )


async def _step(
    play: Play, step: Step, server: LocalAppliance | None, rng: random.Random
) -> Verdict:
    if step.action == "sleep":
        await asyncio.sleep(float(step.args["s"]))
        verdict = Verdict(True)
    elif step.action == "restart":
        if server is None:  # refused at start-up already; kept as a guard
            return Verdict(False, "ok", "refused", "restart needs the runner's own appliance")
        await server.restart(hard=bool(step.args.get("hard", False)))
        verdict = Verdict(True)
    elif step.action is not None:
        verdict = await play_action(play, step, rng.shuffle)
    else:
        verdict = Verdict(True)
    if verdict.ok and step.expect is not None:
        verdict = await check(play, step)
    return verdict


async def _erase(api: Api, secretary: str | None, keep: bool, report: Report) -> None:
    """Erase the rehearsal session on a shared appliance, unless ``--keep``."""
    if keep:
        report.notes.append("--keep: the rehearsal session stays on the appliance")
        return
    reply = await api.call("DELETE", ERASE_PATH, secretary)
    if reply.ok:
        report.notes.append("the rehearsal session was erased")
    else:
        report.notes.append(
            f"WARNING: could not erase the rehearsal session ({reply.code}); this appliance "
            "may not offer erasing yet — remove it from the secretary screen"
        )
