"""Throughput of the batched CLIP pair filter and crop gate against one-pair-at-a-time processing, at equal results.

A full-size CLIP ViT-B/32 with random weights (the architecture of openai/clip-vit-base-patch32; weights cannot be
downloaded here, and throughput does not depend on them) scores N offline pairs (image-image cosine) and the two crops of
every pixel difference area of each pair (crop gate), on CPU:

  batched      all images of all pairs in batches of --batch-size, then all crops likewise (img_diff.model_gates)
  per-pair     one pair at a time, as the released scripts do: the pair's two images, then each box's two crops

Both run in one process, interleaved round by round; the script prints pairs per second, the speed-up (median of
per-round ratios) and the largest difference between the two ways' scores.
Usage: python benchmarks/gates_throughput.py [--pairs 24] [--rounds 3] [--batch-size 64] [--threads N]
"""
import argparse, statistics, time
import numpy as np

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--pairs', type=int, default=24); ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--batch-size', type=int, default=64); ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    import torch
    if a.threads: torch.set_num_threads(a.threads)
    from transformers import CLIPConfig, CLIPModel, CLIPImageProcessor
    from img_diff.offline_pairs import plan_offline_pairs, make_pair
    from img_diff.difference_areas import pixel_difference
    from img_diff.model_gates import clip_image_embeddings, crop
    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig()).eval()              # ViT-B/32 vision tower, 224 px, projection 512
    proc = CLIPImageProcessor()                         # resize 224, centre crop 224, CLIP normalisation
    pairs = [make_pair(r.seed, **r.params) for r in plan_offline_pairs(a.pairs, seed=11, sizes=(256, 384, 512))]
    boxes = [[x.bbox for x in pixel_difference(p.a, p.b).areas] for p in pairs]
    n_crops = sum(len(b) for b in boxes)
    print(f'{a.pairs} pairs, {n_crops} boxes, torch threads {torch.get_num_threads()}')

    def batched():
        e = clip_image_embeddings([x for p in pairs for x in (p.a, p.b)], model, proc, a.batch_size)
        pair = [float(e[2*i] @ e[2*i+1]) for i in range(len(pairs))]
        cr = [x for p, bs in zip(pairs, boxes) for b in bs for x in (crop(p.a, b), crop(p.b, b))]
        c = clip_image_embeddings(cr, model, proc, a.batch_size)
        return pair, [float(c[2*i] @ c[2*i+1]) for i in range(len(cr)//2)]

    def per_pair():
        pair, crops = [], []
        for p, bs in zip(pairs, boxes):
            e = clip_image_embeddings([p.a, p.b], model, proc, 2); pair.append(float(e[0] @ e[1]))
            for b in bs:
                c = clip_image_embeddings([crop(p.a, b), crop(p.b, b)], model, proc, 2); crops.append(float(c[0] @ c[1]))
        return pair, crops

    rb, rp = batched(), per_pair()                     # warm-up, and the equality check
    diff = max(abs(x - y) for x, y in zip(rb[0] + rb[1], rp[0] + rp[1]))
    ratios, tb, tp = [], [], []
    for r in range(a.rounds):
        order = [('b', batched), ('p', per_pair)] if r % 2 == 0 else [('p', per_pair), ('b', batched)]
        t = {}
        for k, f in order:
            t0 = time.perf_counter(); f(); t[k] = time.perf_counter() - t0
        tb.append(t['b']); tp.append(t['p']); ratios.append(t['p']/t['b'])
    print(f"batched : {statistics.median(tb):7.2f} s  ({a.pairs/statistics.median(tb):6.2f} pairs/s)")
    print(f"per-pair: {statistics.median(tp):7.2f} s  ({a.pairs/statistics.median(tp):6.2f} pairs/s)")
    print(f"speed-up of batching: {statistics.median(ratios):.2f}x   largest score difference: {diff:.2e}")

if __name__ == '__main__': main()
