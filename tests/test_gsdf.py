"""GSDF (PS3.14) and the hardcopy density model, against the standard's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from dicomprint.gsdf import L_MAX, L_MIN, DisplayScale, HardcopyModel, jnd_index, luminance

# PS3.14 D.2.2 parameters.
WORKED = HardcopyModel(Illumination=2000, ReflectedAmbientLight=10)


def test_luminance_spans_the_standard_range():
    # PS3.14 Table B-1: j = 1 gives 0.0500 cd/m2, j = 1023 gives 3993.4 cd/m2.
    assert luminance(1) == pytest.approx(0.0500, abs=1e-4)
    assert luminance(1023) == pytest.approx(3993.4, abs=0.1)


def test_luminance_rises_with_jnd_index():
    assert np.all(np.diff(luminance(np.arange(1, 1024))) > 0)


def test_inverse_matches_forward_within_a_tenth_of_a_jnd():
    j = np.linspace(1, 1023, 4000)
    assert np.max(np.abs(jnd_index(luminance(j)) - j)) < 0.1


def test_jnd_index_saturates_outside_the_gsdf():
    assert jnd_index(0.001) == jnd_index(L_MIN) == pytest.approx(1, abs=0.1)
    assert jnd_index(10_000) == jnd_index(L_MAX) == pytest.approx(1023, abs=0.1)


def test_transmissive_luminance_of_the_worked_example():
    # Lmin = La + L0 * 10**-Dmax = 10 + 2000/1000; Lmax = 10 + 2000 * 10**-0.2.
    assert WORKED.luminance(3.00) == pytest.approx(12.0)
    assert WORKED.luminance(0.20) == pytest.approx(1271.9, abs=0.05)


def test_jnd_range_of_the_worked_example():
    j_dense, j_light = WORKED.jnd_range(0.20, 3.00)
    assert j_dense == pytest.approx(233.32, abs=0.01)
    assert j_light == pytest.approx(847.19, abs=0.01)


@pytest.mark.parametrize(("p", "density"), [(0, 3.00), (128, 1.12), (255, 0.20)])
def test_p_values_of_the_worked_example(p, density):
    assert WORKED.p_value_density(p, 255, 0.20, 3.00) == pytest.approx(density, abs=0.005)


def test_p_values_print_denser_as_they_fall():
    d = WORKED.p_value_density(np.arange(4096), 4095, 0.20, 3.00)
    assert np.all(np.diff(d) < 0)


def test_reflective_model_has_no_ambient_term():
    paper = HardcopyModel(Illumination=150)
    assert paper.luminance(1.0) == pytest.approx(15.0)
    assert paper.density(15.0) == pytest.approx(1.0)


def test_illumination_must_be_positive():
    with pytest.raises(ValueError):
        HardcopyModel(Illumination=0)


SCALE = DisplayScale(WORKED, 0.20, 3.00)


def test_display_scale_ends_at_the_printer_range():
    assert SCALE.value(3.00) == pytest.approx(0.0, abs=1e-9)
    assert SCALE.value(0.20) == pytest.approx(255.0, abs=1e-9)
    assert SCALE.value(4.0) == 0.0 and SCALE.value(0.0) == 255.0


def test_display_scale_of_a_density_by_hand():
    # L = 10 + 2000 * 10**-1.5 = 73.246 cd/m2, j(L) = 435.44;
    # 255 * (435.44 - 233.32) / (847.19 - 233.32) = 83.96.
    assert SCALE.value(1.5) == pytest.approx(83.96, abs=0.01)


def test_display_scale_is_monotone_and_invertible():
    d = np.linspace(0.20, 3.00, 500)
    v = SCALE.value(d)
    assert np.all(np.diff(v) < 0)
    assert SCALE.density(v) == pytest.approx(d, abs=1e-3)


def test_p_values_land_on_the_display_scale_of_their_density():
    # Printing P, then showing its density, agrees with showing P's JND index.
    p = np.arange(256)
    model = HardcopyModel(Illumination=600, ReflectedAmbientLight=5)
    scale = DisplayScale(model, 0.10, 3.60)
    via_density = scale.value(model.p_value_density(p, 255, 0.40, 2.50))
    via_jnd = scale.jnd_value(model.p_value_jnd(p, 255, 0.40, 2.50))
    assert np.max(np.abs(via_density - via_jnd)) < 0.05


def test_display_scale_needs_a_range():
    with pytest.raises(ValueError):
        DisplayScale(WORKED, 1.0, 1.0)
