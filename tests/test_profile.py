import pytest

from dicomprint import DEFAULT_PROFILE, PrinterProfile
from dicomprint.profile import FilmBoxDefaults


def test_default_profile_meets_the_seed_conformance_statement():
    seed_sizes = [
        "14INX17IN",
        "14INX14IN",
        "14INX36IN",
        "11INX17IN",
        "8INX10IN",
        "8_5INX11IN",
        "8_5INX28IN",
        "24CMX24CM",
        "24CMX30CM",
        "A4",
        "A3",
    ]
    assert set(seed_sizes) <= set(DEFAULT_PROFILE.film_sizes)
    seed_formats = [
        "1,1",
        "1,2",
        "2,1",
        "2,2",
        "2,3",
        "2,4",
        "3,2",
        "3,3",
        "3,4",
        "3,5",
        "4,3",
        "4,4",
        "4,5",
        "4,6",
        "5,3",
        "5,4",
        "5,5",
        "5,6",
        "5,7",
    ]
    for counts in seed_formats:
        DEFAULT_PROFILE.display_format(f"STANDARD\\{counts}")
    defaults = DEFAULT_PROFILE.film_box
    assert (defaults.MinDensity, defaults.MaxDensity, defaults.Illumination) == (0, 150, 150)
    assert defaults.MagnificationType == "BILINEAR"
    assert {"IDENTITY", "LIN OD", "INVERSE"} <= set(DEFAULT_PROFILE.presentation_lut_shapes)
    assert DEFAULT_PROFILE.max_copies == 32767
    assert not DEFAULT_PROFILE.strict


def test_profile_loads_from_toml(tmp_path):
    path = tmp_path / "printer.toml"
    path.write_text(
        """
film_sizes = ["8INX10IN", "A4"]
max_columns = 4
max_rows = 5
strict = true
dpi_standard = 200
color = false
max_density = 300

[custom_formats]
"CUSTOM\\\\1" = "ROW\\\\1,2"

[film_box]
FilmSizeID = "A4"
MaxDensity = 300

[identity]
PrinterName = "LASER 1"
""",
        encoding="utf-8",
    )
    profile = PrinterProfile.from_toml(path)
    assert profile.film_sizes == ("8INX10IN", "A4")
    assert profile.strict and not profile.color
    assert profile.dpi("STANDARD") == 200 and profile.dpi("HIGH") == 300
    assert profile.film_box.FilmSizeID == "A4" and profile.film_box.MaxDensity == 300
    assert profile.film_box.Illumination == 150
    assert profile.identity.PrinterName == "LASER 1"
    assert profile.display_format("CUSTOM\\1").box_count == 3


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"film_size": ["A4"]}, "film_size"),
        ({"film_box": {"MaxDensty": 3}}, "MaxDensty"),
        ({"film_sizes": ["A5"]}, "A5"),
    ],
)
def test_unknown_profile_keys_are_named(data, key):
    with pytest.raises(ValueError, match=key):
        PrinterProfile.from_mapping(data)


def test_film_box_density_defaults_fit_the_printers_range():
    # The defaults (0 and 150), given or not, are clamped into the range.
    profile = PrinterProfile.from_mapping({"min_density": 10, "max_density": 120})
    assert (profile.film_box.MinDensity, profile.film_box.MaxDensity) == (10, 120)
    given = PrinterProfile(min_density=20, film_box=FilmBoxDefaults(FilmSizeID="A4"))
    assert (given.film_box.MinDensity, given.film_box.FilmSizeID) == (20, "A4")
    assert PrinterProfile.from_mapping({"film_box": {"MaxDensity": 300}}).film_box.MaxDensity == 150
    # A film printer's wider range keeps the default film as it was.
    wide = PrinterProfile.from_mapping({"max_density": 300, "film_box": {"FilmSizeID": "A4"}})
    assert (wide.film_box.MinDensity, wide.film_box.MaxDensity) == (0, 150)
    with pytest.raises(ValueError, match="min_density 200 must be at least 0 and below max_dens"):
        PrinterProfile(min_density=200)
