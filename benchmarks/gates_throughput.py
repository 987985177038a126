"""Throughput of the batched CLIP pair filter and crop gate against one-pair-at-a-time processing, at equal results.

A full-size CLIP ViT-B/32 with random weights (the architecture of openai/clip-vit-base-patch32; weights cannot be
downloaded here, and throughput does not depend on them) scores N offline pairs (image-image cosine) and the two crops
of every pixel difference area of each pair (crop gate), on CPU:

  batched      all images of all pairs in batches of --batch-size, then all crops likewise (img_diff.areas.model_gates)
  per-pair     one pair at a time, as the released scripts do: the pair's two images, then each box's two crops,
               each call through CLIPImageProcessor + the model, two images a call

Both run in one process, interleaved round by round (the order alternates). The script prints pairs per second, the
speed-up (median of per-round ratios), the largest difference between the two ways' cosines, and whether every gate
decision agrees: the paper's thresholds (band (0.90, 0.98), crop gate 0.85) and, since random-weight scores all sit
near
1, thresholds near the 10/25/50/75/90 % quantiles of the per-pair scores as well (each midway between two
neighbouring per-pair scores, so that a decision flips only when a score moves past half the gap to its neighbour).
Then it splits the cost per image (image processor; forward at 2 images a call; forward at --batch-size) to show
the ceiling of batching: the forward is compute-bound, so batching can only save what the small calls waste.
--bf16 also times the batched way under torch.autocast(bfloat16) — NOT equal results; shown for the record.
Usage: python benchmarks/gates_throughput.py [--pairs 24] [--rounds 3] [--batch-size 64] [--threads N] [--bf16]
"""

import argparse, contextlib, statistics, time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--pairs', type=int, default=24)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--batch-size', type=int, default=64)
    ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--bf16', action='store_true')
    a = ap.parse_args()
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    from transformers import CLIPConfig, CLIPModel, CLIPImageProcessor
    from img_diff.synth.offline_pairs import plan_offline_pairs, make_pair
    from img_diff.areas.difference_areas import pixel_difference
    from img_diff.areas.model_gates import clip_image_embeddings, crop, in_band

    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig()).eval()  # ViT-B/32 vision tower, 224 px, projection 512
    proc = CLIPImageProcessor()  # resize 224, centre crop 224, CLIP normalisation
    print(f'image processor: {type(proc).__name__}')
    pairs = [
        make_pair(r.seed, **r.params) for r in plan_offline_pairs(n_pairs=a.pairs, seed=11, sizes=(256, 384, 512))
    ]
    boxes = [[x.bbox for x in pixel_difference(p.a, p.b).areas] for p in pairs]
    n_crops = sum(len(b) for b in boxes)
    print(
        f'{a.pairs} pairs, {n_crops} boxes ({2 * a.pairs + 2 * n_crops} images to encode), torch threads '
        f'{torch.get_num_threads()}'
    )

    def batched(ctx=contextlib.nullcontext):
        with ctx():
            e = clip_image_embeddings([x for p in pairs for x in (p.a, p.b)], model, proc, a.batch_size)
            pair = [float(e[2 * i] @ e[2 * i + 1]) for i in range(len(pairs))]
            cr = [x for p, bs in zip(pairs, boxes) for b in bs for x in (crop(p.a, b), crop(p.b, b))]
            c = clip_image_embeddings(cr, model, proc, a.batch_size)
        return pair, [float(c[2 * i] @ c[2 * i + 1]) for i in range(len(cr) // 2)]

    def encode_two(ims):  # the released scripts' call: processor, model, normalise
        with torch.no_grad():
            f = model.get_image_features(**proc(images=ims, return_tensors='pt')).pooler_output
        f = f / f.norm(dim=-1, keepdim=True)
        return float(f[0] @ f[1])

    def per_pair():
        pair, crops = [], []
        for p, bs in zip(pairs, boxes):
            pair.append(encode_two([p.a, p.b]))
            for b in bs:
                crops.append(encode_two([crop(p.a, b), crop(p.b, b)]))
        return pair, crops

    bf16 = lambda: batched(lambda: torch.autocast('cpu', dtype=torch.bfloat16))
    rb, rp = batched(), per_pair()  # warm-up, and the equality check
    diff = max(abs(x - y) for x, y in zip(rb[0] + rb[1], rp[0] + rp[1]))

    def decisions(res, qs):
        band = [in_band(c, 0.90, 0.98) for c in res[0]] + [in_band(c, *q) for c in res[0] for q in qs[0]]
        gate = [c >= 0.85 for c in res[1]] + [c >= q for c in res[1] for q in qs[1]]
        return band + gate

    def cut(xs, q):  # midway between two neighbouring per-pair scores, near quantile q
        s = sorted(xs)
        k = min(int(q * (len(s) - 1)), len(s) - 2)
        return (s[k] + s[k + 1]) / 2

    qs = (
        [(cut(rp[0], lo), cut(rp[0], hi)) for lo, hi in ((0.1, 0.9), (0.25, 0.75), (0.5, 0.9))],
        [cut(rp[1], q) for q in (0.1, 0.25, 0.5, 0.75, 0.9)],
    )
    dp, db = decisions(rp, qs), decisions(rb, qs)
    ths = [[0.90, 0.98] + [x for q in qs[0] for x in q], [0.85] + qs[1]]
    margin = min(abs(c - th) for res, th_ in zip(rp, ths) for c in res for th in th_)  # closest score to a threshold
    variants = [('b', batched), ('p', per_pair)] + ([('h', bf16)] if a.bf16 else [])
    if a.bf16:
        rh = bf16()
        dh = decisions(rh, qs)
        diff_h = max(abs(x - y) for x, y in zip(rh[0] + rh[1], rp[0] + rp[1]))
    t = {k: [] for k, _ in variants}
    ratios, ratios_h = [], []
    for r in range(a.rounds):
        for k, f in variants if r % 2 == 0 else variants[::-1]:
            t0 = time.perf_counter()
            f()
            t[k].append(time.perf_counter() - t0)
        ratios.append(t['p'][-1] / t['b'][-1])
        if a.bf16:
            ratios_h.append(t['p'][-1] / t['h'][-1])
    med = {k: statistics.median(v) for k, v in t.items()}
    print(f"batched : {med['b']:7.2f} s  ({a.pairs / med['b']:6.2f} pairs/s)")
    print(f"per-pair: {med['p']:7.2f} s  ({a.pairs / med['p']:6.2f} pairs/s)")
    print(
        f"speed-up of batching: {statistics.median(ratios):.2f}x (per-round {', '.join(f'{x:.2f}' for x in ratios)})"
    )
    print(
        f"largest cosine difference batched vs per-pair: {diff:.2e};  gate decisions agree: {dp == db} "
        f"({sum(x == y for x, y in zip(dp, db))}/{len(dp)}; closest per-pair score to a threshold: {margin:.2e})"
    )
    if a.bf16:
        print(
            f"bf16 batched (NOT equal results): {med['h']:7.2f} s ({a.pairs / med['h']:6.2f} pairs/s), speed-up "
            f"{statistics.median(ratios_h):.2f}x, largest cosine difference {diff_h:.2e}, decisions agree {dh == db}"
        )

    # where the time goes, per image encoded
    ims = [x for p, bs in zip(pairs, boxes) for x in [p.a, p.b] + [crop(im, b) for b in bs for im in (p.a, p.b)]]
    pv = proc(images=ims[: a.batch_size], return_tensors='pt')['pixel_values']
    n = len(pv)
    tt = {'proc': [], 'f2': [], 'fb': []}
    with torch.inference_mode():
        for _ in range(2):
            t0 = time.perf_counter()
            for i in range(0, n, 2):
                proc(images=ims[i : i + 2], return_tensors='pt')
            tt['proc'].append((time.perf_counter() - t0) / n)
            t0 = time.perf_counter()
            for i in range(0, n, 2):
                model.get_image_features(pixel_values=pv[i : i + 2])
            tt['f2'].append((time.perf_counter() - t0) / n)
            t0 = time.perf_counter()
            model.get_image_features(pixel_values=pv)
            tt['fb'].append((time.perf_counter() - t0) / n)
    m = {k: 1e3 * min(v) for k, v in tt.items()}
    print(
        f"per image: image processor {m['proc']:.1f} ms, forward {m['f2']:.1f} ms at 2 a call, {m['fb']:.1f} ms "
        f"at {n} a call "
        f"-> ceiling of batching about {(m['proc'] + m['f2']) / (m['proc'] + m['fb']):.2f}x, "
        f"and {(m['proc'] + m['f2']) / m['fb']:.2f}x even with free preprocessing"
    )


if __name__ == '__main__':
    main()
