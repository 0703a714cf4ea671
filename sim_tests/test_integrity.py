"""Reliability: damaged netx files are refused (checksums, required datasets, card numbers), a
converted network refuses a retrained source, ``check`` reports every Loihi 2 limit a network
breaks, and a built wheel ships the checkpoints (issue 12, parts 3, 8 and 9)."""
import json
import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from loihi_pinn.conversion import SpikingNetwork, convert
from loihi_pinn.conversion.source import SourceChanged, UnverifiedSourceWarning, load_source, weights_sha256
from loihi_pinn.errors import InputError
from loihi_pinn.export import read_model_card, read_netx, write_netx
from loihi_pinn.export.netx import CARD_ATTR, VERSION, UnverifiedNetxWarning
from loihi_pinn.loihi import FixedPointLayer, QuantizedNetwork
from loihi_pinn.loihi.resources import (CORES_PER_CHIP, MAX_FAN_IN, NEURONS_PER_CORE, SYNAPSES_PER_CORE, DoesNotFit,
                                        estimate, format_estimate, require_fit)
from loihi_pinn.models import PINN, build_mlp
from loihi_pinn.runtime import Runner
from loihi_pinn.training import save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "netx_exports").glob("*.net"))
POISSON = ROOT / "netx_exports" / "poisson.net"           # 2 -> 100 -> 100 -> 100 -> 1 sigma-delta (ReLU student)


# == netx files ===================================================================================
def _card(f):
    return json.loads(f.attrs[CARD_ATTR])


def _set_card(f, **entries):
    card = _card(f)
    card.update(entries)
    f.attrs[CARD_ATTR] = json.dumps(card)


def _replace(f, key, data):
    del f[key]
    f[key] = data


def _drop_checksum(f):
    card = _card(f)
    del card["checksum"]
    f.attrs[CARD_ATTR] = json.dumps(card)


def _nan_weight(f):
    w = f["layer/2/weight"][()].astype(float)
    w[3, 4] = np.nan
    _replace(f, "layer/2/weight", w)


def _flip_weight(f):
    w = f["layer/2/weight"][()]
    w[3, 4] += 1
    f["layer/2/weight"][...] = w


def _bump_threshold(f):
    f["layer/1/neuron/vThMant"][()] = f["layer/1/neuron/vThMant"][()] + 1


DAMAGE = {   # name: (what is done to a copy of the shipped poisson.net, the error it must give)
    "hidden bias deleted": (lambda f: f.__delitem__("layer/2/bias"), r"layer 2 has no 'bias' dataset"),
    "square weight transposed": (lambda f: _replace(f, "layer/2/weight", f["layer/2/weight"][()].T),
                                 r"checksum mismatch"),
    "first weight transposed": (lambda f: _replace(f, "layer/1/weight", f["layer/1/weight"][()].T),
                                r"layer 1 weight has shape \(2, 100\) \(transposed\?\), expected \(100, 2\)"),
    "weight of wrong width": (lambda f: _replace(f, "layer/3/weight", f["layer/3/weight"][:, :99]),
                              r"layer 3 weight has shape \(100, 99\), expected \(100, 100\)"),
    "weight deleted": (lambda f: f.__delitem__("layer/3/weight"), r"layer 3 has no 'weight' dataset"),
    "bias on the readout": (lambda f: f["layer/4"].create_dataset("bias", data=np.zeros(1, np.int32)),
                            r"layer 4 is the readout and has a 'bias' dataset"),
    "one weight changed": (_flip_weight, r"checksum mismatch"),
    "NaN weight": (_nan_weight, r"layer 2 weight contains NaN"),
    "threshold changed": (_bump_threshold, r"checksum mismatch"),
    "output_scale 0": (lambda f: _set_card(f, output_scale=0), r"output_scale is 0"),
    "output_scale NaN": (lambda f: _set_card(f, output_scale=float("nan")), r"'output_scale' is nan"),
    "output_scale infinite": (lambda f: _set_card(f, output_scale=float("inf")), r"'output_scale' is inf"),
    "input_scale infinite": (lambda f: _set_card(f, input_scale=float("inf")), r"'input_scale' is inf"),
    "input_scale text": (lambda f: _set_card(f, input_scale="1e3"), r"'input_scale' is '1e3'"),
    "lower >= upper": (lambda f: _set_card(f, lower=[-1.0, 1.0], upper=[1.0, 1.0]), r"lower >= upper in input 1"),
    "output offset edited": (lambda f: _set_card(f, output_offset=[0.5]), r"checksum mismatch"),
    "checksum removed": (_drop_checksum, r"no checksum although its format version 2"),
    "card not JSON": (lambda f: f.attrs.__setitem__(CARD_ATTR, "{not json"), r"not valid JSON"),
}


@pytest.fixture
def damaged(tmp_path):
    def make(name):
        path = tmp_path / f"{name.replace(' ', '_')}.net"
        shutil.copyfile(POISSON, path)
        with h5py.File(path, "a") as f:
            DAMAGE[name][0](f)
        return path
    return make


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_damaged_file_is_refused_with_its_name_and_the_fix(name, damaged):
    path = damaged(name)
    with pytest.raises(InputError, match=DAMAGE[name][1]) as err:
        read_netx(path)
    message = str(err.value)
    assert str(path) in message and "re-export" in message
    with pytest.raises(InputError, match=r"re-export"):    # every reader verifies: the card alone too
        read_model_card(path)


@pytest.mark.parametrize("backend", ["emulator", "lava-sim"])
def test_runner_refuses_a_damaged_file_on_every_backend(backend, damaged):
    path = damaged("hidden bias deleted")
    with pytest.raises(InputError, match=r"layer 2 has no 'bias'"):
        Runner(path, backend, progress=False)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_exports_carry_a_checksum_and_load_without_warning(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        card = read_model_card(path)
        qnet = read_netx(path)
    assert card["version"] == VERSION and len(card["checksum"]["sha256"]) == 64
    assert "checksum" not in qnet.metadata and qnet.metadata["problem"] == path.stem


def test_export_writes_the_same_checksum_as_shipped(tmp_path):
    """The digest is canonical: re-exporting a shipped network gives the same datasets and checksum."""
    again = write_netx(read_netx(POISSON), tmp_path / "again.net")
    assert read_model_card(again)["checksum"] == read_model_card(POISSON)["checksum"]


def test_older_file_without_checksum_loads_with_a_warning(tmp_path):
    old = tmp_path / "old.net"
    shutil.copyfile(POISSON, old)
    with h5py.File(old, "a") as f:
        card = _card(f)
        del card["checksum"]
        card["version"] = 1
        f.attrs[CARD_ATTR] = json.dumps(card)
    with pytest.warns(UnverifiedNetxWarning, match="before loihi-pinn wrote checksums"):
        qnet = read_netx(old)
    assert [l.size for l in qnet.layers] == [100, 100, 100, 1]
    with h5py.File(old, "a") as f:                     # structural checks apply to old files too
        del f["layer/1/bias"]
    with pytest.raises(InputError, match="layer 1 has no 'bias'"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read_netx(old)


# == the source of a converted network ============================================================
def _tiny_pinn(seed):
    torch.manual_seed(seed)
    return PINN(build_mlp([2, 8, 1], "tanh"), [-1.0, -1.0], [1.0, 1.0])


def test_converted_network_refuses_a_retrained_source(tmp_path):
    folder = save_checkpoint(tmp_path / "pinn", _tiny_pinn(0), "poisson")
    points = np.random.default_rng(0).uniform(-1, 1, (64, 2))
    net = convert(_tiny_pinn(0), "sigma_delta", 8, points, pieces=2,
                  metadata={"problem": "poisson", "source_checkpoint": str(folder),
                            "source_sha256": weights_sha256(folder)})
    snn = net.save(tmp_path / "tiny.snn")
    loaded = SpikingNetwork.load(snn)
    model = load_source(loaded, snn)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), _tiny_pinn(0).state_dict().values()))

    save_checkpoint(folder, _tiny_pinn(1), "poisson")           # retrained in place
    with pytest.raises(SourceChanged, match=r"retrained or replaced after conversion.*Re-convert") as err:
        load_source(loaded, snn)
    assert str(snn) in str(err.value) and str(folder) in str(err.value)
    assert isinstance(err.value, InputError)

    loaded.metadata["source_checkpoint"] = str(tmp_path / "elsewhere")   # not on this machine
    assert load_source(loaded, snn) is None
    loaded.metadata["source_checkpoint"] = str(folder)
    del loaded.metadata["source_sha256"]                                  # converted before SHAs
    with pytest.warns(UnverifiedSourceWarning):
        assert load_source(loaded, snn) is not None


# == Loihi 2 limits ===============================================================================
def _zeros(shape):
    return np.broadcast_to(np.zeros((1, 1), np.int64), shape)       # shapes only: no memory


def _network(*sizes):
    """d_in -> hidden ... -> readout, all-zero weights (only the shapes matter to the estimate)."""
    layers = [FixedPointLayer(_zeros((n_out, n_in)), np.zeros(n_out, np.int64), 1, readout=i == len(sizes) - 2)
              for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))]
    return QuantizedNetwork(layers, 1.0, 1.0, [0.0] * sizes[-1], [0.0] * sizes[0], [1.0] * sizes[0])


LIMITS = {   # name: (layer sizes, the one limit broken, the bound shown on the worst layer)
    "fan-in beyond a core's synaptic memory": ((1, 140_000, 1), "fan-in per neuron", "fan-in exceeds a core"),
    "neurons per core": ((1, 1, NEURONS_PER_CORE * CORES_PER_CHIP + 1), "cores per chip", "neurons per core"),
    "synaptic memory per core": ((1, SYNAPSES_PER_CORE // 2 + 1, 120), "cores per chip", "synaptic memory per core"),
}


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_network_breaking_a_limit_does_not_fit(name):
    sizes, limit, bound = LIMITS[name]
    est = estimate(_network(*sizes))
    assert not est.fits_one_chip and [v["limit"] for v in est.violations] == [limit]
    assert bound in {r["bound"] for r in est.layers}
    table = format_estimate(est)
    assert "does NOT fit" in table and f"LIMIT BROKEN ({limit})" in table
    with pytest.raises(DoesNotFit, match=limit.split()[0]) as err:
        require_fit(est, "net.net")
    assert isinstance(err.value, InputError) and err.value.violations == est.violations


def test_fan_in_limit_is_one_cores_synapses():
    assert MAX_FAN_IN == SYNAPSES_PER_CORE == 128 * 1024
    assert estimate(_network(1, MAX_FAN_IN, 1)).fits_one_chip
    est = estimate(_network(1, 140_000, 1))                      # issue 12: counted as 19 cores that fit
    assert est.violations[0]["layer"] == 2 and "137 KiB" in est.violations[0]["message"]


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_exports_fit(path):
    est = estimate(read_netx(path))
    assert est.fits_one_chip and not est.violations
    require_fit(est)


# == packaging ====================================================================================
@pytest.mark.slow
def test_wheel_ships_the_checkpoints(tmp_path):
    """A non-editable build carries every shipped checkpoint and ``load_checkpoint`` finds it."""
    src = tmp_path / "src"                   # build from a copy: no build/ or egg-info in the repo
    src.mkdir()
    shutil.copy(ROOT / "pyproject.toml", src)
    shutil.copy(ROOT / "README.md", src)
    shutil.copytree(ROOT / "loihi_pinn", src / "loihi_pinn",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    shipped = sorted(p.parent.name for p in (ROOT / "loihi_pinn" / "checkpoints").glob("*/weights.pt"))
    assert shipped
    expected = {f"loihi_pinn/checkpoints/{name}/{file}" for name in shipped
                for file in ("weights.pt", "checkpoint.json")}
    out = tmp_path / "wheel"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-q", "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr      # needs the 'wheel' package: the test extra has it
    site = tmp_path / "site"
    wheel, = out.glob("loihi_pinn-*.whl")
    with zipfile.ZipFile(wheel) as z:
        assert expected <= set(z.namelist())
        z.extractall(site)
    check = ("import loihi_pinn, pathlib, sys; from loihi_pinn.training import load_checkpoint; "
             "assert pathlib.Path(loihi_pinn.__file__).is_relative_to(sys.argv[1]), loihi_pinn.__file__; "
             "c = load_checkpoint('poisson'); print(c.path, c.model.n_parameters)")
    run = subprocess.run([sys.executable, "-c", check, str(site)], cwd=tmp_path, capture_output=True, text=True,
                         env={**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PYTHONPATH": str(site)},
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert str(site) in run.stdout
