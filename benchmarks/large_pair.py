"""Memory and time of `pixel_difference` on one large pair (default 8000 x 6000), worked at its capped size.

The pair: scikit-image's astronaut scaled up, JPEG-compressed, with two squares pasted into B (known boxes). Each
method runs in a fresh process (so its peak resident memory is its own), reading the two JPEG files as a user's pair
would be:

  capped   pixel_difference(path_a, path_b) with its defaults (max_side=2048: worked at 2048 px, areas mapped back)
  naive    grey SSIM + Otsu + morphology at full size (benchmarks/areas_quality.py's baseline), with --naive

Usage: python benchmarks/large_pair.py [--size 8000x6000] [--naive] [--full]   (--full: ours with max_side=None too)
"""

import argparse, json, subprocess, sys, tempfile
from pathlib import Path

CHILD = r'''
import json, resource, sys, time
import numpy as np
from PIL import Image
sys.path.insert(0, {bench!r})
a, b, how = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
if how == 'naive':
    from areas_quality import baseline_boxes
    boxes = baseline_boxes(np.asarray(Image.open(a).convert('RGB')), np.asarray(Image.open(b).convert('RGB')))
else:
    from img_diff.areas.difference_areas import pixel_difference
    r = pixel_difference(a, b, **({{'max_side': None}} if how == 'full' else {{}}))
    boxes = [x.bbox for x in r.areas]
peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
print(json.dumps({{'seconds': round(time.perf_counter() - t, 2), 'peak_gb': peak, 'boxes': boxes}}))
'''


def make_pair(folder, W, H):
    "Two JPEGs of W x H: the astronaut scaled up; B holds two pasted squares. Returns the paths and the true boxes."
    import numpy as np, skimage.data
    from PIL import Image

    a = Image.fromarray(skimage.data.astronaut()).resize((W, H), Image.Resampling.BICUBIC)
    b = np.asarray(a).copy()
    s = W // 40
    truth = [[W // 5, H // 6, W // 5 + s, H // 6 + s], [3 * W // 4, 2 * H // 3, 3 * W // 4 + s, 2 * H // 3 + s]]
    b[truth[0][1] : truth[0][3], truth[0][0] : truth[0][2]] = (250, 30, 30)
    b[truth[1][1] : truth[1][3], truth[1][0] : truth[1][2]] = (20, 200, 240)
    pa, pb = Path(folder) / 'a.jpg', Path(folder) / 'b.jpg'
    a.save(pa, quality=90)
    Image.fromarray(b).save(pb, quality=90)
    return pa, pb, truth


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--size', default='8000x6000')
    ap.add_argument('--naive', action='store_true')
    ap.add_argument('--full', action='store_true')
    args = ap.parse_args()
    W, H = map(int, args.size.lower().split('x'))
    from img_diff.core.imaging import box_iou

    with tempfile.TemporaryDirectory() as d:
        pa, pb, truth = make_pair(d, W, H)
        code = CHILD.format(bench=str(Path(__file__).parent))
        for how in ['capped'] + ['full'] * args.full + ['naive'] * args.naive:
            out = subprocess.run([sys.executable, '-c', code, str(pa), str(pb), how], capture_output=True, text=True)
            if out.returncode:
                print(how, 'failed:', out.stderr[-800:])
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            hits = sum(any(box_iou(t, b) >= 0.5 for b in r['boxes']) for t in truth)
            print(
                f"{how:7s} {W}x{H}: {r['seconds']:7.2f} s, peak {r['peak_gb']:5.2f} GB, "
                f"{len(r['boxes'])} boxes, {hits}/{len(truth)} true boxes found (IoU >= 0.5)"
            )


if __name__ == '__main__':
    main()
