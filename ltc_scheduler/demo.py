"""A seeded, reproducible demo pharmacy built on real nursing homes (CMS public data).

``generate_demo(session, scale="small", date=D, seed=S)`` writes one pharmacy and one busy but
feasible day into an empty database. The same arguments always produce the same rows (apart
from ``created_at`` timestamps). The distributions are documented in :data:`DISTRIBUTIONS` and in
the README; the tests check the generated day against them.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from ltc_scheduler.db import models as m
from ltc_scheduler.db import repository as repo
from ltc_scheduler.enums import ControlledSchedule, FacilityKind, OrderClass, OrderStatus, PackagingKind
from ltc_scheduler.errors import BadInput
from ltc_scheduler.problem.model import PlanSettings

FACILITY_DIR = Path(__file__).resolve().parent.parent / "data" / "facilities"

REGION_FILES = {
    "cook": "il_cook_county.csv",
    "peoria": "il_peoria_metro.csv",
    "rural": "il_southern_rural.csv",
}
REGION_NAMES = {"cook": "Cook County, IL", "peoria": "Peoria metro, IL", "rural": "Southern Illinois"}


@dataclass(frozen=True)
class Scale:
    facilities: int
    region: str
    packaging_lines: int


SCALES: dict[str, Scale] = {
    "small": Scale(facilities=15, region="cook", packaging_lines=3),
    "medium": Scale(facilities=80, region="cook", packaging_lines=4),
    "large": Scale(facilities=200, region="cook", packaging_lines=6),
    # all 202 Cook County nursing homes of the CMS file plus synthetic assisted-living facilities
    "xlarge": Scale(facilities=500, region="cook", packaging_lines=12),
}

#: The documented distributions (README "Demo data"); tests check the generated day against them.
DISTRIBUTIONS: dict[str, Any] = {
    "synthetic_alf_share": 0.15,  # share of facilities that are synthetic assisted-living (at least 1)
    "occupancy": (0.80, 0.90),  # residents = beds x U(0.80, 0.90)
    "alf_beds": (40, 110),
    "meds_per_resident": "4 + Binomial(8, 0.5): mean 8, range 4-12",
    "cycle_length_days": {7: 0.20, 14: 0.30, 28: 0.50},
    "unit_size_beds": 45,  # facilities above 120 beds are split into wings of ~45 beds
    "controlled_share": 0.10,
    "cold_share": 0.03,
    # per resident and day (non-cycle order classes)
    "refill_per_resident": 0.08,
    "prn_per_resident": 0.035,
    "stat_per_resident": 0.025,
    "admissions_per_resident": 0.004,  # each admission brings 6-12 lines
    "ekit_restock_prob": 0.6,  # per facility and day, 4-12 lines
    "stat_promise_min": 240,
    # refills / PRN / e-kit lines go out today when received this long before the facility's last
    # delivery window opens (and by 11:00); later ones are tomorrow's
    "order_cutoff_before_window_min": 150,
    "minutes_per_card": 0.06,
    "verification_utilisation_target": 0.78,
    # packaging lines run 05:00-21:00; a pharmacy with more facilities runs a night shift from 01:00
    "night_shift_above_facilities": 30,
    "night_shift_start_min": 60,
    # fleet: enough vans for the estimated stops (a routine stop per facility, plus a STAT run per
    # facility and arrival wave of urgent orders) at this many stops per van and day
    "stops_per_van_day": 8,
    # even a small pharmacy keeps six vans: the 09:30-12:00 rush needs them (five left two stops
    # of the small demo day unserved for want of a van in the late morning)
    "min_vans": 6,
}

# name, form, kind, schedule, refrigerated, weight
_MedSpec = tuple[str, str, PackagingKind, ControlledSchedule, bool, float]
_B, _U, _P, _V = (
    PackagingKind.MULTI_DOSE_BLISTER,
    PackagingKind.UNIT_DOSE_CARD,
    PackagingKind.STRIP_POUCH,
    PackagingKind.VIAL_BOTTLE,
)
_N = ControlledSchedule.NONE

ROUTINE_MEDS: tuple[_MedSpec, ...] = (
    ("Amlodipine 5 mg tablet", "tablet", _B, _N, False, 3),
    ("Lisinopril 10 mg tablet", "tablet", _B, _N, False, 3),
    ("Metoprolol tartrate 25 mg tablet", "tablet", _B, _N, False, 3),
    ("Atorvastatin 20 mg tablet", "tablet", _B, _N, False, 3),
    ("Levothyroxine 50 mcg tablet", "tablet", _U, _N, False, 3),
    ("Metformin 500 mg tablet", "tablet", _B, _N, False, 2),
    ("Furosemide 20 mg tablet", "tablet", _B, _N, False, 3),
    ("Omeprazole 20 mg capsule", "capsule", _P, _N, False, 2),
    ("Pantoprazole 40 mg tablet", "tablet", _B, _N, False, 2),
    ("Sertraline 50 mg tablet", "tablet", _P, _N, False, 2),
    ("Donepezil 10 mg tablet", "tablet", _B, _N, False, 2),
    ("Memantine 10 mg tablet", "tablet", _P, _N, False, 2),
    ("Aspirin 81 mg EC tablet", "tablet", _B, _N, False, 3),
    ("Acetaminophen 500 mg tablet", "tablet", _P, _N, False, 3),
    ("Docusate sodium 100 mg capsule", "capsule", _P, _N, False, 2),
    ("Senna 8.6 mg tablet", "tablet", _P, _N, False, 2),
    ("Cholecalciferol 1000 IU tablet", "tablet", _P, _N, False, 2),
    ("Potassium chloride ER 10 mEq tablet", "tablet", _U, _N, False, 2),
    ("Gabapentin 300 mg capsule", "capsule", _B, _N, False, 2),
    ("Tamsulosin 0.4 mg capsule", "capsule", _B, _N, False, 1),
    ("Carvedilol 6.25 mg tablet", "tablet", _B, _N, False, 2),
    ("Losartan 50 mg tablet", "tablet", _B, _N, False, 2),
    ("Apixaban 5 mg tablet", "tablet", _U, _N, False, 2),
    ("Warfarin 5 mg tablet", "tablet", _U, _N, False, 1),
    ("Clopidogrel 75 mg tablet", "tablet", _B, _N, False, 1),
    ("Quetiapine 25 mg tablet", "tablet", _U, _N, False, 1),
    ("Mirtazapine 15 mg tablet", "tablet", _B, _N, False, 1),
    ("Trazodone 50 mg tablet", "tablet", _B, _N, False, 2),
    ("Escitalopram 10 mg tablet", "tablet", _P, _N, False, 1),
    ("Hydrochlorothiazide 25 mg tablet", "tablet", _B, _N, False, 1),
    ("Spironolactone 25 mg tablet", "tablet", _B, _N, False, 1),
    ("Prednisone 5 mg tablet", "tablet", _U, _N, False, 1),
    ("Allopurinol 100 mg tablet", "tablet", _B, _N, False, 1),
    ("Ferrous sulfate 325 mg tablet", "tablet", _P, _N, False, 1),
    ("Magnesium oxide 400 mg tablet", "tablet", _P, _N, False, 1),
    ("Divalproex DR 250 mg tablet", "tablet", _U, _N, False, 1),
    ("Levetiracetam 500 mg tablet", "tablet", _U, _N, False, 1),
    ("Baclofen 10 mg tablet", "tablet", _B, _N, False, 1),
    ("Glipizide 5 mg tablet", "tablet", _B, _N, False, 1),
    ("Cephalexin 500 mg capsule", "capsule", _U, _N, False, 1),
    ("Sulfamethoxazole-trimethoprim DS tablet", "tablet", _U, _N, False, 1),
    ("Ondansetron 4 mg ODT", "tablet", _U, _N, False, 1),
    ("Polyethylene glycol 3350 powder", "powder", _V, _N, False, 2),
    ("Albuterol HFA inhaler", "inhaler", _V, _N, False, 1.5),
    ("Fluticasone-salmeterol inhaler", "inhaler", _V, _N, False, 1),
    ("Tiotropium inhalation powder", "inhaler", _V, _N, False, 1),
    ("Lactulose 10 g/15 mL solution", "solution", _V, _N, False, 1),
    ("Nystatin 100,000 U/g cream", "cream", _V, _N, False, 1),
    ("Artificial tears eye drops", "drops", _V, _N, False, 1),
    ("Nitroglycerin 0.4 mg SL tablet", "tablet", _V, _N, False, 0.5),
    ("Ipratropium-albuterol nebules", "nebule", _V, _N, False, 1),
)
CONTROLLED_MEDS: tuple[_MedSpec, ...] = (
    ("Oxycodone 5 mg tablet", "tablet", _U, ControlledSchedule.CII, False, 3),
    ("Hydrocodone-acetaminophen 5-325 mg tablet", "tablet", _U, ControlledSchedule.CII, False, 3),
    ("Morphine sulfate ER 15 mg tablet", "tablet", _U, ControlledSchedule.CII, False, 1),
    ("Morphine sulfate 20 mg/mL oral solution", "solution", _V, ControlledSchedule.CII, False, 1),
    ("Fentanyl 25 mcg/h transdermal patch", "patch", _V, ControlledSchedule.CII, False, 0.5),
    ("Buprenorphine 5 mcg/h transdermal patch", "patch", _V, ControlledSchedule.CIII, False, 0.3),
    ("Tramadol 50 mg tablet", "tablet", _U, ControlledSchedule.CIV, False, 3),
    ("Lorazepam 0.5 mg tablet", "tablet", _U, ControlledSchedule.CIV, False, 3),
    ("Alprazolam 0.25 mg tablet", "tablet", _U, ControlledSchedule.CIV, False, 1.5),
    ("Clonazepam 0.5 mg tablet", "tablet", _U, ControlledSchedule.CIV, False, 1.5),
    ("Zolpidem 5 mg tablet", "tablet", _U, ControlledSchedule.CIV, False, 1),
    ("Temazepam 15 mg capsule", "capsule", _U, ControlledSchedule.CIV, False, 0.5),
    ("Pregabalin 75 mg capsule", "capsule", _U, ControlledSchedule.CV, False, 1.5),
    ("Lacosamide 100 mg tablet", "tablet", _U, ControlledSchedule.CV, False, 0.5),
)
COLD_MEDS: tuple[_MedSpec, ...] = (
    ("Insulin glargine 100 U/mL pen", "pen", _V, _N, True, 3),
    ("Insulin lispro 100 U/mL pen", "pen", _V, _N, True, 2),
    ("Insulin aspart 100 U/mL vial", "vial", _V, _N, True, 1),
    ("Latanoprost 0.005% eye drops", "drops", _V, _N, True, 1.5),
    ("Amoxicillin-clavulanate 400-57 mg/5 mL suspension", "suspension", _V, _N, True, 1),
    ("Liraglutide 18 mg/3 mL pen", "pen", _V, _N, True, 0.5),
    ("Tuberculin PPD 5 TU/0.1 mL vial", "vial", _V, _N, True, 0.5),
)
#: the whole formulary, in the order of its rows (NDC 00000-0001-01, ...)
MED_SPECS: tuple[_MedSpec, ...] = ROUTINE_MEDS + CONTROLLED_MEDS + COLD_MEDS

#: delivery window patterns (minutes), with their share of facilities; avoid med passes
#: (about 07:30-09:30 and 16:30-18:00)
WINDOW_PATTERNS: tuple[tuple[tuple[tuple[int, int], ...], float], ...] = (
    (((9 * 60 + 30, 12 * 60),), 0.30),
    (((13 * 60, 16 * 60 + 30),), 0.35),
    (((9 * 60 + 30, 12 * 60), (13 * 60, 16 * 60 + 30)), 0.15),
    (((10 * 60, 11 * 60 + 30), (18 * 60, 19 * 60 + 30)), 0.10),
    (((18 * 60, 19 * 60 + 30),), 0.10),
)

_ALF_NAMES = (
    "Maple Court",
    "Willow Crest",
    "Harbor View",
    "Cedar Gardens",
    "Prairie Meadows",
    "Oak Terrace",
    "Lakeside Commons",
    "Birchwood Place",
    "Sunrise Point",
    "Heritage Square",
    "Linden Park",
    "Aspen Ridge",
)


def database_is_empty(session: Session) -> bool:
    """True when there is no depot, facility or order line yet."""
    for table in (m.Depot, m.Facility, m.OrderLine):
        if session.exec(select(func.count()).select_from(table)).one():
            return False
    return True


def load_region(region: str) -> list[dict[str, str]]:
    """The CMS rows of a region (see ``data/facilities/SOURCE.md``)."""
    if region not in REGION_FILES:
        raise BadInput(f"unknown region {region!r}: choose one of {', '.join(REGION_FILES)}")
    with (FACILITY_DIR / REGION_FILES[region]).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _pick(rng: random.Random, specs: tuple[_MedSpec, ...]) -> _MedSpec:
    return rng.choices(specs, weights=[s[5] for s in specs], k=1)[0]


def _draw_med(rng: random.Random) -> _MedSpec:
    u = rng.random()
    if u < DISTRIBUTIONS["controlled_share"]:
        return _pick(rng, CONTROLLED_MEDS)
    if u < DISTRIBUTIONS["controlled_share"] + DISTRIBUTIONS["cold_share"]:
        return _pick(rng, COLD_MEDS)
    return _pick(rng, ROUTINE_MEDS)


def _offset_point(
    rng: random.Random, lat: float, lon: float, min_km: float, max_km: float
) -> tuple[float, float]:
    d = rng.uniform(min_km, max_km)
    ang = rng.uniform(0, 2 * math.pi)
    dlat = d * math.cos(ang) / 111.0
    dlon = d * math.sin(ang) / (111.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def _unit_names(beds: int, large_beds: int, unit_size: int) -> list[str]:
    if beds > large_beds:
        n = max(2, math.ceil(beds / unit_size))
        return [f"{1 + i // 2} {'North' if i % 2 == 0 else 'South'}" for i in range(n)]
    if beds > 60:
        return ["North", "South"]
    return ["Main"]


def generate_demo(
    session: Session,
    *,
    scale: str = "small",
    date: dt.date,
    timezone: str,
    seed: int = 0,
    region: str | None = None,
    facilities: int | None = None,
    replace: bool = False,
) -> dict[str, Any]:
    """Seed the demo pharmacy and the open orders of ``date``; returns a summary of counts.

    ``timezone`` is the pharmacy's (the caller passes its setting): order times are local times of
    ``date`` in it. Raises :class:`BadInput` for an unknown scale/region or a non-empty database
    (unless ``replace``, which deletes every row first). Does not commit.

    The parts are written in this order, each drawing from the one seeded random stream (so the
    order is part of "the same seed gives the same rows"): depot, facilities and their windows,
    residents, medications, the cycle-fill schedule, the day's order lines, then the resources
    sized to the day (packaging lines, pharmacists, fleet) and the constraint set.
    """
    spec, region, n_fac = _arguments(scale, region, facilities)
    rows = load_region(region)
    if replace:
        repo.clear_all(session)
    elif not database_is_empty(session):
        raise BadInput("the database already holds data; use an empty DATABASE_URL, --if-empty or --replace")

    rng = random.Random(f"ltc-demo|{seed}|{scale}|{region}|{n_fac}|{date.isoformat()}")
    settings = PlanSettings()
    depot, centre = _depot(session, rows, region)
    fac = _facilities(session, rng, rows, n_fac, centre)
    res = _residents(session, rng, fac.rows, settings.large_facility_beds, DISTRIBUTIONS["unit_size_beds"])
    med_ids = _medications(session)
    regimen_size, due_units = _cycle_schedule(session, rng, date, fac, res)
    lines = _order_lines(session, rng, date, timezone, fac, res, med_ids, regimen_size, due_units)
    day = _day_load(lines, fac, res, med_ids, settings, n_fac, spec, facilities)
    pack_lines = _packaging_lines(day.n_lines, start=day.line_start)
    session.add_all(pack_lines)
    shifts = _pharmacist_shifts(day)
    session.add_all(
        m.PharmacistShift(name=f"Pharmacist {i + 1}", start_min=start, end_min=start + n)
        for i, (start, n) in enumerate(sorted(shifts))
    )
    vehicles = _fleet(depot, n_fac, day)
    session.add_all(vehicles)
    session.add(_constraint_set())
    session.flush()

    summary = _summary(
        date=date,
        scale=scale,
        region=region,
        seed=seed,
        fac=fac,
        res=res,
        med_ids=med_ids,
        lines=lines,
        day=day,
        pack_lines=pack_lines,
        shifts=shifts,
        vehicles=vehicles,
        due_units=due_units,
    )
    repo.add_audit_event(session, who="demo", what="demo.generate", details=summary)
    return summary


# --------------------------------------------------------------------------- the parts of the demo day


def _arguments(scale: str, region: str | None, facilities: int | None) -> tuple[Scale, str, int]:
    """The scale, region and facility count asked for (a plain sentence when one is not possible)."""
    if scale not in SCALES:
        raise BadInput(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    spec = SCALES[scale]
    n_fac = facilities if facilities is not None else spec.facilities
    if n_fac < 1 or n_fac > 1000:
        raise BadInput(f"--facilities must be between 1 and 1000, got {n_fac}")
    return spec, region or spec.region, n_fac


def _depot(session: Session, rows: list[dict[str, str]], region: str) -> tuple[m.Depot, tuple[float, float]]:
    """The pharmacy at the centre of the region's nursing homes (a synthetic location); and that centre."""
    clat = sum(float(r["latitude"]) for r in rows) / len(rows)
    clon = sum(float(r["longitude"]) for r in rows) / len(rows)
    nearest = min(
        rows, key=lambda r: (float(r["latitude"]) - clat) ** 2 + (float(r["longitude"]) - clon) ** 2
    )
    depot = m.Depot(
        name=f"Demo LTC Pharmacy, {REGION_NAMES[region]} (synthetic)",
        address=f"synthetic location near {nearest['address'].title()}, {nearest['city'].title()}, IL",
        lat=round(clat, 5),
        lon=round(clon, 5),
        open_min=5 * 60,
        close_min=22 * 60,
        synthetic=True,
    )
    session.add(depot)
    session.flush()
    assert depot.id is not None
    return depot, (clat, clon)


@dataclass
class _Facilities:
    rows: list[m.Facility]
    windows: list[tuple[tuple[int, int], ...]]  # delivery windows (minutes) per facility, every weekday
    n_real: int
    n_alf: int


def _facilities(
    session: Session, rng: random.Random, rows: list[dict[str, str]], n_fac: int, centre: tuple[float, float]
) -> _Facilities:
    """The CMS nursing homes nearest the pharmacy plus synthetic assisted-living facilities, their
    cycle lengths and delivery windows."""
    n_alf = max(1, round(n_fac * DISTRIBUTIONS["synthetic_alf_share"])) if n_fac >= 3 else 0
    n_real = min(len(rows), n_fac - n_alf)
    n_alf = n_fac - n_real
    clat, clon = centre

    # a pharmacy serves its neighbourhood: the nursing homes nearest the region's centre, with some
    # seeded randomness (distance x U(0.6, 1.4)), so small and medium days are compact
    def _spread(r: dict[str, str]) -> float:
        dlat = float(r["latitude"]) - clat
        dlon = (float(r["longitude"]) - clon) * math.cos(math.radians(clat))
        return math.hypot(dlat, dlon) * rng.uniform(0.6, 1.4)

    ranked = sorted(rows, key=lambda r: (_spread(r), r["provider_id"]))
    real_rows = sorted(ranked[:n_real], key=lambda r: r["provider_id"])
    fac_rows = [_nursing_home(rng, r) for r in real_rows]
    fac_rows += [_assisted_living(rng, i, rng.choice(real_rows or rows)) for i in range(n_alf)]
    fac_windows = _cycles_and_windows(rng, fac_rows)
    session.add_all(fac_rows)
    session.flush()
    window_rows = [
        {"facility_id": f.id, "weekday": wd, "start_min": s, "end_min": e}
        for f, pattern in zip(fac_rows, fac_windows, strict=True)
        for wd in range(7)
        for s, e in pattern
    ]
    session.execute(sa.insert(m.FacilityWindow), window_rows)
    return _Facilities(fac_rows, fac_windows, n_real, n_alf)


def _nursing_home(rng: random.Random, r: dict[str, str]) -> m.Facility:
    """A real nursing home from its CMS row (service times drawn)."""
    kind = FacilityKind.NURSING_FACILITY if r["facility_type"] == "NF" else FacilityKind.SKILLED_NURSING
    return m.Facility(
        external_id=r["provider_id"],
        name=r["name"],
        kind=kind,
        address=r["address"],
        city=r["city"],
        state=r["state"],
        zip=r["zip"],
        lat=float(r["latitude"]),
        lon=float(r["longitude"]),
        beds=int(r["beds"]),
        service_fixed_min=rng.choice((8, 10, 12)),
        service_per_tote_min=rng.choice((0.5, 0.75, 1.0)),
        has_fridge=True,
    )


def _assisted_living(rng: random.Random, i: int, anchor: dict[str, str]) -> m.Facility:
    """Synthetic assisted-living facility ``i``, 0.3-1.5 km from the nursing home ``anchor``."""
    lat, lon = _offset_point(rng, float(anchor["latitude"]), float(anchor["longitude"]), 0.3, 1.5)
    city = anchor["city"].title()
    return m.Facility(
        external_id=f"SYN-ALF-{i + 1:04d}",
        name=f"{_ALF_NAMES[i % len(_ALF_NAMES)]} Assisted Living of {city} (synthetic)",
        kind=FacilityKind.ASSISTED_LIVING,
        address=f"near {anchor['address'].title()}",
        city=anchor["city"],
        state="IL",
        zip=anchor["zip"],
        lat=lat,
        lon=lon,
        beds=rng.randint(*DISTRIBUTIONS["alf_beds"]),
        service_fixed_min=8,
        service_per_tote_min=0.5,
        has_fridge=rng.random() < 0.5,
        synthetic=True,
    )


def _cycles_and_windows(rng: random.Random, fac_rows: list[m.Facility]) -> list[tuple[tuple[int, int], ...]]:
    """Each facility's cycle length (set on the row) and delivery window pattern (returned)."""
    pattern_weights = [w for _, w in WINDOW_PATTERNS]
    cycle_lengths = list(DISTRIBUTIONS["cycle_length_days"])
    cycle_weights = list(DISTRIBUTIONS["cycle_length_days"].values())
    fac_windows: list[tuple[tuple[int, int], ...]] = []
    for f in fac_rows:
        f.cycle_length_days = rng.choices(cycle_lengths, weights=cycle_weights, k=1)[0]
        fac_windows.append(rng.choices([p for p, _ in WINDOW_PATTERNS], weights=pattern_weights, k=1)[0])
    return fac_windows


@dataclass
class _Residents:
    rows: list[dict[str, Any]]  # every resident row (with one e-kit pseudo-resident per facility)
    units: list[list[str]]  # wing names per facility
    index: list[list[int]]  # indexes into ``rows`` per facility (without the e-kit)
    ids: dict[str, int]  # external id -> database id


def _residents(
    session: Session, rng: random.Random, fac_rows: list[m.Facility], large_beds: int, unit_size: int
) -> _Residents:
    """Residents at the documented occupancy, in wings, two to a room; one e-kit per facility."""
    occ_lo, occ_hi = DISTRIBUTIONS["occupancy"]
    res_rows: list[dict[str, Any]] = []
    fac_units: list[list[str]] = []
    fac_res_idx: list[list[int]] = []
    for f in fac_rows:
        units = _unit_names(f.beds, large_beds, unit_size)
        fac_units.append(units)
        n_res = max(1, round(f.beds * rng.uniform(occ_lo, occ_hi)))
        idx = []
        for k in range(n_res):
            unit = units[k * len(units) // n_res]
            room = f"{100 * (1 + units.index(unit)) + 1 + (k % 40) // 2}{'AB'[k % 2]}"
            idx.append(len(res_rows))
            res_rows.append(
                {
                    "external_id": f"{f.external_id}-R{k + 1:04d}",
                    "facility_id": f.id,
                    "unit": unit,
                    "room": room,
                }
            )
        fac_res_idx.append(idx)
        res_rows.append(
            {"external_id": f"{f.external_id}-EKIT", "facility_id": f.id, "unit": units[0], "room": "EKIT"}
        )
    session.execute(sa.insert(m.Resident), res_rows)
    res_ids = dict(session.execute(sa.select(m.Resident.external_id, m.Resident.id)).all())
    return _Residents(res_rows, fac_units, fac_res_idx, res_ids)


def _medications(session: Session) -> dict[str, int]:
    """The formulary (routine, controlled, cold); returns name -> database id."""
    session.execute(
        sa.insert(m.Medication),
        [
            {
                "name": s[0],
                "ndc": f"00000-{i + 1:04d}-01",
                "form": s[1],
                "packaging_kind": s[2],
                "schedule": s[3],
                "refrigerated": s[4],
            }
            for i, s in enumerate(MED_SPECS)
        ],
    )
    return dict(session.execute(sa.select(m.Medication.name, m.Medication.id)).all())


def _cycle_schedule(
    session: Session, rng: random.Random, date: dt.date, fac: _Facilities, res: _Residents
) -> tuple[list[int], dict[int, set[str]]]:
    """Each resident's regimen size, and the wings of each facility whose cycle fill is due today.

    Cycle groups: every wing (unit) has its own cycle day, wing i on anchor + i days. Each
    facility's offset is chosen so that the day's running load stays close to the long-run
    average daily load (sum of group sizes x E[1 / cycle length]).
    """
    res_rows = res.rows
    regimen_size = [4 + sum(rng.random() < 0.5 for _ in range(8)) for _ in range(len(res_rows))]
    order = list(range(len(fac.rows)))
    rng.shuffle(order)
    cum_expected = 0.0
    mean_inv_cycle = sum(w / n for n, w in DISTRIBUTIONS["cycle_length_days"].items())
    cum_actual = 0
    due_units: dict[int, set[str]] = {}
    for fi in order:
        f = fac.rows[fi]
        groups: list[set[str]] = [{u} for u in res.units[fi]]
        load = [sum(regimen_size[j] for j in res.index[fi] if res_rows[j]["unit"] in g) for g in groups]
        L = f.cycle_length_days
        cum_expected += sum(load) * mean_inv_cycle
        best: list[tuple[float, int]] = []
        for offset in range(L):  # group i is due today iff (offset + i) % L == 0
            today = sum(ld for i, ld in enumerate(load) if (offset + i) % L == 0)
            best.append((abs(cum_actual + today - cum_expected), offset))
        lo = min(b for b, _ in best)
        offset = rng.choice([o for b, o in best if b <= lo + 1e-9])
        due = set().union(*[g for i, g in enumerate(groups) if (offset + i) % L == 0]) if groups else set()
        cum_actual += sum(ld for i, ld in enumerate(load) if (offset + i) % L == 0)
        due_units[fi] = due
        anchor = date - dt.timedelta(days=offset)
        f.cycle_anchor = anchor
        f.cycle_weekday = anchor.weekday()
        session.add(f)
    return regimen_size, due_units


@dataclass
class _Lines:
    """The day's order lines as insert rows; :meth:`add` numbers them ``D<date>-<n>``."""

    date: dt.date
    timezone: str
    fac_rows: list[m.Facility]
    res_ids: dict[str, int]
    med_ids: dict[str, int]
    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def add(
        self,
        fi: int,
        res_ext: str,
        med: _MedSpec,
        oclass: OrderClass,
        doses: int,
        received: int,
        need_by: int,
        received_day: dt.date | None = None,
    ) -> None:
        from ltc_scheduler.problem.builder import local_to_utc  # local import: builder imports db

        kind = med[2]
        cards = 1 if kind == PackagingKind.VIAL_BOTTLE else max(1, math.ceil(doses / 30))
        self.rows.append(
            {
                "external_id": f"D{self.date:%Y%m%d}-{len(self.rows) + 1:06d}",
                "resident_id": self.res_ids[res_ext],
                "facility_id": self.fac_rows[fi].id,
                "medication_id": self.med_ids[med[0]],
                "order_class": oclass,
                "doses": doses,
                "cards": cards,
                "received_at": local_to_utc(received_day or self.date, received, self.timezone),
                "need_by": local_to_utc(self.date, need_by, self.timezone),
                "status": OrderStatus.OPEN,
            }
        )


def _order_lines(
    session: Session,
    rng: random.Random,
    date: dt.date,
    timezone: str,
    fac: _Facilities,
    res: _Residents,
    med_ids: dict[str, int],
    regimen_size: list[int],
    due_units: dict[int, set[str]],
) -> list[dict[str, Any]]:
    """The day's open order lines, facility by facility: cycle fill, refills and PRN, STAT,
    new admissions, e-kit restock."""
    out = _Lines(date, timezone, fac.rows, res.ids, med_ids)
    for fi, f in enumerate(fac.rows):
        windows = fac.windows[fi]
        residents = [res.rows[j] for j in res.index[fi]]
        # a pharmacy sends today only what arrived by the order cut-off of its last delivery run
        # (``order_cutoff_before_window_min`` before the facility's last window opens, at the
        # latest 11:00); later orders belong to tomorrow's plan
        cutoff = min(11 * 60, windows[-1][0] - DISTRIBUTIONS["order_cutoff_before_window_min"])
        _cycle_fill(out, rng, fi, f, residents, regimen_size, res.index[fi], due_units[fi], windows)
        _refills_and_prn(out, rng, fi, residents, cutoff, windows)
        _stat_first_doses(out, rng, fi, residents, windows)
        _new_admissions(out, rng, fi, residents, windows)
        _ekit_restock(out, rng, fi, f, cutoff, windows)
    for start in range(0, len(out.rows), 5000):
        session.execute(sa.insert(m.OrderLine), out.rows[start : start + 5000])
    return out.rows


def _cycle_fill(
    out: _Lines,
    rng: random.Random,
    fi: int,
    f: m.Facility,
    residents: list[dict[str, Any]],
    regimen_size: list[int],
    index: list[int],
    due: set[str],
    windows: tuple[tuple[int, int], ...],
) -> None:
    """The cycle fill of the wings due today: every scheduled med of every resident there."""
    for j, r in zip(index, residents, strict=True):
        if r["unit"] not in due:
            continue
        seen: set[str] = set()
        for _ in range(regimen_size[j]):
            med = _draw_med(rng)
            for _retry in range(5):
                if med[0] not in seen:
                    break
                med = _draw_med(rng)
            if med[0] in seen:
                continue
            seen.add(med[0])
            freq = rng.choice((1, 1, 1, 2, 2, 3))
            out.add(
                fi,
                r["external_id"],
                med,
                OrderClass.CYCLE_FILL,
                freq * f.cycle_length_days,
                rng.randint(8 * 60, 18 * 60),
                windows[-1][1],
                received_day=out.date - dt.timedelta(days=rng.choice((2, 3, 3, 4))),
            )


def _refills_and_prn(
    out: _Lines,
    rng: random.Random,
    fi: int,
    residents: list[dict[str, Any]],
    cutoff: int,
    windows: tuple[tuple[int, int], ...],
) -> None:
    """Refills and PRN: received yesterday afternoon to the cut-off, due by the last window."""
    for oclass, rate, doses in (
        (OrderClass.REFILL, DISTRIBUTIONS["refill_per_resident"], 30),
        (OrderClass.PRN, DISTRIBUTIONS["prn_per_resident"], 20),
    ):
        for _ in range(_poisson(rng, rate * len(residents))):
            r = rng.choice(residents)
            rec = rng.randint(-10 * 60, cutoff)
            out.add(fi, r["external_id"], _draw_med(rng), oclass, doses, rec, windows[-1][1])


def _stat_first_doses(
    out: _Lines,
    rng: random.Random,
    fi: int,
    residents: list[dict[str, Any]],
    windows: tuple[tuple[int, int], ...],
) -> None:
    """STAT first doses: need-by = received + the STAT promise, inside one of the facility's windows."""
    for _ in range(_poisson(rng, DISTRIBUTIONS["stat_per_resident"] * len(residents))):
        r = rng.choice(residents)
        ws, we = rng.choice(windows)
        lo = max(ws + 90, 11 * 60)
        need = rng.randint(min(lo, we), we)
        received = need - DISTRIBUTIONS["stat_promise_min"]
        out.add(fi, r["external_id"], _draw_med(rng), OrderClass.STAT, 6, received, need)


def _new_admissions(
    out: _Lines,
    rng: random.Random,
    fi: int,
    residents: list[dict[str, Any]],
    windows: tuple[tuple[int, int], ...],
) -> None:
    """New admissions: a whole regimen, first doses by the end of the last window."""
    last_end = windows[-1][1]
    for _ in range(_poisson(rng, DISTRIBUTIONS["admissions_per_resident"] * len(residents))):
        r = rng.choice(residents)
        rec = last_end - rng.randint(300, 480)
        for _k in range(rng.randint(6, 12)):
            out.add(fi, r["external_id"], _draw_med(rng), OrderClass.NEW_ADMISSION, 7, rec, last_end)


def _ekit_restock(
    out: _Lines, rng: random.Random, fi: int, f: m.Facility, cutoff: int, windows: tuple[tuple[int, int], ...]
) -> None:
    """Emergency-kit restock, for the pseudo-resident ``"<facility>-EKIT"``."""
    if rng.random() < DISTRIBUTIONS["ekit_restock_prob"]:
        rec = rng.randint(-6 * 60, min(8 * 60, cutoff))
        for _k in range(rng.randint(4, 12)):
            out.add(
                fi, f"{f.external_id}-EKIT", _draw_med(rng), OrderClass.EKIT_RESTOCK, 10, rec, windows[-1][1]
            )


@dataclass
class _DayLoad:
    """What the resources are sized to: the day's cards and the estimates of :func:`_estimate_day`."""

    cards_by_kind: Counter[PackagingKind]
    n_lines: int  # packaging lines
    line_start: int  # when they start (a night shift on large days)
    verify_min: int
    totes_est: int
    batches_est: int
    morning_min: int
    stops_est: int


def _day_load(
    lines: list[dict[str, Any]],
    fac: _Facilities,
    res: _Residents,
    med_ids: dict[str, int],
    settings: PlanSettings,
    n_fac: int,
    spec: Scale,
    facilities: int | None,
) -> _DayLoad:
    """The day's cards per packaging kind, the packaging lines and the verification estimate."""
    cards_by_kind: Counter[PackagingKind] = Counter()
    kind_by_id = {med_ids[s[0]]: s[2] for s in MED_SPECS}
    for ln in lines:
        cards_by_kind[kind_by_id[ln["medication_id"]]] += ln["cards"]
    # a pharmacy with more than ``night_shift_above_facilities`` facilities runs a night shift:
    # cycle fills (received days before) are packed overnight so that the morning vans leave loaded
    n_lines = spec.packaging_lines if facilities is None else _lines_for(n_fac)
    D = DISTRIBUTIONS
    line_start = D["night_shift_start_min"] if n_fac > D["night_shift_above_facilities"] else 5 * 60
    res_unit = {res.ids[r["external_id"]]: r["unit"] for r in res.rows}
    controlled_ids = {med_ids[x[0]] for x in CONTROLLED_MEDS}
    cold_ids = {med_ids[x[0]] for x in COLD_MEDS}
    morning_fac = {f.id for f, ws in zip(fac.rows, fac.windows, strict=True) if ws[0][0] < 12 * 60}
    verify_min, totes_est, batches_est, morning_min, stops_est = _estimate_day(
        lines,
        fac.rows,
        kind_by_id,
        res_unit,
        settings,
        D["minutes_per_card"],
        controlled_ids,
        cold_ids,
        morning_fac,
    )
    return _DayLoad(
        cards_by_kind, n_lines, line_start, verify_min, totes_est, batches_est, morning_min, stops_est
    )


def _pharmacist_shifts(day: _DayLoad) -> list[tuple[int, int]]:
    """Pharmacist shifts ``(start, minutes)`` for the verification volume at the target utilisation.

    05:00-13:00 and 13:00-21:00 always (verification is covered all day); night pharmacists when
    packaging starts at night; then full 8-hour shifts staggered from 06:30 every 90 min and one
    part-time shift (at least 4 h) for the rest.
    """
    target = DISTRIBUTIONS["verification_utilisation_target"]
    need = day.verify_min / target
    shifts = [(5 * 60, 480), (13 * 60, 480)]
    if day.line_start < 5 * 60:
        # night pharmacists (from the night shift's start, 8 h) for the routine work of the
        # facilities with a morning window, verified by 08:45 at about the target utilisation
        # (rounded to the nearest; the 05:00 pharmacist helps from 05:00)
        usable = 8 * 60 + 45 - day.line_start
        n_night = max(1, math.ceil(day.morning_min / target / usable - 0.5))
        shifts += [(day.line_start, 480)] * n_night
    rest = need - sum(n for _, n in shifts)
    k = 0
    while rest > 60:
        n = 480 if rest >= 480 else min(480, max(240, 30 * math.ceil(rest / 30)))
        shifts.append((6 * 60 + 30 + (k % 4) * 90, n))
        rest -= n
        k += 1
    return shifts


#: van tote capacities and cooler sizes, in turn (authorised vans get 2 more cooler totes)
_VAN_CAPACITIES = (48, 40, 60, 36, 52, 44)
_VAN_COOLERS = (4, 2, 3, 2, 4, 3)


def _fleet(depot: m.Depot, n_fac: int, day: _DayLoad) -> list[m.Vehicle]:
    """Enough vans for the stops and for the day's totes (two trips, loaded to about 85 %)."""
    caps = _VAN_CAPACITIES
    mean_cap = sum(caps) / len(caps)
    n_veh = max(
        DISTRIBUTIONS["min_vans"],
        math.ceil(n_fac / 10),
        math.ceil(day.totes_est / (2 * mean_cap * 0.85)),
        math.ceil(day.stops_est / DISTRIBUTIONS["stops_per_van_day"]),
    )
    return [_van(depot, i) for i in range(n_veh)]


def _van(depot: m.Depot, i: int) -> m.Vehicle:
    """Van ``i``: 60 % early shift, 40 % late shift (at least one late); 9 in 10 drivers authorised.

    Authorised drivers on both shifts: with 10 % controlled lines nearly every stop carries some
    controlled item, so a van without authorisation can take few stops (measured on the medium
    day: 3 in 5 authorised left 20 more morning stops late). Controlled and cold items often
    travel together, so authorised vans get a larger cooler.
    """
    early = i % 5 not in (1, 3)
    authorised = i % 10 != 9
    return m.Vehicle(
        name=f"Van {i + 1:02d}",
        depot_id=depot.id,
        tote_capacity=_VAN_CAPACITIES[i % len(_VAN_CAPACITIES)],
        cold_capacity=_VAN_COOLERS[i % len(_VAN_COOLERS)] + (2 if authorised else 0),
        controlled_ok=authorised,
        shift_start_min=8 * 60 if early else 12 * 60,
        shift_end_min=16 * 60 + 30 if early else 20 * 60 + 30,
        max_route_min=270,
        break_min=30,
        break_start_min=11 * 60 + 30 if early else 15 * 60 + 30,
        break_end_min=13 * 60 + 30 if early else 17 * 60 + 30,
        max_trips=2,
    )


def _constraint_set() -> m.ConstraintSet:
    """Version 1 of the planning settings (the defaults), current."""
    return m.ConstraintSet(
        version=1,
        created_by="demo",
        settings=dataclasses.asdict(PlanSettings(version=1)),
        minutes_per_card=DISTRIBUTIONS["minutes_per_card"],
        is_current=True,
    )


def _summary(
    *,
    date: dt.date,
    scale: str,
    region: str,
    seed: int,
    fac: _Facilities,
    res: _Residents,
    med_ids: dict[str, int],
    lines: list[dict[str, Any]],
    day: _DayLoad,
    pack_lines: list[m.PackagingLine],
    shifts: list[tuple[int, int]],
    vehicles: list[m.Vehicle],
    due_units: dict[int, set[str]],
) -> dict[str, Any]:
    """The counts and shares ``ltc-scheduler demo`` prints (and the audit event records)."""
    by_class = Counter(str(ln["order_class"]) for ln in lines)
    controlled_names = {s[0] for s in CONTROLLED_MEDS}
    cold_names = {s[0] for s in COLD_MEDS}
    id_to_name = {v: k for k, v in med_ids.items()}
    n_ctrl = sum(1 for ln in lines if id_to_name[ln["medication_id"]] in controlled_names)
    n_cold = sum(1 for ln in lines if id_to_name[ln["medication_id"]] in cold_names)
    total_cards = sum(day.cards_by_kind.values())
    line_cap = sum(
        pl.cards_per_hour * (pl.available_end_min - pl.available_start_min) / 60 for pl in pack_lines
    )
    pharm_minutes = sum(n for _, n in shifts)
    return {
        "date": date.isoformat(),
        "scale": scale,
        "region": region,
        "seed": seed,
        "facilities": len(fac.rows),
        "real_facilities": fac.n_real,
        "synthetic_facilities": fac.n_alf,
        "beds": sum(f.beds for f in fac.rows),
        "residents": sum(len(x) for x in res.index),
        "medications": len(MED_SPECS),
        "order_lines": len(lines),
        "by_class": dict(sorted(by_class.items())),
        "controlled_share": round(n_ctrl / max(1, len(lines)), 4),
        "cold_share": round(n_cold / max(1, len(lines)), 4),
        "cards": total_cards,
        "cards_by_kind": {str(k): v for k, v in sorted(day.cards_by_kind.items())},
        "packaging_lines": len(pack_lines),
        "packaging_utilisation": round(total_cards / line_cap, 3),
        "pharmacists": len(shifts),
        "verification_utilisation": round(day.verify_min / pharm_minutes, 3),
        "verification_minutes_estimate": day.verify_min,
        "batches_estimate": day.batches_est,
        "totes_estimate": day.totes_est,
        "fleet_tote_capacity": sum(v.tote_capacity * v.max_trips for v in vehicles),
        "vehicles": len(vehicles),
        "stops_estimate": day.stops_est,
        "packaging_line_hours": f"{day.line_start // 60:02d}:00-21:00",
        "facilities_with_cycle_fill_today": sum(1 for u in due_units.values() if u),
    }


def _estimate_day(
    lines: list[dict[str, Any]],
    fac_rows: list[m.Facility],
    kind_by_id: dict[int, PackagingKind],
    res_unit: dict[int, str],
    settings: PlanSettings,
    mpc: float,
    controlled_ids: set[int],
    cold_ids: set[int],
    morning_fac: set[int] | None = None,
) -> tuple[int, int, int, int, int]:
    """Estimated ``(pharmacist minutes, totes, batches, morning minutes, stops)`` of the day.

    Batches are estimated the way a pharmacy packs: per facility (and wing when the facility has
    more than ``large_facility_beds`` beds), packaging kind, controlled / cold / urgent apart,
    split at ``max_batch_cards``. Each batch takes at least one pharmacist minute; cold and
    controlled batches travel in totes of their own, the other batches of a facility (wing) and
    urgency share totes of ``cards_per_tote`` cards.
    """
    beds = {f.id: f.beds for f in fac_rows}
    groups: Counter[tuple[Any, ...]] = Counter()
    urgent = {OrderClass.STAT, OrderClass.NEW_ADMISSION}
    for ln in lines:
        fid, mid = ln["facility_id"], ln["medication_id"]
        unit = res_unit[ln["resident_id"]] if beds[fid] > settings.large_facility_beds else ""
        key = (
            fid,
            unit,
            kind_by_id[mid],
            mid in controlled_ids,
            mid in cold_ids,
            ln["order_class"] in urgent,
        )
        groups[key] += ln["cards"]
    minutes = totes = batches = morning = 0
    shared: Counter[tuple[Any, ...]] = Counter()
    for (fid, unit, _kind, controlled, cold, urg), cards in groups.items():
        n_batches = max(1, math.ceil(cards / settings.max_batch_cards))
        per = cards / n_batches
        batches += n_batches
        m_batch = n_batches * max(1, math.ceil(per * mpc))
        minutes += m_batch
        if morning_fac is not None and fid in morning_fac and not urg:
            morning += m_batch
        if controlled or cold:
            totes += n_batches * max(1, math.ceil(per / settings.cards_per_tote))
        else:
            shared[(fid, unit, urg)] += cards
    totes += sum(math.ceil(c / settings.cards_per_tote) for c in shared.values())
    # stops: one routine delivery per facility, plus a STAT run per facility and arrival wave of
    # urgent orders (a new wave when an order arrives more than 90 min after the wave's first)
    arrivals: dict[int, list[dt.datetime]] = {}
    for ln in lines:
        if ln["order_class"] in urgent:
            arrivals.setdefault(ln["facility_id"], []).append(ln["received_at"])
    waves = 0
    for times in arrivals.values():
        first: dt.datetime | None = None
        for t in sorted(times):
            if first is None or t - first > dt.timedelta(minutes=90):
                first, waves = t, waves + 1
    stops = len({k[0] for k in groups}) + waves
    return minutes, totes, batches, morning, stops


def _lines_for(n_fac: int) -> int:
    return 3 if n_fac <= 30 else 4 if n_fac <= 100 else 6 if n_fac <= 300 else 12


_SECOND_NAMES = {
    "Blister line A": "Blister line E",
    "Blister line B": "Blister line F",
    "Unit-dose line C": "Unit-dose line G",
    "Unit-dose line D": "Unit-dose line H",
    "Pouch packager": "Pouch packager 2",
    "Vial/bottle bench": "Vial/bottle bench 2",
}


def _packaging_lines(n: int, start: int = 5 * 60) -> list[m.PackagingLine]:
    """3, 4, 6 or 12 lines running from ``start`` (05:00, or 01:00 with a night shift) to 21:00.

    Rates are cards (blister/unit-dose), pouch strips or labelled bottles per hour. Changeovers:
    15 min when a multi-kind line switches kind; 1 min per facility switch (the machines print
    facility and resident on every card or pouch; the operator swaps the output tote and starts the
    facility's count sheet).
    """
    B, U, P, V = (k.value for k in (_B, _U, _P, _V))
    specs: dict[int, list[tuple[str, str, int, int, list[list[int]]]]] = {
        3: [
            ("Blister line A", f"{B},{U}", 500, 1, []),
            ("Pouch packager", f"{P}", 900, 1, []),
            ("Vial/bottle bench", f"{V}", 300, 1, []),
        ],
        4: [
            ("Blister line A", f"{B},{U}", 550, 1, []),
            ("Blister line B", f"{B},{U}", 500, 1, [[13 * 60, 13 * 60 + 30]]),
            ("Pouch packager", f"{P}", 900, 1, []),
            ("Vial/bottle bench", f"{V}", 350, 1, []),
        ],
        6: [
            ("Blister line A", f"{B}", 550, 1, []),
            ("Blister line B", f"{B},{U}", 500, 1, [[13 * 60, 13 * 60 + 30]]),
            ("Unit-dose line C", f"{U},{B}", 450, 1, []),
            ("Unit-dose line D", f"{U}", 400, 1, [[10 * 60, 10 * 60 + 30]]),
            ("Pouch packager", f"{P}", 900, 1, []),
            ("Vial/bottle bench", f"{V}", 400, 1, []),
        ],
    }
    # 12 lines (more than 300 facilities): the 6-line floor twice, the second set's lunch
    # breaks an hour later
    second = [
        (_SECOND_NAMES[name], kinds, rate, co, [[a + 60, b + 60] for a, b in down])
        for name, kinds, rate, co, down in specs[6]
    ]
    specs[12] = specs[6] + second
    return [
        m.PackagingLine(
            name=name,
            kinds=kinds,
            cards_per_hour=rate,
            changeover_kind_min=15,
            changeover_facility_min=co,
            available_start_min=start,
            available_end_min=21 * 60,
            downtime=down,
        )
        for name, kinds, rate, co, down in specs[n]
    ]


def _poisson(rng: random.Random, lam: float) -> int:
    """Poisson sample (Knuth for small means, normal approximation above 30)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k, p = 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
