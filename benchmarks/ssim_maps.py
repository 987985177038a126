"""SSIM maps of one RGB pair, side by side: scikit-image, torchmetrics, kornia and img_diff.areas.ssim.ssim_map.

All four compute the per-pixel, per-channel SSIM map with a Gaussian window (sigma 1.5, 11 taps, Wang et al.'s
constants, data range 255) of a real photograph (skimage.data.astronaut, resized) and a changed copy (a pasted block,
a brightness shift, mild noise), in one process, interleaved rep by rep (the order rotates), with torch's default
number of threads. Printed per size: ms per pair (median over reps), the ratios ours/kornia and ours/skimage (medians
of the per-rep ratios), and each map's largest absolute difference from scikit-image's float64 map, over the whole
map (borders included) and over the interior (5 px from the border; kornia and torchmetrics pad with torch's 'reflect',
which is scipy's 'mirror', so their borders differ).

  skimage       structural_similarity(float32 HWC, channel_axis=2, gaussian_weights=True, use_sample_covariance=False,
                full=True)
  torchmetrics  structural_similarity_index_measure(NCHW, gaussian_kernel=True, sigma=1.5, return_full_image=True)
  kornia        kornia.metrics.ssim(NCHW, 11, max_val=255.)
  ours          img_diff.areas.ssim.ssim_map(float32 HWC numpy, as difference_map calls it)

With --device cuda --batch N it also prints pairs/s of ours and kornia on a batch of N pairs on the GPU (after a
warm-up).
Usage: python benchmarks/ssim_maps.py [--sizes 512 1024] [--reps 9] [--device cuda --batch 64]
"""

import argparse, statistics, time
import numpy as np


def make_pair(size, seed=0):
    import skimage.data
    from PIL import Image

    rng = np.random.default_rng(seed)
    a = np.asarray(Image.fromarray(skimage.data.astronaut()).resize((size, size), Image.Resampling.BICUBIC))
    b = a.astype(np.float32) + 6 + rng.normal(0, 2, a.shape)
    b[size // 5 : size // 5 + size // 8, size // 2 : size // 2 + size // 6] = [30, 200, 90]
    return a.astype(np.float32), np.clip(b, 0, 255).round().astype(np.float32)


def methods(a, b):
    import torch, kornia
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim
    from skimage.metrics import structural_similarity
    from img_diff.areas.ssim import ssim_map

    ta, tb = (torch.from_numpy(x).permute(2, 0, 1)[None].contiguous() for x in (a, b))
    hwc = lambda t: t[0].permute(1, 2, 0).numpy()

    def sk():
        return structural_similarity(
            a,
            b,
            channel_axis=2,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
            full=True,
        )[1]

    def tm():
        with torch.inference_mode():
            return hwc(
                tm_ssim(
                    ta, tb, gaussian_kernel=True, sigma=1.5, kernel_size=11, data_range=255.0, return_full_image=True
                )[1]
            )

    def ko():
        with torch.inference_mode():
            return hwc(kornia.metrics.ssim(ta, tb, 11, max_val=255.0))

    def ours():
        return ssim_map(a, b).map

    return {'skimage': sk, 'torchmetrics': tm, 'kornia': ko, 'ours': ours}


def cpu_run(size, reps):
    from skimage.metrics import structural_similarity

    a, b = make_pair(size)
    ref = structural_similarity(
        a.astype(np.float64),
        b.astype(np.float64),
        channel_axis=2,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
        full=True,
    )[1]
    fs = methods(a, b)
    names = list(fs)
    err = {k: np.abs(np.asarray(f(), np.float64) - ref) for k, f in fs.items()}  # also the warm-up
    t = {k: [] for k in names}
    for r in range(reps):
        for k in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            fs[k]()
            t[k].append(time.perf_counter() - t0)
    ratio = lambda x, y: statistics.median([p / q for p, q in zip(t[x], t[y])])
    print(f"\n{size} x {size} RGB, {reps} reps")
    print(f"  {'':13s} {'ms/pair':>8s} {'max |x - skimage f64|':>22s} {'interior':>10s}")
    for k in names:
        print(f"  {k:13s} {1000 * statistics.median(t[k]):8.1f} {err[k].max():22.2e} {err[k][5:-5, 5:-5].max():10.2e}")
    print(
        f"  ours/kornia {ratio('ours', 'kornia'):.2f}   ours/skimage {ratio('ours', 'skimage'):.2f}   "
        f"ours/torchmetrics {ratio('ours', 'torchmetrics'):.2f}"
    )


def gpu_run(size, batch, device, reps):
    import torch, kornia
    from img_diff.areas.ssim import ssim_map

    a, b = make_pair(size)
    ta = torch.from_numpy(a).permute(2, 0, 1)[None].repeat(batch, 1, 1, 1).to(device)
    tb = torch.from_numpy(b).permute(2, 0, 1)[None].repeat(batch, 1, 1, 1).to(device)
    single = ssim_map(a, b).map

    def ours():
        return ssim_map(ta, tb)

    def ko():
        with torch.inference_mode():
            return kornia.metrics.ssim(ta, tb, 11, max_val=255.0)

    res = ours()
    err = float((res.map[0].permute(1, 2, 0).cpu() - torch.from_numpy(np.ascontiguousarray(single))).abs().max())
    print(f"\n{size} x {size} RGB on {device}, batch {batch}: max |GPU batch - CPU one pair| = {err:.2e}")
    for name, f in [('ours', ours), ('kornia', ko)]:
        f()
        torch.cuda.synchronize()
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            torch.cuda.synchronize()
            ts.append(time.perf_counter() - t0)
        print(f"  {name:8s} {batch / statistics.median(ts):9.0f} pairs/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', type=int, nargs='+', default=[512, 1024])
    ap.add_argument('--reps', type=int, default=9)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--batch', type=int, default=64)
    a = ap.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for s in a.sizes:
        if a.device == 'cpu':
            cpu_run(s, a.reps)
        else:
            gpu_run(s, a.batch, a.device, a.reps)


if __name__ == '__main__':
    main()
