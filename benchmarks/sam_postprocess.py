"""SAM automatic masks, post-processing old vs new, side by side in one process: seconds per 1024² image, masks kept.

The model is a miniature SAM with facebook/sam-vit-base's geometry (transformers SamModel: 1024-px input, 16-px
patches so 64x64 image embeddings, 256x256 low-resolution masks) but a tiny random-weight encoder and decoder, so
that the time left is the post-processing's. The image is skimage.data.astronaut resized to 1024x1024. Four runs:

  A  old code, old settings   the sam_masks this replaced (verbatim below): 16x16 points, the best of 3 masks a point,
                              stability 0.92, every mask upsampled to 1024² on the CPU before it is filtered
  B  new code, old settings   img_diff.areas.segment_proposals.sam_masks(points_per_side=16, masks_per_point=1,
                              stability_thresh=0.92): decided at 256², on the model's device, kept masks upsampled
  C  new code, full_res=True  SAM's generator defaults (32x32 points, 3 masks per point, stability 0.95), in the old
                              order (every mask upsampled first): the reference
  D  new code                 SAM's generator defaults, decided at low resolution
  E, F                        C and D with a constructed model instead of the miniature (the test model of the
                              notebook: known disc- and blob-shaped masks, some unstable, some under the IoU threshold,
                              many overlapping), with SAM's thresholds: structured masks, where NMS decisions are not
                              noise

Per run: wall seconds in the image encoder, in the prompt encoder + mask decoder (the model's calls), and in everything
else (the post-processing; also its CPU seconds, which a loaded machine inflates less), and the masks kept; then how
B differs from A, D from C and F from E (masks kept by both, pixel-equal masks, same order, largest stability
difference). With --filters open (default) every mask of the miniature passes the predicted-IoU, stability and area
filters, so all of them reach NMS: the worst case for the post-processing (random weights predict IoUs near 0, so with
SAM's thresholds, --filters sam, nothing would pass and the post-processing would have no work). E and F always use
SAM's thresholds.
The last line is one JSON object.

Usage: python benchmarks/sam_postprocess.py [--device cpu|cuda] [--threads N] [--filters open|sam] [--runs ABCD]
"""

import argparse, json, os, time
import numpy as np


def tiny_sam_1024(seed: int = 0):
    "A random-weight SamModel with sam-vit-base's geometry (1024 px, 64x64 embeddings, 256² masks) and tiny layers."
    import torch
    from transformers import SamConfig, SamModel, SamProcessor

    try:
        from transformers import SamImageProcessorPil as SamImageProcessor
    except ImportError:
        from transformers import SamImageProcessor
    torch.manual_seed(seed)
    vision = dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        output_channels=16,
        image_size=1024,
        patch_size=16,
        window_size=8,
        global_attn_indexes=[1],
        mlp_dim=64,
        num_pos_feats=8,
    )
    cfg = SamConfig(
        vision_config=vision,
        prompt_encoder_config=dict(hidden_size=16, image_size=1024, patch_size=16, mask_input_channels=4),
        mask_decoder_config=dict(
            hidden_size=16, mlp_dim=32, num_hidden_layers=2, num_attention_heads=2, iou_head_hidden_dim=16
        ),
    )
    return SamModel(cfg).eval(), SamProcessor(image_processor=SamImageProcessor())


def old_sam_masks(
    image,
    model,
    processor,
    points_per_side=16,
    points_per_batch=64,
    pred_iou_thresh=0.88,
    stability_thresh=0.92,
    stability_offset=1.0,
    box_nms=0.7,
    min_frac=1 / 400,
    max_masks=100,
):
    "The sam_masks this benchmark measures against (img_diff before the change), verbatim but for line breaks."
    import torch
    from img_diff.core.imaging import load_image, mask_bbox
    from img_diff.areas.model_gates import nms

    img = load_image(image)
    H, W = img.shape[:2]
    x = processor(images=img, return_tensors='pt')
    dev = model.device
    with torch.no_grad():
        emb = model.get_image_embeddings(x['pixel_values'].to(dev, model.dtype))
    rh, rw = (int(v) for v in x['reshaped_input_sizes'][0])
    g = (np.arange(points_per_side) + 0.5) / points_per_side
    pts = np.stack(np.meshgrid(g * W, g * H), -1).reshape(-1, 2)
    found = []
    for i in range(0, len(pts), points_per_batch):
        p = torch.tensor(pts[i : i + points_per_batch] * [rw / W, rh / H], dtype=torch.float32)[None, :, None, :].to(
            dev
        )
        with torch.no_grad():
            out = model(image_embeddings=emb, input_points=p, multimask_output=True)
        logits = processor.image_processor.post_process_masks(
            out.pred_masks.float().cpu(), x['original_sizes'], x['reshaped_input_sizes'], binarize=False
        )[0]
        iou = out.iou_scores[0].float().cpu()
        best = iou.argmax(-1)
        for j in range(len(best)):
            l = logits[j, best[j]]
            s = float(iou[j, best[j]])
            if s < pred_iou_thresh:
                continue
            hi, lo = int((l > stability_offset).sum()), int((l > -stability_offset).sum())
            st = hi / lo if lo else 0.0
            m = (l > 0).numpy()
            if st < stability_thresh or not m.any() or m.sum() < min_frac * H * W:
                continue
            found.append((mask_bbox(m), s, st, m))
    kept, _ = nms([f[0] for f in found], [-f[1] for f in found], iou=box_nms, max_boxes=max_masks)
    return [found[i] for i in kept]


class DiscSAM:
    "A stand-in for SamModel: its 3 masks per point prompt are known shapes, as 256² logits over the 1024² input."

    def __init__(self, device='cpu'):
        import torch

        self.device, self.dtype = torch.device(device), torch.float32

    def get_image_embeddings(self, pixel_values):
        import torch

        return torch.zeros(1, 1, 64, 64, device=self.device)

    def __call__(self, image_embeddings, input_points, multimask_output=True):
        import torch
        from types import SimpleNamespace

        p = input_points[0, :, 0].double()
        c = (torch.arange(256, dtype=torch.float64, device=p.device) + 0.5) * 4
        d = ((c[None, None, :] - p[:, 0, None, None]) ** 2 + (c[None, :, None] - p[:, 1, None, None]) ** 2).sqrt()
        k = torch.arange(len(p), device=p.device)
        shift = (k % 5)[:, None, None] * 3.0
        dist = (c[None, None, :] - 500 - shift).abs().maximum((c[None, :, None] - 380).abs() * 1.6)
        blob = 6 - (dist - 220).clamp(min=-6)
        low = torch.stack([(16 - d) * 0.1, (48 - d) * 8, blob], 1).float()
        iou = torch.stack(
            [torch.full((len(p),), 0.99, device=p.device), torch.where(k % 3 == 0, 0.8, 0.9), 0.9 + 0.001 * (k % 7)], 1
        )
        return SimpleNamespace(pred_masks=low[None], iou_scores=iou[None].float())


class Timed:
    "A SamModel wrapper that adds up the seconds spent in the image encoder and in the prompt encoder + mask decoder."

    def __init__(self, model):
        self.model, self.encoder, self.decoder, self.cpu = model, 0.0, 0.0, 0.0
        self.device, self.dtype = model.device, model.dtype

    def _sync(self):
        import torch

        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def get_image_embeddings(self, *a, **k):
        self._sync()
        t, c = time.perf_counter(), time.process_time()
        out = self.model.get_image_embeddings(*a, **k)
        self._sync()
        self.encoder += time.perf_counter() - t
        self.cpu += time.process_time() - c
        return out

    def __call__(self, *a, **k):
        self._sync()
        t, c = time.perf_counter(), time.process_time()
        out = self.model(*a, **k)
        self._sync()
        self.decoder += time.perf_counter() - t
        self.cpu += time.process_time() - c
        return out


def run(fn, img, model, processor, **kw):
    "(masks, {'encoder_s', 'decoder_s', 'postprocess_s', 'postprocess_cpu_s', 'kept'}) of one call."
    tm = Timed(model)
    t, c = time.perf_counter(), time.process_time()
    masks = fn(img, tm, processor, **kw)
    tm._sync()
    total, cpu = time.perf_counter() - t, time.process_time() - c
    return masks, {
        'encoder_s': round(tm.encoder, 3),
        'decoder_s': round(tm.decoder, 3),
        'postprocess_s': round(total - tm.encoder - tm.decoder, 3),
        'postprocess_cpu_s': round(cpu - tm.cpu, 3),
        'kept': len(masks),
    }


def compare(new, ref):
    "How the masks of `new` differ from those of `ref` (matched by box)."
    by_box = {tuple(b): (s, st, m) for b, s, st, m in ref}
    both = [(x, by_box[tuple(x[0])]) for x in new if tuple(x[0]) in by_box]
    same = sum(bool(np.array_equal(x[3], r[2])) for x, r in both)
    dst = max((abs(x[2] - r[1]) for x, r in both), default=0.0)
    return {
        'kept': len(new),
        'reference_kept': len(ref),
        'same_box': len(both),
        'same_mask': same,
        'same_order': [tuple(x[0]) for x in new] == [tuple(x[0]) for x in ref],
        'max_stability_diff': round(dst, 4),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=None, help="torch threads on the CPU (default: torch's)")
    ap.add_argument('--filters', choices=['open', 'sam'], default='open')
    ap.add_argument('--runs', default='ABCDEF')
    args = ap.parse_args()
    import torch
    from PIL import Image
    import skimage.data
    from img_diff.areas.segment_proposals import sam_masks

    if args.threads:
        torch.set_num_threads(args.threads)
    model, processor = tiny_sam_1024()
    model = model.to(args.device)
    img = np.asarray(Image.fromarray(skimage.data.astronaut()).resize((1024, 1024), Image.Resampling.BICUBIC))
    f = dict(pred_iou_thresh=-1e9, stability_thresh=0.0, min_frac=0.0) if args.filters == 'open' else {}
    old_f = f if f else {'stability_thresh': 0.92}
    plan = {
        'A': ('old code, old settings', old_sam_masks, dict(old_f)),
        'B': ('new code, old settings', sam_masks, dict(points_per_side=16, masks_per_point=1, **old_f)),
        'C': ('new code, full_res=True', sam_masks, dict(full_res=True, **f)),
        'D': ('new code', sam_masks, dict(f)),
        'E': ('constructed, full_res=True', sam_masks, dict(full_res=True)),
        'F': ('constructed, new code', sam_masks, {}),
    }
    disc = DiscSAM(args.device)
    run(sam_masks, img[:64, :64], model, processor, points_per_side=2)  # warm-up
    print(
        f"torch {torch.__version__}, device {args.device}, {torch.get_num_threads()} threads, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; filters {args.filters}; image 1024x1024"
    )
    print(f"{'run':28s} {'encoder s':>10s} {'decoder s':>10s} {'post-proc s':>12s} {'(CPU s)':>8s} {'kept':>6s}")
    out, masks = {}, {}
    for k in args.runs:
        name, fn, kw = plan[k]
        masks[k], out[k] = run(fn, img, disc if k in 'EF' else model, processor, **kw)
        r = out[k]
        print(
            f"{k} {name:26s} {r['encoder_s']:10.3f} {r['decoder_s']:10.3f} {r['postprocess_s']:12.3f} "
            f"{r['postprocess_cpu_s']:8.3f} {r['kept']:6d}",
            flush=True,
        )
    for new, ref in [('B', 'A'), ('D', 'C'), ('F', 'E')]:
        if new in masks and ref in masks:
            c = out[f'{new}_vs_{ref}'] = compare(masks[new], masks[ref])
            print(
                f"{new} vs {ref}: {c['same_box']} of {c['kept']} kept masks have a box the reference kept "
                f"({c['reference_kept']}), {c['same_mask']} of them pixel-equal; same order: {c['same_order']}; "
                f"largest stability difference {c['max_stability_diff']}"
            )
    if 'A' in out and 'D' in out:
        print(
            f"post-processing per 1024² image: {out['A']['postprocess_s']:.2f} s (old code) -> "
            f"{out['D']['postprocess_s']:.2f} s (new, SAM's defaults: {3 * 32 * 32} masks)"
        )
    print(json.dumps({'device': args.device, 'threads': torch.get_num_threads(), 'filters': args.filters, **out}))


if __name__ == '__main__':
    main()
