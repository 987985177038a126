"""Box quality of the pixel difference areas on the development sets, ours beside a naive baseline.

Two sets (`--sets dev,art`, both by default):

  dev  `benchmark_plan(seed)` of img_diff.areas.benchmark: photographs and flat drawn shapes under camera and file
       nuisances
  art  `art_plan(seed)` of img_diff.areas.art_benchmark: puzzle scenes drawn from real illustrations (emoji), 960 x
       720,
       3-10 changed objects each, many of them small or next to each other, both images JPEG 75-95; and pairs of
       JPEG and drifting snow only

Every pair of a set is made once and given to both methods, in one process:

  ours      img_diff.areas.difference_areas.pixel_difference(a, b) with its defaults (or --paper-era, or --set
            NAME=VALUE)
  baseline  the usual thirty lines: grey SSIM map (scikit-image, 7-px window), Otsu threshold of 1 - SSIM,
            closing (disk 3) then opening (disk 1), connected regions (contours) of at least 0.05% of the image

Found boxes are matched one-to-one to truth boxes (Hungarian, IoU >= 0.5, as in the localization chapter). Printed:
precision, recall and F1 overall, per kind of difference, per size of difference (its truth box, as a share of the
image; '< 0.3%' is a further row, overlapping the first two: the small parts of real puzzles), per nuisance, per scene,
per gap to the nearest other difference of the pair (box to box, px; 'alone' when the pair has one), and specificity:
the share of identical and of nuisance-only pairs that get no box at all. Per kind, size and gap, a found box counts
for the kind (size, gap) of the truth box it matches or, unmatched, of the truth box it overlaps most (unmatched boxes
that overlap no truth count only overall, per nuisance and per scene). 'Neighbours found separately': of the pairs of
differences at most 40 px apart, the share where both are matched (each by its own box: matching is one-to-one).
Seconds per pair are each method's own time.

Usage: python benchmarks/areas_quality.py [--sets dev,art] [--limit N] [--seed 0] [--paper-era]
         [--set threshold=0.5 ...]
"""

import argparse, time
from collections import defaultdict
import numpy as np
from img_diff.areas.benchmark import benchmark_plan, make_benchmark_pair, KINDS, NUISANCES
from img_diff.areas.art_benchmark import art_plan, make_art_pair, ART_KINDS, box_gap, nearest_gaps
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
PUZZLE_SMALL = (0.003, '< 0.3% (puzzle parts)')  # a further row, overlapping the first two
GAPS = [(10, '0-10 px'), (20, '10-20 px'), (40.001, '20-40 px'), (float('inf'), '> 40 px'), (None, 'alone')]
NEAR = 40  # px: differences at most this far apart are neighbours


def size_of(box, H, W):
    "The size bucket of a box: its area as a share of the image."
    share = (box[2] - box[0]) * (box[3] - box[1]) / (H * W)
    return next(name for top, name in SIZES if share < top)


def buckets_of(box, gap, H, W):
    "The size buckets (one of `SIZES`, and the puzzle-parts row when small enough) and the gap bucket of a truth box."
    out = [
        f'size:{size_of(box, H, W)}',
        f"gap:{next(n for top, n in GAPS if top is None or gap < top) if gap < float('inf') else 'alone'}",
    ]
    if (box[2] - box[0]) * (box[3] - box[1]) / (H * W) < PUZZLE_SMALL[0]:
        out.append(f'size:{PUZZLE_SMALL[1]}')
    return out


def _covers(box, truth):
    "True when `box` holds at least half of the truth box's area."
    w = min(box[2], truth[2]) - max(box[0], truth[0])
    h = min(box[3], truth[3]) - max(box[1], truth[1])
    return max(w, 0) * max(h, 0) >= 0.5 * (truth[2] - truth[0]) * (truth[3] - truth[1])


def _why_not_apart(pred, t1, t2, hit1, hit2):
    "Why two neighbouring differences were not both matched: 'one box' holds half of each, else how many were missed."
    if any(_covers(q, t1) and _covers(q, t2) for q in pred):
        return 'one box'
    return 'one missed' if hit1 or hit2 else 'both missed'


class Tally:
    "Counts of one method: tp/fp/fn overall and per kind, nuisance and scene; clean pairs of the two specificity sets."

    def __init__(self):
        self.c = defaultdict(lambda: [0, 0, 0])
        self.spec = defaultdict(lambda: [0, 0])
        self.neighbours = [0, 0]  # pairs of differences at most NEAR px apart: both matched, all
        self.apart = defaultdict(int)  # ... of those not both matched, why: one box over both, or which missed
        self.seconds = 0.0

    def add(self, p, pred):
        truth = [d.bbox for d in p.differences]
        scene = 'photo' if p.scene.startswith('photo') else p.scene
        if not truth:
            keys = ['identical' if p.nuisance == 'none' and not p.scene.startswith('art') else 'nuisance-only']
            keys += [f'nuisance-only {scene}'] if scene.startswith('art') else []
            for k in keys:
                self.spec[k][0] += not pred
                self.spec[k][1] += 1
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
        gaps = nearest_gaps(truth)
        changes = p.nuisance_params.get('changes') or [{}] * len(truth)  # the art set says how it recoloured
        keys = [
            [f'kind:{d.kind}', *buckets_of(d.bbox, g, H, W)] + ([f"kind:{d.kind}: {c['part']}"] if 'part' in c else [])
            for d, g, c in zip(p.differences, gaps, changes)
        ]
        for j in range(len(truth)):
            for key in keys[j]:
                self.c[key][0 if j in hit_t else 2] += 1
        for i, q in enumerate(pred):
            if i in hit_p:
                continue
            ov = [box_iou(q, t) for t in truth]
            if max(ov) > 0:
                for key in keys[int(np.argmax(ov))]:
                    self.c[key][1] += 1
        for j in range(len(truth)):
            for k in range(j + 1, len(truth)):
                if box_gap(truth[j], truth[k]) <= NEAR:
                    self.neighbours[0] += j in hit_t and k in hit_t
                    self.neighbours[1] += 1
                    if not (j in hit_t and k in hit_t):
                        self.apart[_why_not_apart(pred, truth[j], truth[k], j in hit_t, k in hit_t)] += 1

    def f(self, key):
        return prf(*self.c[key])


SETS = {
    'dev': dict(
        title='development benchmark',
        plan=benchmark_plan,
        make=make_benchmark_pair,
        kinds=KINDS,
        nuisances=NUISANCES,
        scenes=['photo', 'cartoon', 'cartoon-snow'],
        spec=['identical', 'nuisance-only'],
    ),
    'art': dict(
        title='drawn-art puzzles',
        plan=art_plan,
        make=make_art_pair,
        kinds=[*ART_KINDS[:4], 'recoloured: whole', 'recoloured: one colour', *ART_KINDS[4:]],
        nuisances=None,  # every pair is JPEG (75-95)
        scenes=['art', 'art-snow'],
        spec=['nuisance-only', 'nuisance-only art', 'nuisance-only art-snow'],
    ),
}


def run_set(name, args, params):
    "Make every pair of one set, give it to both methods, print the figures."
    cfg = SETS[name]
    plan = cfg['plan'](args.seed)[: args.limit]
    ours, base = Tally(), Tally()
    n_diff = 0
    for s in plan:
        p = cfg['make'](**s)
        n_diff += len(p.differences)
        t = time.perf_counter()
        ours.add(p, [x.bbox for x in pixel_difference(p.a, p.b, params).areas])
        ours.seconds += time.perf_counter() - t
        t = time.perf_counter()
        base.add(p, baseline_boxes(p.a, p.b))
        base.seconds += time.perf_counter() - t
    changed = {k: v for k, v in params.__dict__.items() if v != getattr(PixelAreaParams(), k)}
    print(f"{cfg['title']}, seed {args.seed}: {len(plan)} pairs, {n_diff} differences; box match at IoU >= 0.5")
    print(f"ours: pixel_difference({'defaults' if not changed else changed})")
    print(
        f"{'':24s} {'ours P':>7s} {'R':>6s} {'F1':>6s}   {'base P':>7s} {'R':>6s} {'F1':>6s}   {'F1 gain':>7s}  "
        f"{'n':>4s}"
    )

    def row(label, key):
        o, b = ours.f(key), base.f(key)
        n = o['tp'] + o['fn']
        print(
            f"{label:24s} {o['precision']:7.3f} {o['recall']:6.3f} {o['f1']:6.3f}   {b['precision']:7.3f} "
            f"{b['recall']:6.3f} {b['f1']:6.3f}"
            f"   {o['f1'] - b['f1']:+7.3f}  {n:4d}"
        )

    row('overall', 'all')
    print('per kind')
    [row('  ' + k, f'kind:{k}') for k in cfg['kinds']]
    print('per size of difference (truth box / image)')
    [row('  ' + k, f'size:{k}') for _, k in SIZES + [PUZZLE_SMALL]]
    if cfg['nuisances']:
        print('per nuisance of B')
        [row('  ' + k, f'nuisance:{k}') for k in cfg['nuisances']]
    print('per scene')
    [row('  ' + k, f'scene:{k}') for k in cfg['scenes']]
    print('per gap to the nearest other difference (box to box)')
    [row('  ' + k, f'gap:{k}') for _, k in GAPS]
    (o, n), (b, _) = ours.neighbours, base.neighbours
    print(f"neighbours found separately (pairs of differences <= {NEAR} px apart, both matched)")
    print(f"  {'':22s} ours {o}/{n} = {o / max(n, 1):.3f}   baseline {b}/{n} = {b / max(n, 1):.3f}")
    why = lambda t: ', '.join(f'{k} {t.apart[k]}' for k in ('one box', 'one missed', 'both missed'))
    print(f"  {'the others, why':22s} ours: {why(ours)}   baseline: {why(base)}")
    print('specificity (share of pairs with no box)')
    for k in cfg['spec']:
        (o, n), (b, _) = ours.spec[k], base.spec[k]
        print(f"  {k:22s} ours {o}/{n} = {o / max(n, 1):.3f}   baseline {b}/{n} = {b / max(n, 1):.3f}")
    print(f"seconds per pair: ours {ours.seconds / len(plan):.2f}, baseline {base.seconds / len(plan):.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sets', default='dev,art', help="comma-separated: dev (benchmark_plan), art (art_plan)")
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--paper-era', action='store_true', help="ours with PixelAreaParams.paper_era()")
    ap.add_argument('--set', action='append', default=[], help="NAME=VALUE (JSON value) for ours, repeatable")
    ap.add_argument('--limit', type=int, default=None, help="only the first N pairs of each set (a quick look)")
    args = ap.parse_args()
    sets = [x.strip() for x in args.sets.split(',') if x.strip()]
    if not sets or any(x not in SETS for x in sets):
        ap.error(f"--sets: choose from {', '.join(SETS)} (got {args.sets!r})")
    params = PixelAreaParams.paper_era() if args.paper_era else PixelAreaParams()
    kw = {k.strip(): parse_value(v) for k, v in (s.split('=', 1) for s in args.set)}
    params = pixel_area_params(**{**params.__dict__, **kw})  # checked: a misspelt name or a bad value stops here
    for k, name in enumerate(sets):
        if k:
            print()
        run_set(name, args, params)


if __name__ == '__main__':
    main()
