"""GALFIT feedme files: parsing, conventions (1-based pixels, PA, magnitudes, FWHM),
errors, round trip, and an end-to-end `scenefit galfit` fit of a simulated image."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scenefit as sf
from scenefit.cli import main
from scenefit.io.galfit_feedme import parse_feedme, read_feedme, scene_to_feedme_text

FEEDME = """\
# a GALFIT feedme written for these tests
A) data.fits            # Input data image (FITS file)
B) imgblock.fits        # Output data image block
C) sigma.fits           # Sigma image
D) none                 # PSF
E) 1                    # PSF fine sampling factor
F) none                 # Bad pixel mask
G) none                 # constraints
H) 1 60 1 50            # Image region to fit (xmin xmax ymin ymax)
I) 40 40                # convolution box
J) 25.0                 # Magnitude photometric zeropoint
K) 0.5 0.5              # Plate scale (dx dy) [arcsec per pixel]
O) regular              # Display type
P) 0                    # 0 = optimize

# Component number: 1
 0) sersic              # object type
 1) 30.5  25.0  1 1     # position x, y
 3) 17.5      1         # integrated magnitude
 4) 6.0       1         # R_e [pix]
 5) 2.5       1         # Sersic index n
 6) 0.0000    0         # -----
 9) 0.6       1         # axis ratio (b/a)
10) 35.0      1         # position angle (PA) [deg: Up=0, Left=90]
 Z) 0                   # output option

# Component number: 2
 0) gaussian
 1) 12.0 40.0 0 0
 3) 20.0 1
 4) 3.0 1               # FWHM [pix]
 9) 1.0 0
10) 0.0 0
 Z) 0

# Component number: 3
 0) sky
 1) 10.0  1             # sky background [ADU]
 2) 0.0   0             # dsky/dx
 3) 0.0   0             # dsky/dy
 Z) 1
"""


def test_feedme_conventions():
    fm = parse_feedme(FEEDME, "t.feedme")
    assert fm.zeropoint == 25.0 and fm.region == (1, 60, 1, 50)
    img = sf.Image(np.zeros((50, 60)))
    scene = fm.to_scene(img)
    assert scene.names == ("sersic", "gaussian", "sky")
    s = scene["sersic"]
    px, py = img.sky_to_pixel(s.x.value, s.y.value)
    assert (float(px), float(py)) == pytest.approx((29.5, 24.0))  # 1-based -> 0-based
    assert s.flux.value == pytest.approx(10 ** (-0.4 * (17.5 - 25.0)))
    assert (s.r_e.value, s.n.value, s.q.value, s.pa.value) == (6.0, 2.5, 0.6, 35.0)
    assert not any(getattr(s, p).fixed for p in s.param_names())
    g = scene["gaussian"]
    assert g.sigma.value == pytest.approx(3.0 / (2 * math.sqrt(2 * math.log(2))))
    assert g.x.fixed and g.y.fixed and g.q.fixed and not g.flux.fixed
    assert scene["sky"].sky.value == 10.0
    # PA: up = 0, counter-clockwise; the major axis of a PA = 90 profile lies along x
    one = parse_feedme("0) gaussian\n1) 11 11 1 1\n3) 10 1\n4) 4 1\n9) 0.5 1\n10) 90 1\n")
    model = sf.render(one.to_scene(sf.Image(np.zeros((21, 21)))), sf.Image(np.zeros((21, 21))))
    assert model[10, 14] > 10 * model[14, 10]


def test_region_crop_offsets_positions_and_round_trip():
    fm = parse_feedme(FEEDME)
    img = sf.Image(np.zeros((20, 30)))  # the region x 21..50, y 11..30 cut out
    scene = fm.to_scene(img, origin=(20, 10))
    px, py = img.sky_to_pixel(scene["sersic"].x.value, scene["sersic"].y.value)
    assert (float(px), float(py)) == pytest.approx((9.5, 14.0))
    text = scene_to_feedme_text(scene, img, 25.0, origin=(20, 10))
    back = parse_feedme("J) 25.0\n" + text).to_scene(img, origin=(20, 10))
    np.testing.assert_allclose(back.values(), scene.values(), rtol=1e-4, atol=1e-4)
    assert [p.fixed for c in back for p in c.params().values()] == [
        p.fixed for c in scene for p in c.params().values()
    ]


@pytest.mark.parametrize(
    "text, match",
    [
        ("0) ferrer\n1) 1 1 1 1\n", r"line 1: unknown or unsupported component type 'ferrer'"),
        ("0) sersic\n1) 1 1 1 1\n3) 20 1\n", r"line 1: component sersic is missing .*4\)"),
        ("0) psf\n1) 1 1 2 1\n3) 20 1\n", r"line 2: psf 1\): fit flags must be 0 or 1"),
        ("0) psf\n1) 1\n3) 20 1\n", r"line 2: psf 1\) needs 2 value"),
        ("0) psf\n1) 1 1 1 1\n3) abc 1\n", r"line 3: psf 3\): 'abc' is not a number"),
        ("0) sersic\n1) 1 1 1 1\nF1) 0.1 30 1 1\n", r"line 3: unsupported component parameter F1"),
        ("0) psf\n1) 1 1 1 1\nC0) 0.1 1\n", r"line 3: unsupported component parameter C0"),
        ("0) sersic\n1) 1 1 1 1\nC0) x 1\n", r"line 3: sersic C0\): 'x' is not a number"),
        ("0) psf\n1) 1 1 1 1\n3) 20 1\n4) 3 1\n", r"line 4: component psf has no parameter 4"),
        ("3) 20 1\n", r"line 1: parameter 3\) before any"),
        ("A) x.fits\n", r"no components found"),
        ("what is this\n", r"line 1: cannot read"),
    ],
)
def test_feedme_errors(text, match):
    with pytest.raises(ValueError, match=match) as exc:
        parse_feedme(text, "my.feedme")
    assert str(exc.value).startswith("my.feedme")


def test_galfit_command_recovers_a_simulated_galaxy(tmp_path, capsys):
    from astropy.io import fits

    truth = sf.Scene(
        [
            sf.Sersic(name="g", x=0.0, y=0.0, flux=2000.0, r_e=5.0, n=1.5, q=0.7, pa=40.0),
            sf.FlatSky(sky=10.0),
        ]
    )
    shape = (40, 44)
    img = sf.Image(np.zeros(shape))
    clean = sf.render(truth, img)
    sigma = np.full(shape, 0.5)
    data = clean + np.random.default_rng(3).normal(0, 0.5, shape)
    fits.writeto(tmp_path / "data.fits", data)
    fits.writeto(tmp_path / "sigma.fits", sigma)
    px, py = (float(v) + 1 for v in img.sky_to_pixel(0.0, 0.0))  # 1-based truth
    feed = tmp_path / "g.feedme"
    feed.write_text(
        "A) data.fits\nB) block.fits\nC) sigma.fits\nD) none\nF) none\nJ) 20.0\nP) 0\n"
        f"0) sersic\n1) {px + 0.6:.3f} {py - 0.4:.3f} 1 1\n3) 12.3 1\n4) 4.0 1\n5) 2.0 1\n"
        "9) 0.8 1\n10) 30 1\nZ) 0\n0) sky\n1) 9.0 1\n2) 0 0\n3) 0 0\n"
    )
    out_feed = tmp_path / "best.feedme"
    assert main(["galfit", str(feed), "--output-feedme", str(out_feed)]) == 0
    capsys.readouterr()
    assert (tmp_path / "block.fits").exists()
    best = read_feedme(out_feed)
    s = best.components[0].params
    mag_true = 20.0 - 2.5 * math.log10(2000.0)
    assert s[1][0] == pytest.approx([px, py], abs=0.02)
    # within 4 sigma of the truth (errors of this fit: flux 1.3 %, r_e 0.077 px,
    # n 0.022, PA 0.6 deg; this noise realisation lies about 2.5 sigma high in all three
    # correlated size parameters)
    assert s[3][0][0] == pytest.approx(mag_true, abs=0.055)
    assert s[4][0][0] == pytest.approx(5.0, abs=0.3)
    assert s[5][0][0] == pytest.approx(1.5, abs=0.09)
    assert s[10][0][0] == pytest.approx(40.0, abs=2.4)


def test_c0_draws_the_generalised_ellipse_and_round_trips():
    text = (
        "J) 25\n0) sersic\n1) 16 15 1 1\n3) 15 1\n4) 5 1\n5) 1.0 0\n9) 0.5 1\n10) 30 1\nC0) 0.8 1\n"
    )
    fm = parse_feedme(text)
    img = sf.Image(np.zeros((30, 32)))
    scene = fm.to_scene(img)
    c = scene.components[0]
    assert type(c).__name__ == "SersicGenEllipse" and c.c0.value == 0.8 and not c.c0.fixed
    # pixel centres: I ~ exp(-b (r / r_e)), r = (|u|^2.8 + |v / q|^2.8)^(1 / 2.8), u along PA
    model = np.asarray(sf.render(scene, img, sf.RenderSettings(sampling="center")))
    yy, xx = np.mgrid[:30, :32].astype(float)
    dx, dy = xx - 15.0, yy - 14.0
    t = math.radians(30.0)
    u, v = -dx * math.sin(t) + dy * math.cos(t), dx * math.cos(t) + dy * math.sin(t)
    r = (np.abs(u) ** 2.8 + np.abs(v / 0.5) ** 2.8) ** (1 / 2.8)
    shape = np.exp(-1.678346990016661 * r / 5.0)
    ratio = model / shape
    assert np.ptp(ratio) < 1e-9 * ratio.mean()
    back = parse_feedme("J) 25\n" + scene_to_feedme_text(scene, img, 25.0)).to_scene(img)
    assert type(back.components[0]) is type(c)
    np.testing.assert_allclose(back.values(), scene.values(), rtol=1e-4, atol=1e-4)
    assert back.components[0].n.fixed and not back.components[0].c0.fixed


@pytest.mark.parametrize(
    "lines, match",
    [
        (
            "4) -3 1\n5) 2 1\n9) 0.5 1\n10) 0 1",
            r"line 1: component sersic: 4\) \(size\) must be positive",
        ),
        ("4) 3 1\n5) 2 1\n9) 1.5 1\n10) 0 1", r"9\) \(axis ratio\) must be in \(0, 1\], got 1.5"),
        ("4) 3 1\n5) 0 1\n9) 0.5 1\n10) 0 1", r"5\) \(Sersic index\) must be positive"),
        ("4) 3 1\n5) 2 1\n9) 0.5 1\n10) 0 1\nC0) -2.5 1", r"C0\) must be above -2"),
    ],
)
def test_values_no_profile_can_take_are_refused(lines, match):
    fm = parse_feedme(f"0) sersic\n1) 5 5 1 1\n3) 20 1\n{lines}\n", "x.feedme")
    with pytest.raises(ValueError, match=match):
        fm.to_scene(sf.Image(np.zeros((10, 10))))
