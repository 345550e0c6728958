import pytest

from classroom_server.config import SETTINGS, ConfigError, load_settings


def test_defaults_are_safe_for_a_pi(tmp_path):
    settings = load_settings(tmp_path, environ={})
    assert settings["port"] == 8080
    assert settings["sqlite_synchronous"] == "full"
    assert settings["secure_cookies"] is False
    assert 1 <= settings["threads"] <= 8


def test_precedence_file_then_environment_then_overrides(tmp_path):
    (tmp_path / "config.toml").write_text('port = 9000\nlanguage = "es"\nthreads = 3\n')
    settings = load_settings(tmp_path, {"threads": 5}, environ={"CLASSROOM_PORT": "9100"})
    assert settings["language"] == "es"
    assert settings["port"] == 9100
    assert settings["threads"] == 5


@pytest.mark.parametrize(
    "environ, fragment",
    [
        ({"CLASSROOM_PORT": "eighty"}, "Setting 'port' (from CLASSROOM_PORT)"),
        ({"CLASSROOM_PORT": "70000"}, "between 1 and 65535"),
        ({"CLASSROOM_SQLITE_SYNCHRONOUS": "off"}, "Setting 'sqlite_synchronous'"),
        ({"CLASSROOM_SECURE_COOKIES": "maybe"}, "expected true or false"),
        ({"CLASSROOM_LANGUAGE": "xx"}, "expected one of en, es, fr"),
    ],
)
def test_a_bad_value_names_the_setting(tmp_path, environ, fragment):
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ=environ)
    assert fragment in str(caught.value)


def test_unknown_key_in_file_is_named(tmp_path):
    (tmp_path / "config.toml").write_text("prot = 80\n")
    with pytest.raises(ConfigError, match="Unknown setting 'prot'"):
        load_settings(tmp_path, environ={})


def test_broken_toml_is_reported_with_the_file(tmp_path):
    (tmp_path / "config.toml").write_text("port = = 3\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(tmp_path, environ={})


def test_every_setting_has_help():
    for setting in SETTINGS:
        assert setting.help.strip(), setting.name
