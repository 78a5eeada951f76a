"""Deterministic pixel synthesis for simulated imagery: SAR speckle and optical land cover.

The arrays only have to *look* like imagery (so a person opening a COG or thumbnail sees
something plausible) and be identical for the same seed on every machine: everything is
drawn from one :func:`numpy.random.default_rng` (PCG64), whose streams are specified and
platform-independent.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Kind = Literal["sar", "optical"]
DType = Literal["uint8", "uint16", "float32"]
Array = npt.NDArray[np.generic]
FloatArray = npt.NDArray[np.float32]

# Surface reflectance by class, bands in (red, green, blue, nir) order. Water is dark and
# NIR-black; land mixes soil and vegetation, vegetation being bright in NIR.
_WATER = np.array([0.03, 0.05, 0.08, 0.02], dtype=np.float32)
_SOIL = np.array([0.20, 0.16, 0.12, 0.28], dtype=np.float32)
_VEGETATION = np.array([0.04, 0.09, 0.04, 0.45], dtype=np.float32)


def _linear_taps(n_out: int, cells: int) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """For each of ``n_out`` samples over ``cells + 1`` knots: left knot index, weight of right."""
    pos = np.linspace(0.0, cells, n_out, dtype=np.float32)
    left = np.minimum(pos.astype(np.intp), cells - 1)
    return left, (pos - left).astype(np.float32)


def smooth_field(rng: np.random.Generator, rows: int, cols: int, cells: int) -> FloatArray:
    """A smooth random field in [0, 1]: bilinearly upsampled ``cells``-per-side noise.

    Interpolated with gathers rather than matrix products: on a busy 2-core machine a
    multithreaded BLAS call this small took 15 ms instead of 0.4 ms.
    """
    knots = rng.random((cells + 1, cells + 1), dtype=np.float32)
    top, wy = _linear_taps(rows, cells)
    left, wx = _linear_taps(cols, cells)
    by_row = knots[top] * (1 - wy[:, None]) + knots[top + 1] * wy[:, None]
    field = by_row[:, left] * (1 - wx) + by_row[:, left + 1] * wx
    return field.astype(np.float32, copy=False)


def _terrain(rng: np.random.Generator, rows: int, cols: int) -> FloatArray:
    """Two octaves of smooth noise: large regions plus some finer structure."""
    coarse = smooth_field(rng, rows, cols, 4)
    fine = smooth_field(rng, rows, cols, 24)
    return (0.75 * coarse + 0.25 * fine).astype(np.float32)


def sar_amplitude(rng: np.random.Generator, rows: int, cols: int) -> FloatArray:
    """Amplitude-like SAR texture, roughly in [0, 1.5]: Rayleigh speckle over reflectivity.

    Fully developed single-look speckle has exponentially distributed intensity, so its
    amplitude is the square root of an exponential draw; water (low terrain values) is
    made dark, and a few bright point targets stand in for ships and corner reflectors.
    """
    terrain = _terrain(rng, rows, cols)
    reflectivity = np.where(terrain < 0.35, 0.02, 0.08 + 0.5 * (terrain - 0.35) ** 2)
    speckle = np.sqrt(rng.standard_exponential((rows, cols), dtype=np.float32))
    amplitude = np.sqrt(reflectivity).astype(np.float32) * speckle
    targets = max(1, rows * cols // 20000)
    ys = rng.integers(0, rows, targets)
    xs = rng.integers(0, cols, targets)
    amplitude[ys, xs] = 1.5
    return amplitude.astype(np.float32)


def optical_reflectance(rng: np.random.Generator, rows: int, cols: int, bands: int) -> FloatArray:
    """Surface reflectance ``(bands, rows, cols)`` in [0, 1]: water, soil and vegetation.

    Bands are red, green, blue, NIR, then repeats of NIR-like noise for bands beyond four.
    """
    terrain = _terrain(rng, rows, cols)
    greenness = smooth_field(rng, rows, cols, 12)
    land = terrain >= 0.35
    out = np.empty((bands, rows, cols), dtype=np.float32)
    for b in range(bands):
        i = min(b, 3)
        land_value = _SOIL[i] + (_VEGETATION[i] - _SOIL[i]) * greenness
        out[b] = np.where(land, land_value, _WATER[i])
    # Uniform rather than Gaussian noise: several times cheaper to draw, and looks alike.
    out += (rng.random(out.shape, dtype=np.float32) - 0.5) * 0.004
    return np.clip(out, 0.0, 1.0)


def synthesize(
    kind: Kind, bands: int, dtype: DType, rows: int, cols: int, seed: int
) -> npt.NDArray[np.generic]:
    """Pixels ``(bands, rows, cols)`` in ``dtype`` for one asset, fully determined by ``seed``.

    Scaling follows common product conventions: SAR uint16 amplitude DN ~ 1000 x amplitude;
    optical uint16 is reflectance x 10000 (as in Sentinel-2 L2A); optical uint8 is a
    display stretch of reflectance 0-0.4.
    """
    rng = np.random.default_rng(seed)
    values: npt.NDArray[np.floating[Any]]
    if kind == "sar":
        amplitude = sar_amplitude(rng, rows, cols)
        # Extra SAR bands (e.g. a second polarisation) are independently speckled copies.
        stack = np.stack([amplitude, *(sar_amplitude(rng, rows, cols) for _ in range(bands - 1))])
        scale = {"uint8": 170.0, "uint16": 1000.0, "float32": 1.0}[dtype]
        values = stack * scale
    else:
        reflectance = optical_reflectance(rng, rows, cols, bands)
        scale = {"uint8": 255.0 / 0.4, "uint16": 10000.0, "float32": 1.0}[dtype]
        values = reflectance * scale
    if dtype == "float32":
        return values.astype(np.float32)
    limit = float(np.iinfo(np.dtype(dtype)).max)
    return np.clip(np.rint(values), 0, limit).astype(dtype)


def resample_to(pixels: Array, max_side: int) -> FloatArray:
    """``(bands, rows, cols)`` as float32, scaled so the longer side is ``max_side``.

    Whole-factor reductions are block-averaged first (that is what smooths speckle in a
    SAR quicklook); the remainder is nearest-neighbour sampling.
    """
    work = pixels.astype(np.float32)
    _, rows, cols = work.shape
    factor = max(rows, cols) // max_side
    if factor >= 2:
        r, c = rows // factor, cols // factor
        blocks = work[:, : r * factor, : c * factor].reshape(-1, r, factor, c, factor)
        work = blocks.mean(axis=(2, 4), dtype=np.float32)
    _, rows, cols = work.shape
    scale = max_side / max(rows, cols)
    out_rows, out_cols = max(1, round(rows * scale)), max(1, round(cols * scale))
    ys = np.arange(out_rows) * rows // out_rows
    xs = np.arange(out_cols) * cols // out_cols
    return work[:, ys][:, :, xs]


def to_display(pixels: FloatArray) -> npt.NDArray[np.uint8]:
    """8-bit display bands (1 grey or 3 RGB) of ``(bands, rows, cols)`` pixels.

    Stretches between the 2nd and 98th percentiles, as viewers do for previews. One
    stretch for all three RGB bands, not one each, so colours stay true (per-band
    stretching turns dark water bright blue).
    """
    shown = pixels[:3] if pixels.shape[0] >= 3 else pixels[:1]
    low, high = np.percentile(shown, (2.0, 98.0))
    span = max(float(high - low), 1e-6)
    out: npt.NDArray[np.uint8] = np.clip((shown - low) * (255.0 / span), 0, 255).astype(np.uint8)
    return out
