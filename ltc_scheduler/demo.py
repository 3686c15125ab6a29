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
    seed: int = 0,
    region: str | None = None,
    facilities: int | None = None,
    timezone: str | None = None,
    replace: bool = False,
) -> dict[str, Any]:
    """Seed the demo pharmacy and the open orders of ``date``; returns a summary of counts.

    Raises :class:`BadInput` for an unknown scale/region or a non-empty database (unless
    ``replace``, which deletes every row first). Does not commit.
    """
    if scale not in SCALES:
        raise BadInput(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    spec = SCALES[scale]
    region = region or spec.region
    n_fac = facilities if facilities is not None else spec.facilities
    if n_fac < 1 or n_fac > 1000:
        raise BadInput(f"--facilities must be between 1 and 1000, got {n_fac}")
    if timezone is None:
        from ltc_scheduler.config import get_settings

        timezone = get_settings().timezone
    rows = load_region(region)
    if replace:
        repo.clear_all(session)
    elif not database_is_empty(session):
        raise BadInput("the database already holds data; use an empty DATABASE_URL, --if-empty or --replace")

    from ltc_scheduler.problem.builder import local_to_utc  # local import: builder imports db

    rng = random.Random(f"ltc-demo|{seed}|{scale}|{region}|{n_fac}|{date.isoformat()}")
    settings = PlanSettings()
    large_beds = settings.large_facility_beds
    unit_size = DISTRIBUTIONS["unit_size_beds"]

    # ---------------------------------------------------------------- depot
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

    # ---------------------------------------------------------------- facilities
    n_alf = max(1, round(n_fac * DISTRIBUTIONS["synthetic_alf_share"])) if n_fac >= 3 else 0
    n_real = min(len(rows), n_fac - n_alf)
    n_alf = n_fac - n_real

    # a pharmacy serves its neighbourhood: the nursing homes nearest the region's centre, with some
    # seeded randomness (distance x U(0.6, 1.4)), so small and medium days are compact
    def _spread(r: dict[str, str]) -> float:
        dlat = float(r["latitude"]) - clat
        dlon = (float(r["longitude"]) - clon) * math.cos(math.radians(clat))
        return math.hypot(dlat, dlon) * rng.uniform(0.6, 1.4)

    ranked = sorted(rows, key=lambda r: (_spread(r), r["provider_id"]))
    real_rows = sorted(ranked[:n_real], key=lambda r: r["provider_id"])
    pattern_weights = [w for _, w in WINDOW_PATTERNS]
    cycle_lengths = list(DISTRIBUTIONS["cycle_length_days"])
    cycle_weights = list(DISTRIBUTIONS["cycle_length_days"].values())

    fac_rows: list[m.Facility] = []
    fac_windows: list[tuple[tuple[int, int], ...]] = []
    for r in real_rows:
        kind = FacilityKind.NURSING_FACILITY if r["facility_type"] == "NF" else FacilityKind.SKILLED_NURSING
        fac_rows.append(
            m.Facility(
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
        )
    for i in range(n_alf):
        anchor = rng.choice(real_rows or rows)
        lat, lon = _offset_point(rng, float(anchor["latitude"]), float(anchor["longitude"]), 0.3, 1.5)
        city = anchor["city"].title()
        fac_rows.append(
            m.Facility(
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
        )
    for f in fac_rows:
        f.cycle_length_days = rng.choices(cycle_lengths, weights=cycle_weights, k=1)[0]
        fac_windows.append(rng.choices([p for p, _ in WINDOW_PATTERNS], weights=pattern_weights, k=1)[0])
    session.add_all(fac_rows)
    session.flush()

    window_rows = [
        {"facility_id": f.id, "weekday": wd, "start_min": s, "end_min": e}
        for f, pattern in zip(fac_rows, fac_windows, strict=True)
        for wd in range(7)
        for s, e in pattern
    ]
    session.execute(sa.insert(m.FacilityWindow), window_rows)

    # ---------------------------------------------------------------- residents
    occ_lo, occ_hi = DISTRIBUTIONS["occupancy"]
    res_rows: list[dict[str, Any]] = []
    fac_units: list[list[str]] = []
    fac_res_idx: list[list[int]] = []  # indexes into res_rows per facility (without the e-kit)
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

    # ---------------------------------------------------------------- medications
    med_specs = ROUTINE_MEDS + CONTROLLED_MEDS + COLD_MEDS
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
            for i, s in enumerate(med_specs)
        ],
    )
    med_ids = dict(session.execute(sa.select(m.Medication.name, m.Medication.id)).all())

    # ---------------------------------------------------------------- cycle-fill schedule
    # Cycle groups: every wing (unit) has its own cycle day, wing i on anchor + i days. Each facility's
    # offset is chosen so that the day's running load stays close to the long-run average daily load
    # (sum of group sizes x E[1 / cycle length]).
    regimen_size = [4 + sum(rng.random() < 0.5 for _ in range(8)) for _ in range(len(res_rows))]
    order = list(range(len(fac_rows)))
    rng.shuffle(order)
    cum_expected = 0.0
    mean_inv_cycle = sum(w / n for n, w in DISTRIBUTIONS["cycle_length_days"].items())
    cum_actual = 0
    due_units: dict[int, set[str]] = {}
    for fi in order:
        f = fac_rows[fi]
        groups: list[set[str]] = [{u} for u in fac_units[fi]]
        load = [sum(regimen_size[j] for j in fac_res_idx[fi] if res_rows[j]["unit"] in g) for g in groups]
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

    # ---------------------------------------------------------------- the day's order lines
    lines: list[dict[str, Any]] = []
    n_line = 0

    def add_line(
        fi: int,
        res_ext: str,
        med: _MedSpec,
        oclass: OrderClass,
        doses: int,
        received: int,
        need_by: int,
        received_day: dt.date = date,
    ) -> None:
        nonlocal n_line
        n_line += 1
        kind = med[2]
        cards = 1 if kind == PackagingKind.VIAL_BOTTLE else max(1, math.ceil(doses / 30))
        lines.append(
            {
                "external_id": f"D{date:%Y%m%d}-{n_line:06d}",
                "resident_id": res_ids[res_ext],
                "facility_id": fac_rows[fi].id,
                "medication_id": med_ids[med[0]],
                "order_class": oclass,
                "doses": doses,
                "cards": cards,
                "received_at": local_to_utc(received_day, received, timezone),
                "need_by": local_to_utc(date, need_by, timezone),
                "status": OrderStatus.OPEN,
            }
        )

    D = DISTRIBUTIONS
    for fi, f in enumerate(fac_rows):
        windows = fac_windows[fi]
        last_end = windows[-1][1]
        residents = [res_rows[j] for j in fac_res_idx[fi]]
        n_res = len(residents)
        # cycle fill of the wings due today: every scheduled med of every resident
        for j in fac_res_idx[fi]:
            r = res_rows[j]
            if r["unit"] not in due_units[fi]:
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
                add_line(
                    fi,
                    r["external_id"],
                    med,
                    OrderClass.CYCLE_FILL,
                    freq * f.cycle_length_days,
                    rng.randint(8 * 60, 18 * 60),
                    last_end,
                    received_day=date - dt.timedelta(days=rng.choice((2, 3, 3, 4))),
                )
        # refills and PRN: received yesterday afternoon to this morning, due by the last window. A
        # pharmacy sends today only what arrived by the order cut-off of its last delivery run
        # (``order_cutoff_before_window_min`` before the facility's last window opens, at the
        # latest 11:00); later orders belong to tomorrow's plan
        cutoff = min(11 * 60, windows[-1][0] - D["order_cutoff_before_window_min"])
        for oclass, rate, doses in (
            (OrderClass.REFILL, D["refill_per_resident"], 30),
            (OrderClass.PRN, D["prn_per_resident"], 20),
        ):
            for _ in range(_poisson(rng, rate * n_res)):
                r = rng.choice(residents)
                rec = rng.randint(-10 * 60, cutoff)
                add_line(fi, r["external_id"], _draw_med(rng), oclass, doses, rec, last_end)
        # STAT first doses: need-by = received + 4 h, placed inside one of the facility's windows
        for _ in range(_poisson(rng, D["stat_per_resident"] * n_res)):
            r = rng.choice(residents)
            ws, we = rng.choice(windows)
            lo = max(ws + 90, 11 * 60)
            need = rng.randint(min(lo, we), we)
            add_line(
                fi, r["external_id"], _draw_med(rng), OrderClass.STAT, 6, need - D["stat_promise_min"], need
            )
        # new admissions: a whole regimen, first doses by the end of the last window
        for _ in range(_poisson(rng, D["admissions_per_resident"] * n_res)):
            r = rng.choice(residents)
            rec = last_end - rng.randint(300, 480)
            for _k in range(rng.randint(6, 12)):
                add_line(fi, r["external_id"], _draw_med(rng), OrderClass.NEW_ADMISSION, 7, rec, last_end)
        # emergency-kit restock (pseudo-resident "<facility>-EKIT")
        if rng.random() < D["ekit_restock_prob"]:
            rec = rng.randint(-6 * 60, min(8 * 60, cutoff))
            for _k in range(rng.randint(4, 12)):
                add_line(
                    fi, f"{f.external_id}-EKIT", _draw_med(rng), OrderClass.EKIT_RESTOCK, 10, rec, last_end
                )

    for start in range(0, len(lines), 5000):
        session.execute(sa.insert(m.OrderLine), lines[start : start + 5000])

    # ---------------------------------------------------------------- resources, sized to the day
    cards_by_kind: Counter[PackagingKind] = Counter()
    kind_by_id = {med_ids[s[0]]: s[2] for s in med_specs}
    for ln in lines:
        cards_by_kind[kind_by_id[ln["medication_id"]]] += ln["cards"]
    total_cards = sum(cards_by_kind.values())
    # a pharmacy with more than ``night_shift_above_facilities`` facilities runs a night shift:
    # cycle fills (received days before) are packed overnight so that the morning vans leave loaded
    n_lines = spec.packaging_lines if facilities is None else _lines_for(n_fac)
    line_start = D["night_shift_start_min"] if n_fac > D["night_shift_above_facilities"] else 5 * 60
    pack_lines = _packaging_lines(n_lines, start=line_start)
    session.add_all(pack_lines)

    mpc = D["minutes_per_card"]
    res_unit = {res_ids[r["external_id"]]: r["unit"] for r in res_rows}
    controlled_ids = {med_ids[x[0]] for x in CONTROLLED_MEDS}
    cold_ids = {med_ids[x[0]] for x in COLD_MEDS}
    # pharmacists: 05:00-13:00 and 13:00-21:00 always (verification is covered all day); more
    # shifts for the volume at the target utilisation: full 8-hour shifts staggered from 06:30 every
    # 90 min, then one part-time shift (at least 4 h) for the rest
    morning_fac = {f.id for f, ws in zip(fac_rows, fac_windows, strict=True) if ws[0][0] < 12 * 60}
    verify_min, totes_est, batches_est, morning_min, stops_est = _estimate_day(
        lines, fac_rows, kind_by_id, res_unit, settings, mpc, controlled_ids, cold_ids, morning_fac
    )
    need = verify_min / D["verification_utilisation_target"]
    shifts = [(5 * 60, 480), (13 * 60, 480)]
    if line_start < 5 * 60:
        # night pharmacists (from the night shift's start, 8 h) for the routine work of the
        # facilities with a morning window, verified by 08:45 at about the target utilisation
        # (rounded to the nearest; the 05:00 pharmacist helps from 05:00)
        usable = 8 * 60 + 45 - line_start
        n_night = max(1, math.ceil(morning_min / D["verification_utilisation_target"] / usable - 0.5))
        shifts += [(line_start, 480)] * n_night
    rest = need - sum(n for _, n in shifts)
    k = 0
    while rest > 60:
        n = 480 if rest >= 480 else min(480, max(240, 30 * math.ceil(rest / 30)))
        shifts.append((6 * 60 + 30 + (k % 4) * 90, n))
        rest -= n
        k += 1
    n_pharm = len(shifts)
    session.add_all(
        m.PharmacistShift(name=f"Pharmacist {i + 1}", start_min=start, end_min=start + n)
        for i, (start, n) in enumerate(sorted(shifts))
    )
    pharm_minutes = sum(n for _, n in shifts)

    # enough vans for the stops and for the day's totes (two trips, loaded to about 85 %)
    caps = (48, 40, 60, 36, 52, 44)
    mean_cap = sum(caps) / len(caps)
    n_veh = max(
        D["min_vans"],
        math.ceil(n_fac / 10),
        math.ceil(totes_est / (2 * mean_cap * 0.85)),
        math.ceil(stops_est / D["stops_per_van_day"]),
    )
    colds = (4, 2, 3, 2, 4, 3)  # authorised vans get 2 more: controlled + cold often travel together
    vehicles = []
    for i in range(n_veh):
        early = i % 5 not in (1, 3)  # 60 % early shift, 40 % late shift (at least one late)
        # 9 in 10 drivers are authorised, on both shifts: with 10 % controlled lines nearly every
        # stop carries some controlled item, so a van without authorisation can take few stops
        # (measured on the medium day: 3 in 5 authorised left 20 more morning stops late)
        authorised = i % 10 != 9
        vehicles.append(
            m.Vehicle(
                name=f"Van {i + 1:02d}",
                depot_id=depot.id,
                tote_capacity=caps[i % len(caps)],
                cold_capacity=colds[i % len(colds)] + (2 if authorised else 0),
                controlled_ok=authorised,
                shift_start_min=8 * 60 if early else 12 * 60,
                shift_end_min=16 * 60 + 30 if early else 20 * 60 + 30,
                max_route_min=270,
                break_min=30,
                break_start_min=11 * 60 + 30 if early else 15 * 60 + 30,
                break_end_min=13 * 60 + 30 if early else 17 * 60 + 30,
                max_trips=2,
            )
        )
    session.add_all(vehicles)
    fleet_totes = sum(v.tote_capacity * v.max_trips for v in vehicles)
    cs = m.ConstraintSet(
        version=1,
        created_by="demo",
        settings=dataclasses.asdict(PlanSettings(version=1)),
        minutes_per_card=mpc,
        is_current=True,
    )
    session.add(cs)
    session.flush()

    by_class = Counter(str(ln["order_class"]) for ln in lines)
    controlled_names = {s[0] for s in CONTROLLED_MEDS}
    cold_names = {s[0] for s in COLD_MEDS}
    id_to_name = {v: k for k, v in med_ids.items()}
    n_ctrl = sum(1 for ln in lines if id_to_name[ln["medication_id"]] in controlled_names)
    n_cold = sum(1 for ln in lines if id_to_name[ln["medication_id"]] in cold_names)
    line_cap = sum(
        pl.cards_per_hour * (pl.available_end_min - pl.available_start_min) / 60 for pl in pack_lines
    )
    summary: dict[str, Any] = {
        "date": date.isoformat(),
        "scale": scale,
        "region": region,
        "seed": seed,
        "facilities": len(fac_rows),
        "real_facilities": n_real,
        "synthetic_facilities": n_alf,
        "beds": sum(f.beds for f in fac_rows),
        "residents": sum(len(x) for x in fac_res_idx),
        "medications": len(med_specs),
        "order_lines": len(lines),
        "by_class": dict(sorted(by_class.items())),
        "controlled_share": round(n_ctrl / max(1, len(lines)), 4),
        "cold_share": round(n_cold / max(1, len(lines)), 4),
        "cards": total_cards,
        "cards_by_kind": {str(k): v for k, v in sorted(cards_by_kind.items())},
        "packaging_lines": len(pack_lines),
        "packaging_utilisation": round(total_cards / line_cap, 3),
        "pharmacists": n_pharm,
        "verification_utilisation": round(verify_min / pharm_minutes, 3),
        "verification_minutes_estimate": verify_min,
        "batches_estimate": batches_est,
        "totes_estimate": totes_est,
        "fleet_tote_capacity": fleet_totes,
        "vehicles": n_veh,
        "stops_estimate": stops_est,
        "packaging_line_hours": f"{line_start // 60:02d}:00-21:00",
        "facilities_with_cycle_fill_today": sum(1 for u in due_units.values() if u),
    }
    repo.add_audit_event(session, who="demo", what="demo.generate", details=summary)
    return summary


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
    return 3 if n_fac <= 30 else 4 if n_fac <= 100 else 6


def _packaging_lines(n: int, start: int = 5 * 60) -> list[m.PackagingLine]:
    """3, 4 or 6 lines running from ``start`` (05:00, or 01:00 with a night shift) to 21:00.

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
