"""Reading billing files: French layout with VAT, Excel, Stripe exports, rejections."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook, load_workbook
from revenue_helpers import mrr_of, total, write

from jalon.errors import InputError
from jalon.i18n import Formatter
from jalon.report.render import environment
from jalon.revenue import export_excel
from jalon.revenue.config import parse_revenue_config
from jalon.revenue.load import load_billing
from jalon.revenue.result import analyse

FRENCH = (
    "N° facture;Client;Date facture;Début de période;Fin de période;Montant TTC;Taux TVA;"
    "Devise;Statut;Type;Offre;Quantité\n"
    # 120,00 TTC at 20 % -> 100,00 HT a month
    "F-1;K1;01/02/2024;01/02/2024;29/02/2024;120,00;20 %;EUR;payée;abonnement;Équipe;2\n"
    # 1 440,00 TTC at 20 -> 1 200,00 HT for 12 months -> 100,00 a month
    "F-2;K2;15/02/2024;15/02/2024;14/02/2025;1 440,00;20;EUR;payée;abonnement;Pro;1\n"
    "F-3;K1;05/02/2024;;;60,00;20 %;EUR;payée;ponctuel;;1\n"
    "F-4;K3;01/02/2024;01/02/2024;29/02/2024;abc;20;EUR;payée;abonnement;Pro;1\n"
    "F-5;K3;01/02/2024;01/02/2024;29/02/2024;12,00;20;EUR;brouillon;abonnement;Pro;1\n"
)


@pytest.fixture(scope="module")
def french(tmp_path_factory):
    folder = tmp_path_factory.mktemp("french")
    write(folder, "factures.csv", FRENCH)
    spec = parse_revenue_config(
        {
            "invoices": "factures.csv",
            "amounts_include_tax": True,
            "as_of": "2024-02-29",
        },
        folder,
    )
    data = load_billing(spec)
    return data, analyse(data, spec)


def test_vat_removed_from_mrr(french):
    _, result = french
    assert mrr_of(result, "K1", "2024-02") == 10000
    assert mrr_of(result, "K2", "2024-02") == 10000


def test_vat_split_kept(french):
    data, _ = french
    line = data.lines[data.lines["invoice_id"] == "F-1"].iloc[0]
    assert line["amount_minor"] == 10000
    assert line["tax_minor"] == 2000


def test_one_off_not_recurring(french):
    _, result = french
    # 100 + 100; the one-off fee of 50 HT is not MRR
    assert total(result, "2024-02", "mrr_minor") == 20000


def test_bad_amount_rejected_with_place(french):
    data, _ = french
    error = next(e for e in data.rejections if e.code == "input.invalid_amount")
    # header is row 1, F-4 is the fifth line
    assert error.params["row"] == 5
    assert error.params["column"] == "Montant TTC"
    assert error.params["value"] == "abc"


def test_unknown_status_rejected(french):
    data, result = french
    error = next(e for e in data.rejections if e.code == "input.invalid_status")
    assert error.params["value"] == "brouillon"
    assert result.excluded["input.invalid_status"] == 1


def test_every_row_accounted_for(french):
    data, _ = french
    # 5 data rows: 3 lines read, 2 rejected
    assert len(data.lines) + len(data.rejections) == 5


def test_missing_column_names_fix(tmp_path):
    write(tmp_path, "lines.csv", "invoice,customer,amount\nI1,A,10\n")
    spec = parse_revenue_config({"invoices": "lines.csv"}, tmp_path)
    with pytest.raises(InputError) as caught:
        load_billing(spec)
    assert caught.value.params["column"] == "invoice_date"


def test_credit_note_for_unknown_invoice(tmp_path):
    write(
        tmp_path,
        "lines.csv",
        "invoice_id,customer_id,invoice_date,amount,type,credit_note_for\n"
        "C1,A,2024-01-05,-10,credit_note,NOPE\n"
        "I1,A,2024-01-01,10,one_off,\n",
    )
    spec = parse_revenue_config({"invoices": "lines.csv"}, tmp_path)
    data = load_billing(spec)
    assert [e.code for e in data.rejections] == ["input.unknown_invoice"]


def test_missing_exchange_rate_rejected(tmp_path):
    write(
        tmp_path,
        "lines.csv",
        "invoice_id,customer_id,invoice_date,period_start,period_end,amount,currency\n"
        "I1,A,2024-01-01,2024-01-01,2024-01-31,10,USD\n",
    )
    spec = parse_revenue_config({"invoices": "lines.csv"}, tmp_path)
    data = load_billing(spec)
    assert data.rejections[0].code == "input.missing_rate"
    assert data.rejections[0].params["value"] == "USD"


def test_excel_layout(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "Facture",
            "Client",
            "Date facture",
            "Début période",
            "Fin période",
            "Montant HT",
            "Devise",
        ]
    )
    sheet.append(
        [
            "X1",
            "E1",
            dt.datetime(2024, 3, 1),
            dt.datetime(2024, 3, 1),
            dt.datetime(2024, 5, 31),
            300.0,
            "EUR",
        ]
    )
    book.save(tmp_path / "lines.xlsx")
    spec = parse_revenue_config(
        {"invoices": "lines.xlsx", "as_of": "2024-03-31"}, tmp_path
    )
    result = analyse(load_billing(spec), spec)
    # a quarter of 300 -> 100 a month
    assert mrr_of(result, "E1", "2024-03") == 10000


SUBSCRIPTIONS = (
    "id,Customer ID,Plan,Quantity,Currency,Interval,Interval Count,Amount,Status,"
    "Start Date (UTC),Trial End (UTC),Canceled At (UTC),Ended At (UTC)\n"
    "sub_1,cus_1,team,3,eur,month,1,2900,active,2024-01-01 10:00:00,,,\n"
    "sub_2,cus_2,pro,1,usd,year,1,120000,canceled,2024-01-10 09:00:00,,2024-06-01 00:00:00,\n"
)
INVOICES = (
    "id,Customer,Subscription,Date (UTC),Currency,Subtotal,Discount,Tax,Total,Status\n"
    "in_1,cus_1,sub_1,2024-01-01 10:00:05,eur,8700,0,1740,10440,paid\n"
    "in_2,cus_2,sub_2,2024-01-10 09:00:05,usd,120000,20000,0,100000,paid\n"
    "in_3,cus_1,,2024-01-15 08:00:00,eur,5000,0,1000,6000,paid\n"
    "in_4,cus_1,sub_1,2024-02-01 10:00:05,eur,8700,0,1740,10440,draft\n"
)
CUSTOMERS = "id,Email,segment (metadata),Address Country\ncus_1,a@example.com,smb,FR\ncus_2,b@example.com,enterprise,US\n"


@pytest.fixture(scope="module")
def stripe(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stripe")
    (folder / "export").mkdir()
    write(folder / "export", "subscriptions.csv", SUBSCRIPTIONS)
    write(folder / "export", "invoices.csv", INVOICES)
    write(folder / "export", "customers.csv", CUSTOMERS)
    write(folder, "rates.csv", "month,currency,rate\n2024-01,USD,0.9\n")
    spec = parse_revenue_config(
        {
            "stripe": "export",
            "stripe_amounts": "minor",
            "rates": "rates.csv",
            "as_of": "2024-01-31",
        },
        folder,
    )
    data = load_billing(spec)
    return data, analyse(data, spec)


def test_stripe_monthly_subscription(stripe):
    _, result = stripe
    # total 104.40 - tax 17.40 = 87.00 a month
    assert mrr_of(result, "cus_1", "2024-01") == 8700


def test_stripe_annual_in_usd(stripe):
    _, result = stripe
    # (1 200 - 200 discount) USD x 0.9 = 900 EUR over 12 months
    assert mrr_of(result, "cus_2", "2024-01") == 7500


def test_stripe_draft_rejected(stripe):
    data, _ = stripe
    assert [e.params["value"] for e in data.rejections] == ["draft"]


def test_stripe_customer_attributes(stripe):
    data, _ = stripe
    countries = dict(zip(data.attributes["account_id"], data.attributes["country"]))
    assert countries == {"cus_1": "FR", "cus_2": "US"}


def test_stripe_cancellation_read(stripe):
    data, _ = stripe
    cancelled = data.subscriptions.set_index("subscription_id")["cancelled_at"]
    assert cancelled["sub_2"] == dt.date(2024, 6, 1)


def test_rejections_in_report_section(french):
    _, result = french
    # Markup.format escapes the cell values, the catalog text stays as written.
    html = (
        environment("fr")
        .get_template("_revenue.html.j2")
        .render(revenue=result, fmt=Formatter("fr"))
    )
    assert "ligne 5, colonne Montant TTC : 'abc' n'est pas un montant" in html


def test_rejections_in_workbook(french, tmp_path):
    _, result = french
    book = load_workbook(export_excel(result, tmp_path / "revenue.xlsx", "en"))
    sheet = book["Rejected rows"]
    first = [cell.value for cell in sheet[2]]
    assert first[1:5] == [5, "Montant TTC", "abc", "input.invalid_amount"]


def test_rejected_value_escaped_in_report(tmp_path):
    write(
        tmp_path,
        "lines.csv",
        "invoice_id,customer_id,invoice_date,amount\nI1,A,2024-01-01,10\n"
        "I2,A,2024-01-02,<b>9</b>\n",
    )
    spec = parse_revenue_config({"invoices": "lines.csv"}, tmp_path)
    result = analyse(load_billing(spec), spec)
    html = (
        environment("en")
        .get_template("_revenue.html.j2")
        .render(revenue=result, fmt=Formatter("en"))
    )
    assert "&lt;b&gt;9&lt;/b&gt;" in html
    assert "<b>9</b>" not in html


def test_stripe_paid_flag_without_status(tmp_path):
    (tmp_path / "export").mkdir()
    write(tmp_path / "export", "subscriptions.csv", SUBSCRIPTIONS)
    write(
        tmp_path / "export",
        "invoices.csv",
        "id,Customer,Subscription,Date (UTC),Currency,Total,Tax,Paid,Forgiven\n"
        "in_1,cus_1,sub_1,2024-01-01 10:00:05,eur,10440,1740,true,false\n"
        "in_2,cus_1,sub_1,2024-02-01 10:00:05,eur,10440,1740,false,false\n"
        "in_3,cus_1,sub_1,2024-03-01 10:00:05,eur,10440,1740,false,true\n",
    )
    spec = parse_revenue_config(
        {"stripe": "export", "stripe_amounts": "minor"}, tmp_path
    )
    data = load_billing(spec)
    assert data.lines["status"].tolist() == ["paid", "open", "uncollectible"]
