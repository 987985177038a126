"""Box quality of the pixel difference areas on the development benchmark (chapter 05b), ours beside a naive baseline.

Every pair of `benchmark_plan(seed)` is made once and given to both methods, in one process:

  ours      img_diff.areas.difference_areas.pixel_difference(a, b) with its defaults (or --paper-era, or --set NAME=VALUE)
  baseline  the usual thirty lines: grey SSIM map (scikit-image, 7-px window), Otsu threshold of 1 - SSIM,
            closing (disk 3) then opening (disk 1), connected regions (contours) of at least 0.05% of the image

Found boxes are matched one-to-one to truth boxes (Hungarian, IoU >= 0.5, as in the localization chapter). Printed:
precision, recall and F1 overall, per kind of difference, per size of difference (its truth box, as a share of the
image), per nuisance and per scene, and specificity: the share of
identical and of nuisance-only pairs that get no box at all. Per kind and per size, a found box counts for the kind (size) of
the truth box it matches or, unmatched, of the truth box it overlaps most (unmatched boxes that overlap no truth count only
overall, per nuisance and per scene).

Usage: python benchmarks/areas_quality.py [--seed 0] [--paper-era] [--set threshold=0.5 --set register=shift]
"""

import argparse, time
from collections import defaultdict
import numpy as np
from img_diff.areas.benchmark import benchmark_plan, make_benchmark_pair, KINDS, NUISANCES
from img_diff.areas.difference_areas import pixel_difference, pixel_area_params, PixelAreaParams
from img_diff.core.imaging import box_iou
from img_diff.core.presets import parse_value
from img_diff.eval.localization import match_boxes, prf


def baseline_boxes(a, b, min_area=0.0005):
    "Grey SSIM, Otsu, morphology, contours: the boxes a plain method finds."
    from skimage.metrics import structural_similarity
    from skimage.color import rgb2gray
    from skimage.filters import threshold_otsu
    from skimage.morphology import closing, opening, disk
    from skimage.measure import label, regionprops

    if a.shape != b.shape:
        from PIL import Image

        b = np.asarray(Image.fromarray(b).resize((a.shape[1], a.shape[0]), Image.Resampling.BICUBIC))
    _, S = structural_similarity(rgb2gray(a), rgb2gray(b), data_range=1.0, full=True)
    d = 1 - S
    if d.max() - d.min() < 1e-6:
        return []
    m = opening(closing(d > threshold_otsu(d), disk(3)), disk(1))
    H, W = m.shape
    return [[r.bbox[1], r.bbox[0], r.bbox[3], r.bbox[2]] for r in regionprops(label(m)) if r.area >= min_area * H * W]


SIZES = [(0.002, 'small  < 0.2%'), (0.01, 'medium 0.2-1%'), (1.01, 'large  >= 1%')]  # truth box / image


def size_of(box, H, W):
    "The size bucket of a box: its area as a share of the image."
    share = (box[2] - box[0]) * (box[3] - box[1]) / (H * W)
    return next(name for top, name in SIZES if share < top)


class Tally:
    "Counts of one method: tp/fp/fn overall and per kind, nuisance and scene; clean pairs of the two specificity sets."

    def __init__(self):
        self.c = defaultdict(lambda: [0, 0, 0])
        self.spec = defaultdict(lambda: [0, 0])
        self.seconds = 0.0

    def add(self, p, pred):
        truth = [d.bbox for d in p.differences]
        scene = 'photo' if p.scene.startswith('photo') else p.scene
        if not truth:
            self.spec['identical' if p.nuisance == 'none' else 'nuisance-only'][0] += not pred
            self.spec['identical' if p.nuisance == 'none' else 'nuisance-only'][1] += 1
            for key in ['all', f'nuisance:{p.nuisance}', f'scene:{scene}']:
                self.c[key][1] += len(pred)
            return
        m = match_boxes(pred, truth, 0.5)
        hit_p, hit_t = {i for i, _, _ in m}, {j for _, j, _ in m}
        tp, fp, fn = len(m), len(pred) - len(m), len(truth) - len(m)
        for key in ['all', f'nuisance:{p.nuisance}', f'scene:{scene}']:
            self.c[key][0] += tp
            self.c[key][1] += fp
            self.c[key][2] += fn
        H, W = p.a.shape[:2]
        for j, d in enumerate(p.differences):
            self.c[f'kind:{d.kind}'][0 if j in hit_t else 2] += 1
            self.c[f'size:{size_of(d.bbox, H, W)}'][0 if j in hit_t else 2] += 1
        for i, q in enumerate(pred):
            if i in hit_p:
                continue
            ov = [box_iou(q, t) for t in truth]
            if max(ov) > 0:
                d = p.differences[int(np.argmax(ov))]
                self.c[f'kind:{d.kind}'][1] += 1
                self.c[f'size:{size_of(d.bbox, H, W)}'][1] += 1

    def f(self, key):
        return prf(*self.c[key])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--paper-era', action='store_true', help="ours with PixelAreaParams.paper_era()")
    ap.add_argument('--set', action='append', default=[], help="NAME=VALUE (JSON value) for ours, repeatable")
    ap.add_argument('--limit', type=int, default=None, help="only the first N pairs of the plan (a quick look)")
    args = ap.parse_args()
    params = PixelAreaParams.paper_era() if args.paper_era else PixelAreaParams()
    kw = {k.strip(): parse_value(v) for k, v in (s.split('=', 1) for s in args.set)}
    params = pixel_area_params(**{**params.__dict__, **kw})  # checked: a misspelt name or a bad value stops here
    plan = benchmark_plan(args.seed)[: args.limit]
    ours, base = Tally(), Tally()
    n_diff = 0
    for s in plan:
        p = make_benchmark_pair(**s)
        n_diff += len(p.differences)
        t = time.perf_counter()
        ours.add(p, [x.bbox for x in pixel_difference(p.a, p.b, params).areas])
        ours.seconds += time.perf_counter() - t
        t = time.perf_counter()
        base.add(p, baseline_boxes(p.a, p.b))
        base.seconds += time.perf_counter() - t
    changed = {k: v for k, v in params.__dict__.items() if v != getattr(PixelAreaParams(), k)}
    print(f"development benchmark, seed {args.seed}: {len(plan)} pairs, {n_diff} differences; box match at IoU >= 0.5")
    print(f"ours: pixel_difference({'defaults' if not changed else changed})")
    print(
        f"{'':24s} {'ours P':>7s} {'R':>6s} {'F1':>6s}   {'base P':>7s} {'R':>6s} {'F1':>6s}   {'F1 gain':>7s}  {'n':>4s}"
    )

    def row(label, key):
        o, b = ours.f(key), base.f(key)
        n = o['tp'] + o['fn']
        print(
            f"{label:24s} {o['precision']:7.3f} {o['recall']:6.3f} {o['f1']:6.3f}   {b['precision']:7.3f} {b['recall']:6.3f} {b['f1']:6.3f}"
            f"   {o['f1'] - b['f1']:+7.3f}  {n:4d}"
        )

    row('overall', 'all')
    print('per kind')
    [row('  ' + k, f'kind:{k}') for k in KINDS]
    print('per size of difference (truth box / image)')
    [row('  ' + k, f'size:{k}') for _, k in SIZES]
    print('per nuisance of B')
    [row('  ' + k, f'nuisance:{k}') for k in NUISANCES]
    print('per scene')
    [row('  ' + k, f'scene:{k}') for k in ['photo', 'cartoon', 'cartoon-snow']]
    print('specificity (share of pairs with no box)')
    for k in ['identical', 'nuisance-only']:
        (o, n), (b, _) = ours.spec[k], base.spec[k]
        print(f"  {k:22s} ours {o}/{n} = {o / max(n, 1):.3f}   baseline {b}/{n} = {b / max(n, 1):.3f}")
    print(f"seconds per pair: ours {ours.seconds / len(plan):.2f}, baseline {base.seconds / len(plan):.2f}")


if __name__ == '__main__':
    main()
