"""Survival estimates on the real OULAD enrolments, checked against references.

Each enrolment starts on day 0 of its module presentation. The milestone is
the first assessment submitted on day 0 or later, churn is the
unregistration day, and observation ends with the presentation. Students
who unregistered before day 0 get a null status and are excluded.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from sksurv.nonparametric import cumulative_incidence_competing_risks
from survival_testdata import DATA_DIR, pandas_life_table

from jalon.survival import AalenJohansen, KaplanMeier, life_table, logrank_test

OULAD = DATA_DIR / "oulad"

pytestmark = pytest.mark.skipif(
    not (OULAD / "studentRegistration.csv").exists(),
    reason="the OULAD data set is not beside the checkout",
)

ACCOUNTS_SQL = """
create table accounts as
with submissions as (
    select a.code_module, a.code_presentation, s.id_student,
           min(s.date_submitted) as first_submitted
    from read_csv('{folder}/studentAssessment_noscore.csv') s
    join read_csv('{folder}/assessments.csv') a using (id_assessment)
    where s.date_submitted >= 0
    group by all
), enrolments as (
    select r.code_module, r.code_presentation,
           cast(r.id_student as bigint) as id_student,
           try_cast(r.date_unregistration as double) as unregistered,
           cast(c.module_presentation_length as double) as length
    from read_csv('{folder}/studentRegistration.csv', all_varchar = true) r
    join read_csv('{folder}/courses.csv') c
      on r.code_module = c.code_module and r.code_presentation = c.code_presentation
)
select e.code_module as module,
       least(coalesce(s.first_submitted, e.length),
             coalesce(e.unregistered, e.length), e.length) as days,
       case
         when e.unregistered < 0 then null
         when s.first_submitted <= e.length
              and (e.unregistered is null or s.first_submitted <= e.unregistered) then 1
         when e.unregistered <= e.length then 2
         else 0
       end as status
from enrolments e
left join submissions s using (code_module, code_presentation, id_student)
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ibis.BaseBackend:
    path = tmp_path_factory.mktemp("oulad") / "store.duckdb"
    con = ibis.duckdb.connect(path)
    con.raw_sql(ACCOUNTS_SQL.format(folder=OULAD.resolve()))
    return con


@pytest.fixture(scope="module")
def accounts(store) -> pd.DataFrame:
    return store.table("accounts").execute()


@pytest.fixture(scope="module")
def by_module(store) -> pd.DataFrame:
    return life_table(store.table("accounts"), "days", "status", group="module")


def test_oulad_life_table_matches_pandas(by_module, accounts):
    included = accounts[accounts["status"].notna()].rename(columns={"module": "group"})
    expected = pandas_life_table(included.astype({"status": "int64"}))
    expected = expected.sort_values(["group", "time"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(by_module, expected)


def test_oulad_life_table_counts_exclusions(by_module, accounts):
    assert by_module.attrs["n_excluded"] == int(accounts["status"].isna().sum())
    assert by_module.attrs["n_excluded"] > 0


def test_oulad_km_matches_lifelines(by_module, accounts):
    module = accounts[(accounts["module"] == "BBB") & accounts["status"].notna()]
    fitter = KaplanMeierFitter().fit(module["days"], module["status"] == 1)
    km = KaplanMeier().fit(by_module[by_module["group"] == "BBB"])
    curve = km.survival_function_
    expected = fitter.survival_function_.iloc[:, 0].reindex(curve["time"]).to_numpy()
    np.testing.assert_allclose(
        curve["survival"].to_numpy(), expected, atol=1e-10, rtol=0
    )
    assert km.percentile(0.5).days == fitter.median_survival_time_


def test_oulad_aj_matches_scikit_survival(by_module, accounts):
    module = accounts[(accounts["module"] == "FFF") & accounts["status"].notna()]
    times, incidence = cumulative_incidence_competing_risks(
        module["status"].to_numpy(dtype=np.int64), module["days"].to_numpy()
    )
    aj = AalenJohansen().fit(by_module[by_module["group"] == "FFF"])
    reached = aj.cumulative_incidence_.set_index("time")["cif"].reindex(times)
    np.testing.assert_allclose(reached, incidence[1], atol=1e-12, rtol=0)


def test_oulad_logrank_matches_lifelines(by_module, accounts):
    included = accounts[accounts["status"].notna()]
    reference = multivariate_logrank_test(
        included["days"], included["module"], included["status"] == 1
    )
    result = logrank_test(by_module)
    assert result.statistic == pytest.approx(reference.test_statistic, rel=1e-9)
    assert result.df == 6
