"""Convert the OULAD tables into the accounts and events files jalon reads.

OULAD gives every date as a whole number of days relative to day 0 of the
module presentation, and no calendar dates. This script fixes day 0 as the
1st of the presentation's start month: February for codes ending in B
(2013B: 2013-02-01) and October for codes ending in J (2014J: 2014-10-01).
A day offset d becomes day 0 + d days, at 00:00 UTC.

Outputs go to the ``prepared`` folder beside this script, or to the folder
given by ``--out``:

``accounts.csv``
    One row per enrolment (module, presentation, student), with
    ``registered_at`` (the clock start), ``withdrawn_at`` (empty when the
    student did not withdraw), ``presentation_start`` (day 0) and the
    segment columns. Enrolments without a
    registration date are kept with an empty ``registered_at``, so that
    jalon counts them as excluded (``no_start``) instead of losing them here.
``events.csv``
    One ``assessment_submitted`` row per submission, for the enrolment of
    the assessment's module and presentation.

Run it with ``python prepare.py`` (pandas is the only dependency).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path

import pandas as pd

logger = logging.getLogger("prepare_oulad")

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / ".." / ".." / ".." / "shared" / "data" / "oulad"
DEFAULT_OUT = HERE / "prepared"

#: Month of day 0 by the last letter of the presentation code.
START_MONTH = {"B": 2, "J": 10}
ENROLMENT_KEYS = ["code_module", "code_presentation", "id_student"]
SEGMENTS = ["age_band", "highest_education", "region", "imd_band"]
EXTRA_COLUMNS = ["gender", "disability", "final_result"]
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
SUBMITTED_EVENT = "assessment_submitted"


def presentation_day_zero(code: str) -> dt.date:
    """Return day 0 of a presentation code such as ``"2013J"`` (2013-10-01).

    Raises
    ------
    ValueError
        When the code is not four digits followed by B or J.
    """
    year, letter = code[:-1], code[-1:]
    if len(code) != 5 or not year.isdigit() or letter not in START_MONTH:
        raise ValueError(
            f"Invalid presentation code {code!r}: expected a year and B or J, such as 2013J."
        )
    return dt.date(int(year), START_MONTH[letter], 1)


def offsets_to_timestamps(codes: pd.Series, offsets: pd.Series) -> pd.Series:
    """Convert day offsets to timestamps at 00:00 of day 0 plus the offset.

    Missing offsets give missing timestamps.
    """
    day_zero = pd.to_datetime(codes.map(presentation_day_zero))
    return day_zero + pd.to_timedelta(offsets, unit="D")


def enrolment_id(frame: pd.DataFrame) -> pd.Series:
    """Return ``<module>_<presentation>_<student>``, the account id of an enrolment."""
    return (
        frame["code_module"]
        + "_"
        + frame["code_presentation"]
        + "_"
        + frame["id_student"].astype(str)
    )


def build_accounts(data: Path) -> pd.DataFrame:
    """Return one row per enrolment with its start, withdrawal and segments."""
    registrations = pd.read_csv(data / "studentRegistration.csv")
    info = pd.read_csv(data / "studentInfo.csv")
    merged = registrations.merge(
        info, on=ENROLMENT_KEYS, how="outer", validate="one_to_one", indicator=True
    )
    unmatched = int((merged["_merge"] != "both").sum())
    if unmatched:
        raise ValueError(
            f"{unmatched} enrolments are in only one of studentRegistration.csv "
            "and studentInfo.csv; both files must list the same enrolments."
        )
    codes = merged["code_presentation"]
    accounts = pd.DataFrame({"account_id": enrolment_id(merged)})
    for column in ENROLMENT_KEYS:
        accounts[column] = merged[column]
    accounts["registered_at"] = offsets_to_timestamps(codes, merged["date_registration"])
    accounts["withdrawn_at"] = offsets_to_timestamps(codes, merged["date_unregistration"])
    accounts["presentation_start"] = pd.to_datetime(codes.map(presentation_day_zero))
    for column in SEGMENTS + EXTRA_COLUMNS:
        accounts[column] = merged[column]
    # OULAD writes one IMD band as "10-20" and the others as "20-30%".
    accounts["imd_band"] = accounts["imd_band"].replace({"10-20": "10-20%"})
    return accounts.sort_values("account_id", ignore_index=True)


def build_events(data: Path) -> pd.DataFrame:
    """Return one ``assessment_submitted`` event per submission."""
    submissions = pd.read_csv(data / "studentAssessment_noscore.csv")
    assessments = pd.read_csv(data / "assessments.csv")
    merged = submissions.merge(
        assessments, on="id_assessment", how="left", validate="many_to_one"
    )
    unknown = int(merged["code_module"].isna().sum())
    if unknown:
        raise ValueError(
            f"{unknown} submissions name an id_assessment that assessments.csv "
            "does not list."
        )
    events = pd.DataFrame(
        {
            "account_id": enrolment_id(merged),
            "event": SUBMITTED_EVENT,
            "timestamp": offsets_to_timestamps(
                merged["code_presentation"], merged["date_submitted"]
            ),
            "id_assessment": merged["id_assessment"],
            "assessment_type": merged["assessment_type"],
            "is_banked": merged["is_banked"],
        }
    )
    return events.sort_values(["timestamp", "account_id"], kind="stable", ignore_index=True)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, date_format=TIMESTAMP_FORMAT)
    logger.info("wrote %s rows to %s", f"{len(frame):,}", path)


def prepare(data: Path, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write ``accounts.csv`` and ``events.csv`` into ``out`` and return them."""
    out.mkdir(parents=True, exist_ok=True)
    accounts = build_accounts(data)
    events = build_events(data)
    missing = int(accounts["registered_at"].isna().sum())
    logger.info(
        "%s enrolments have no registration date: jalon excludes them as no_start",
        missing,
    )
    write_csv(accounts, out / "accounts.csv")
    write_csv(events, out / "events.csv")
    return accounts, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder of the OULAD CSV files"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="folder for accounts.csv and events.csv"
    )
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    prepare(arguments.data, arguments.out)


if __name__ == "__main__":
    main()
