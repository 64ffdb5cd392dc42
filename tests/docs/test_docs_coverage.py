"""Every config key and every command is documented, in English and French."""

from pathlib import Path

import pytest
import typer

from jalon import config as config_module
from jalon.cli.main import build_app
from jalon.cohorts.spec import COHORT_KEYS
from jalon.funnels.spec import FUNNEL_KEYS
from jalon.milestones.spec import COMPARE_OPS, CONDITION_KEYS, MILESTONE_KEYS

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DOCS = {"en": ROOT / "docs/en/configuration.md", "fr": ROOT / "docs/fr/configuration.md"}
FUNNEL_DOCS = {"en": ROOT / "docs/en/funnels-cohorts.md", "fr": ROOT / "docs/fr/entonnoirs-cohortes.md"}
READMES = {"en": ROOT / "README.md", "fr": ROOT / "README.fr.md"}

CONFIG_KEYS = sorted(
    set(config_module.TOP_LEVEL_KEYS)
    | set(config_module.EVENT_SECTION_KEYS)
    | set(config_module.EVENT_COLUMN_KEYS)
    | set(config_module.CHURN_KEYS)
    | set(MILESTONE_KEYS)
    | set(CONDITION_KEYS)
    | set(COMPARE_OPS)
    | {"name", "store", "engine", "timezone", "end", "horizons", "segments", "column"}
)


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("key", CONFIG_KEYS)
def test_config_key_documented(lang, key):
    text = CONFIG_DOCS[lang].read_text(encoding="utf-8")
    forms = (f"`{key}", f"[{key}", f"[[{key}")
    assert any(form in text for form in forms), f"{key} is missing from {CONFIG_DOCS[lang]}"


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("key", sorted(set(FUNNEL_KEYS) | set(COHORT_KEYS)))
def test_funnel_cohort_key_documented(lang, key):
    text = FUNNEL_DOCS[lang].read_text(encoding="utf-8")
    assert f"{key}" in text, f"{key} is missing from {FUNNEL_DOCS[lang]}"


def _command_names() -> list[str]:
    command = typer.main.get_command(build_app("en"))
    return sorted(command.commands)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_command_in_readme(lang):
    text = READMES[lang].read_text(encoding="utf-8")
    missing = [name for name in _command_names() if f"`jalon {name}`" not in text]
    assert missing == [], f"commands missing from {READMES[lang].name}: {missing}"


def test_readme_links_resolve():
    for readme in READMES.values():
        text = readme.read_text(encoding="utf-8")
        for target in _markdown_links(text):
            assert (ROOT / target).exists(), f"{readme.name} links to missing {target}"


def _markdown_links(text: str) -> list[str]:
    import re

    links = re.findall(r"\]\(([^)#]+)\)", text)
    return [link for link in links if "://" not in link]
