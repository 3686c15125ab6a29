"""``ltc-scheduler plan``: plan a day (packaging + verification + routes) and save it as a PlanRun."""

from __future__ import annotations

import datetime as dt
import json

import typer

from ltc_scheduler.errors import BadInput
from ltc_scheduler.problem.clock import parse_hhmm


def parse_date(value: str) -> dt.date:
    """``YYYY-MM-DD`` or ``today`` (in the pharmacy's time zone)."""
    if value.strip().lower() == "today":
        from zoneinfo import ZoneInfo

        from ltc_scheduler.config import get_settings

        return dt.datetime.now(ZoneInfo(get_settings().timezone)).date()
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(f"--date: {value!r} is not a date (use YYYY-MM-DD or 'today')") from None


def parse_clock(value: str) -> int:
    """``--now HH:MM`` -> minutes from local midnight (up to 47:59, i.e. the next morning)."""
    try:
        return parse_hhmm(value, overnight=True)
    except ValueError:
        raise BadInput(f"--now: {value!r} is not a time of day (use HH:MM, e.g. 14:00)") from None


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command to ``app``."""

    @app.command("plan")
    def plan(
        date: str = typer.Option(..., "--date", help="Plan date, YYYY-MM-DD or 'today'."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object (the plan summary)."),
        replan: bool = typer.Option(
            False,
            "--replan",
            help="Keep what is already packed or on the road; insert new orders (automatic for today).",
        ),
        now: str | None = typer.Option(
            None, "--now", help="Set the clock, HH:MM: what the published plan sent out before it stays."
        ),
        from_scratch: bool = typer.Option(
            False, "--from-scratch", help="Plan the whole day again, replacing departed routes (asks first)."
        ),
        if_missing: bool = typer.Option(
            False, "--if-missing", help="Do nothing if the date already has a plan."
        ),
        time_limit: float | None = typer.Option(
            None,
            "--time-limit",
            help="Overall solver time limit in seconds, at most 600 (default: the constraint set's).",
        ),
        publish_anyway: bool = typer.Option(
            False,
            "--publish-anyway",
            help="Publish the new plan even if it is worse than the published one (else it is a draft).",
        ),
    ) -> None:
        """Plan a day: batches, packaging-line schedule, pharmacist verification and delivery routes.

        The plan is validated and saved in one transaction. It is published unless it is worse than
        the published plan of the date (more stops unserved or STAT orders missed, fewer served, a
        weaker solver result, rules broken): then it is kept as a draft and the command exits 3.
        Exit 4: the date is being planned by someone else (nothing done). A failed run leaves the
        previous plan untouched.
        """
        from ltc_scheduler.config import get_settings
        from ltc_scheduler.db.engine import make_engine
        from ltc_scheduler.service import check_time_limit, departed_routes, has_plan, plan_date

        day = parse_date(date)
        now_min = parse_clock(now) if now is not None else None
        if from_scratch and replan:
            raise BadInput("--replan and --from-scratch contradict each other: choose one")
        check_time_limit(time_limit)
        engine = make_engine()
        try:
            if from_scratch and (n := departed_routes(engine, date=day, now_min=now_min)):
                typer.confirm(
                    f"{n} route(s) of the published plan for {day} have left the pharmacy; drivers hold "
                    "their manifests. Replace them with a new plan anyway?",
                    abort=True,
                )
            if if_missing and has_plan(engine, date=day):
                if as_json:
                    typer.echo(
                        json.dumps({"date": day.isoformat(), "skipped": True, "reason": "plan exists"})
                    )
                else:
                    typer.echo(f"{day}: a published plan exists; nothing to do (--if-missing)")
                return
            try:
                outcome = plan_date(
                    engine,
                    date=day,
                    started_by=get_settings().user or "cli",
                    replan=replan,
                    now_min=now_min,
                    from_scratch=from_scratch,
                    time_limit_s=time_limit,
                    publish_anyway=publish_anyway,
                )
            except Exception as exc:
                if as_json:
                    _echo_failure(engine, day, exc)
                raise
        finally:
            engine.dispose()
        s = outcome.summary
        if as_json:
            typer.echo(json.dumps(s, default=str))
            if not outcome.published:
                raise typer.Exit(EXIT_DRAFT)
            return
        if not outcome.published:
            typer.echo(outcome.note or f"saved as draft #{outcome.plan_run_id}, not published")
            typer.echo(
                f"  to publish it anyway: ltc-scheduler plan --date {day} --publish-anyway, "
                "or on the dashboard"
            )
        elif outcome.note:
            typer.echo(outcome.note)
        typer.echo(
            f"{s['date']}: plan run {s['plan_run_id']} - {s['orders']} order lines in {s['batches']} "
            f"batches on "
            f"{s['lines_used']} lines (packaging {s['packaging_makespan_min']} min); {s['routes']} routes, "
            f"{s['stops']} stops, {s['driving_km']} km, {s['driving_hours']} h driving; "
            f"{len(s['unserved'])} unserved, {len(s['late'])} late; valid: {s['valid']}; {s['status']}"
        )
        if s.get("replanned_from"):
            typer.echo(
                f"  re-planned from {s['replanned_from']}: routes that left and batches started before then "
                "stay as published (--from-scratch replaces them)"
            )
        for u in s["unserved"]:
            typer.echo(f"  unserved {u['facility']}: {u['reason']}")
        for x in s["late"]:
            typer.echo(f"  late {x['facility']} by {x['minutes']} min: {x['reason']}")
        for v in s["violations"]:
            typer.echo(
                f"  {'VIOLATION' if v['hard'] else 'note'} [{v['rule']}] {v['subject']}: {v['message']}"
            )
        typer.echo("  stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in s["stage_seconds"].items()))
        if not outcome.published:
            raise typer.Exit(EXIT_DRAFT)


#: ``plan`` exit code: the run was saved as a draft, not published (see README "Command line")
EXIT_DRAFT = 3


def _echo_failure(engine, day: dt.date, exc: Exception) -> None:
    """``--json`` when the run failed: one object with ``status: failed`` (the error also goes to
    stderr; the exit code says which kind)."""
    from ltc_scheduler.db import plans
    from ltc_scheduler.db.engine import session_scope
    from ltc_scheduler.service import DateBusy

    run_id = None
    if not isinstance(exc, DateBusy):
        try:
            with session_scope(engine) as session:
                run = plans.latest_plan_run(session, date=day, published_only=False)
                if run is not None and run.status == "failed":
                    run_id = run.id
        except Exception:  # noqa: BLE001 - the JSON must not hide the original error
            run_id = None
    message = str(exc) if isinstance(exc, BadInput | DateBusy) else "internal error"
    typer.echo(
        json.dumps(
            {
                "plan_run_id": run_id,
                "date": day.isoformat(),
                "published": False,
                "status": "failed",
                "error": message.splitlines()[0] if message else "",
            }
        )
    )
