"""`ltc-scheduler demo`: seed the demo pharmacy and one busy day of orders."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import typer


class ScaleName(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"
    xlarge = "xlarge"


class RegionName(StrEnum):
    cook = "cook"
    peoria = "peoria"
    rural = "rural"


def _parse_date(value: str | None) -> dt.date:
    from ltc_scheduler.errors import BadInput

    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--date: {value!r} is not a date (YYYY-MM-DD)") from None


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""

    @app.command()
    def demo(
        scale: ScaleName = typer.Option(
            ScaleName.small, help="small = 15 facilities, medium = 80, large = 200, xlarge = 500."
        ),
        date: str | None = typer.Option(None, help="The demo day, YYYY-MM-DD (default: today)."),
        seed: int = typer.Option(0, help="Random seed: the same seed gives the same data."),
        region: RegionName | None = typer.Option(
            None, help="cook (Cook County), peoria (Peoria metro) or rural (Southern Illinois); default cook."
        ),
        facilities: int | None = typer.Option(
            None, min=1, max=1000, help="Override the scale's facility count."
        ),
        if_empty: bool = typer.Option(
            False, "--if-empty", help="Do nothing when the database already has data."
        ),
        replace: bool = typer.Option(False, "--replace", help="Delete every row first, then seed."),
    ) -> None:
        """Seed the database (DATABASE_URL) with a realistic demo pharmacy and the day's open orders.

        Real nursing homes (CMS public data) plus synthetic assisted-living facilities, residents,
        medications, packaging lines, pharmacists, vehicles and about 1,500 (small) to 20,000 (large)
        order lines due on the date (about 37,000 for xlarge).
        """
        from ltc_scheduler.config import get_settings
        from ltc_scheduler.db.engine import init_db, make_engine, session_scope
        from ltc_scheduler.demo import database_is_empty, generate_demo

        day = _parse_date(date)
        engine = make_engine()
        init_db(engine)
        try:
            with session_scope(engine) as session:
                if if_empty and not database_is_empty(session):
                    typer.echo("database already has data: demo not seeded (--if-empty)")
                    return
                summary = generate_demo(
                    session,
                    scale=scale.value,
                    date=day,
                    timezone=get_settings().timezone,
                    seed=seed,
                    region=region.value if region else None,
                    facilities=facilities,
                    replace=replace,
                )
        finally:
            engine.dispose()
        typer.echo(
            f"demo pharmacy seeded for {summary['date']} ({summary['scale']}, region {summary['region']}, "
            f"seed {summary['seed']})"
        )
        typer.echo(
            f"  facilities {summary['facilities']} ({summary['real_facilities']} CMS nursing homes, "
            f"{summary['synthetic_facilities']} synthetic assisted living), residents {summary['residents']}"
        )
        classes = ", ".join(f"{k} {v}" for k, v in summary["by_class"].items())
        typer.echo(f"  open order lines {summary['order_lines']}: {classes}")
        typer.echo(
            f"  controlled {summary['controlled_share']:.1%}, refrigerated {summary['cold_share']:.1%}, "
            f"cards {summary['cards']}"
        )
        typer.echo(
            f"  packaging lines {summary['packaging_lines']} (load {summary['packaging_utilisation']:.0%}), "
            f"pharmacists {summary['pharmacists']} (load {summary['verification_utilisation']:.0%}), "
            f"vehicles {summary['vehicles']}"
        )
        typer.echo(
            f"  estimated batches {summary['batches_estimate']}, totes {summary['totes_estimate']} "
            f"(the fleet carries {summary['fleet_tote_capacity']} in two trips)"
        )
