"""Settings: defaults, the persistent secret, clear failures, and all of them documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from live.config import SETTING_KEYS, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_put_everything_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings({"LIVE_DATA_DIR": str(tmp_path)})
    assert settings.store_url == f"sqlite:///{tmp_path / 'live.sqlite3'}"
    assert settings.is_sqlite
    assert settings.public_url is None
    assert settings.update_interval == pytest.approx(0.1)


def test_the_generated_secret_is_kept_and_reused(tmp_path: Path) -> None:
    first = load_settings({"LIVE_DATA_DIR": str(tmp_path)}).secret_key.reveal()
    second = load_settings({"LIVE_DATA_DIR": str(tmp_path)}).secret_key.reveal()
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_secret_never_shows_in_a_repr(tmp_path: Path) -> None:
    settings = load_settings({"LIVE_DATA_DIR": str(tmp_path), "LIVE_SECRET_KEY": "s" * 40})
    assert "s" * 40 not in repr(settings)
    assert settings.secret_key.reveal() == "s" * 40


def test_redis_url_is_used_when_no_store_url_is_set(tmp_path: Path) -> None:
    settings = load_settings({"LIVE_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://h:6379/0"})
    assert settings.store_url == "redis://h:6379/0"
    explicit = load_settings(
        {
            "LIVE_DATA_DIR": str(tmp_path),
            "REDIS_URL": "redis://h:6379/0",
            "LIVE_STORE_URL": "sqlite:///x.db",
        }
    )
    assert explicit.store_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("LIVE_STORE_URL", "postgres://db/live"),
        ("LIVE_STORE_URL", "sqlite:relative.db"),
        ("LIVE_PUBLIC_URL", "live.example.no"),
        ("LIVE_UPDATE_INTERVAL", "fast"),
        ("LIVE_UPDATE_INTERVAL", "60"),
        ("LIVE_SECRET_KEY", "short"),
        ("LIVE_LOG_LEVEL", "loud"),
    ],
)
def test_a_bad_value_fails_naming_the_key(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        load_settings({"LIVE_DATA_DIR": str(tmp_path), key: value})


def test_public_url_loses_its_trailing_slash(tmp_path: Path) -> None:
    settings = load_settings(
        {"LIVE_DATA_DIR": str(tmp_path), "LIVE_PUBLIC_URL": "https://live.example.no/"}
    )
    assert settings.public_url == "https://live.example.no"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for key in SETTING_KEYS:
        assert f"`{key}`" in readme, f"{key} is not documented in README.md"
    source = (ROOT / "live" / "config.py").read_text(encoding="utf-8")
    used = set(re.findall(r'config\("([A-Z_]+)"', source))
    assert used <= set(SETTING_KEYS), f"read but not listed: {used - set(SETTING_KEYS)}"
