"""Write the example data for ``config.yaml``: a simulated galaxy + stars image.

Run from anywhere::

    python examples/fit_galaxy/make_data.py
    scenefit fit examples/fit_galaxy/config.yaml

Files written next to this script (in ``data/``): ``image.fits`` (ADU, with a TAN WCS,
``MAGZERO`` and ``GAIN`` in the header), ``sigma.fits`` (1-sigma noise, ADU), ``mask.fits``
(1 = bad: a bad column) and ``psf.fits`` (25 x 25 Moffat, unit sum). The image is the
one of ``scenefit demo`` (:func:`scenefit.simulate.simulate_demo`), with a bad column.
"""

from pathlib import Path

import numpy as np
from astropy.io import fits

from scenefit.simulate import simulate_demo


def main(out=None, seed: int = 0) -> Path:
    """Write the files into ``out`` (default: ``data/`` next to this script)."""
    out = Path(__file__).resolve().parent / "data" if out is None else Path(out)
    out.mkdir(parents=True, exist_ok=True)
    image, _ = simulate_demo(seed)
    data = np.array(image.data)
    mask = np.zeros(image.shape, dtype=np.uint8)
    mask[:, 40] = 1  # a bad column
    data[:, 40] = 6.0e4  # ... with junk in it, which the mask removes
    hdr = image.wcs.to_header()
    hdr["MAGZERO"] = (image.zeropoint, "AB magnitude of 1 ADU")
    hdr["GAIN"] = (image.gain, "electrons per ADU")
    fits.PrimaryHDU(data, header=hdr).writeto(out / "image.fits", overwrite=True)
    fits.PrimaryHDU(np.asarray(image.sigma)).writeto(out / "sigma.fits", overwrite=True)
    fits.PrimaryHDU(mask).writeto(out / "mask.fits", overwrite=True)
    fits.PrimaryHDU(np.asarray(image.psf.image)).writeto(out / "psf.fits", overwrite=True)
    return out


if __name__ == "__main__":
    print(f"wrote {main()}/{{image,sigma,mask,psf}}.fits")
