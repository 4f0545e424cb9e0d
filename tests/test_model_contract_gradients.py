"""Model contract: autodiff (forward-mode) derivatives of a weighted image sum match
Richardson-extrapolated central finite differences, for every profile
(tests/test_model_contracts.py lists the contracts)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from contract_zoo import IDS, PROFILES, only, zoo


@pytest.mark.parametrize("cls", PROFILES, ids=IDS)
def test_gradients_match_finite_differences(cls):
    _, addr, _, _, _, directional = zoo(cls)
    p = only(cls)
    mine = [i for i, a in enumerate(addr) if a.split(".")[0] == cls.TYPE_NAME]
    zero = jnp.zeros(len(addr))

    def loss(q):  # the primal of the forward-mode program: no second compilation
        return directional(q, zero)[0]

    ad = np.zeros(len(addr))
    for i in mine:
        ad[i] = float(directional(p, zero.at[i].set(1.0))[1])
    bad = []
    for i in mine:
        h = 1e-5 * max(abs(float(p[i])), 1.0)

        def central(step, i=i):
            return (float(loss(p.at[i].add(step))) - float(loss(p.at[i].add(-step)))) / (2 * step)

        # Richardson: O(h^4), needed next to a cusp (a node close to r^-gamma)
        fd = (4.0 * central(h / 2) - central(h)) / 3.0
        if not abs(ad[i] - fd) <= 1e-5 * abs(ad[i]) + 1e-9 * np.abs(ad[mine]).max():
            bad.append(f"{addr[i]}: ad={ad[i]:.8g} fd={fd:.8g}")
        assert ad[i] != 0.0, f"{addr[i]} does not change the image"
    assert not bad, "; ".join(bad)
