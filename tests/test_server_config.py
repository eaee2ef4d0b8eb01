"""Server configuration: embedded defaults, TOML file, command-line overrides."""

import tomllib

import pytest

from dicomprint_server import DEFAULT_CONFIG, ConfigError, load_config
from dicomprint_server.cli import build_parser, main


def test_embedded_defaults_match_the_issue():
    config = load_config()
    assert config.server.ae_title == "PRINTSCP"
    assert config.server.port == 11112
    assert config.server.max_associations == 20
    assert config.server.max_pdu == 16384
    assert config.output.backend == "jpeg"
    assert str(config.output.directory) == "filmbox"
    assert config.profile.dpi_standard == 150
    assert config.profile.dpi_high == 300


def test_default_text_is_the_config_file_format(tmp_path):
    path = tmp_path / "default.toml"
    path.write_text(DEFAULT_CONFIG)
    assert load_config(path) == load_config()
    assert set(tomllib.loads(DEFAULT_CONFIG)) == {
        "server",
        "output",
        "store",
        "profile",
        "routing",
        "access",
        "tls",
    }


def test_file_overrides_defaults_and_options_override_file(tmp_path):
    path = tmp_path / "server.toml"
    path.write_text(
        '[server]\nport = 4242\nae_title = "FILEAE"\n'
        '[output]\nformat = "png"\nquality = 70\n'
        "[profile]\ndpi_standard = 100\ncolor = false\n"
        '[profile.identity]\nPrinterName = "Film Room 2"\n'
    )
    config = load_config(path, {"port": 5000, "ae_title": None})
    assert config.server.port == 5000  # option beats file
    assert config.server.ae_title == "FILEAE"  # None means "not given"
    assert config.output.format == "png"
    assert config.output.quality == 70
    assert config.profile.color is False
    assert config.profile.dpi_standard == 100
    assert config.profile.dpi_high == 200  # derived: twice STANDARD
    assert config.profile.identity.PrinterName == "Film Room 2"


def test_explicit_dpi_high_is_kept(tmp_path):
    path = tmp_path / "server.toml"
    path.write_text("[profile]\ndpi_high = 500\n")
    config = load_config(path, {"dpi": 200})
    assert (config.profile.dpi_standard, config.profile.dpi_high) == (200, 500)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[server]\nprot = 1\n", "unknown key in [server]: 'prot'"),
        ("[sever]\nport = 1\n", "unknown config table [sever]"),
        ("[server]\nport = 70000\n", "port"),
        ('[server]\nport = "11112"\n', "expected int"),
        ("[server]\nmax_pdu = 100\n", "max_pdu"),
        ('[server]\nae_title = "WAY_TOO_LONG_AE_TITLE"\n', "ae_title"),
        ('[server]\nae_title = "A\\\\B"\n', "ae_title"),
        ('[server]\nlog_level = "LOUD"\n', "log_level"),
        ('[output]\nformat = "gif"\n', "format"),
        ("[output]\nquality = 0\n", "quality"),
        ('[output]\ncopies = "some"\n', "copies"),
        ("[profile]\nfilm_sizes = ['13INX13IN']\n", "[profile]"),
        ("[profile]\nwidth = 3\n", "[profile]"),
        ("[profile]\ndpi_standard = 0\n", "dpi_standard"),
        ("[server\n", "config file"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.toml")


def test_cli_options_reach_the_config():
    args = build_parser().parse_args(
        [
            "serve",
            "--port",
            "104",
            "--ae-title",
            "FILMS",
            "--output",
            "/tmp/out",
            "--dpi",
            "300",
            "--max-associations",
            "5",
            "--max-pdu",
            "32768",
            "--log-level",
            "debug",
        ]
    )
    assert (args.port, args.ae_title, args.output, args.dpi) == (104, "FILMS", "/tmp/out", 300)
    assert (args.max_associations, args.max_pdu, args.log_level) == (5, 32768, "DEBUG")


def test_cli_config_prints_the_defaults(capsys):
    assert main(["config"]) == 0
    assert capsys.readouterr().out == DEFAULT_CONFIG


def test_cli_serve_rejects_a_bad_config_without_starting(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[server]\nmax_associations = 0\n")
    assert main(["serve", "--config", str(path)]) == 2
    assert "max_associations" in capsys.readouterr().err


def test_cli_requires_a_subcommand(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


@pytest.mark.parametrize("key", ["parallel_renders", "parallel_decodes"])
def test_parallel_work_is_at_least_one(tmp_path, key):
    path = tmp_path / "parallel.toml"
    path.write_text(f"[server]\n{key} = 4\n")
    assert getattr(load_config(path).server, key) == 4
    path.write_text(f"[server]\n{key} = 0\n")
    with pytest.raises(ConfigError, match=key):
        load_config(path)
