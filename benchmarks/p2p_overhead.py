"""Time and peak memory of one Prompt-to-Prompt pair against the plain SDXL pipeline, side by side in one run.

Same two prompts, latents, steps (10), guidance (7.5) and size, on a tiny random-weight SDXL (or `--model DIR`):

  plain     the stock diffusers pipeline, no attention control
  p2p       img-diff's Prompt-to-Prompt (refine, cross 100%, self 40%: the paper's setting)
  masks     p2p plus the generator masks: the differing words' cross-attention maps read during the pass, upsampled
            and thresholded to one mask per word (what the sdxl-p2p stage does by default)
  paste     exact_background: LocalBlend on the differing words, the masks, and A's pixels pasted into B outside the
            dilated masks (feathered seam)
  peer      an emulation of the explicit-attention P2P ports (softmax(QK^T) built on every layer, every step, and an
            attention store that keeps probability tensors until the call ends)

Usage: python benchmarks/p2p_overhead.py [--sizes 256 512] [--repeats 3] [--model DIR] [--dtype float32] [--device cpu]
       [--configs plain p2p masks paste peer]
Memory: each configuration in its own process (peak RSS, and the peak above the RSS before generating; peak CUDA
memory on
a GPU). Time: all configurations in one process, interleaved round by round (order rotated), so that the machine's
drift
hits them alike; the ratio is the median over rounds of (config time / plain time in the same round).
Random weights: the timings are about code paths, not image quality.
"""

import argparse, json, resource, statistics, subprocess, sys, time

PAIR = ('a red cat sitting on a table', 'a blue dog sitting on a table')


def rss_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS'):
                return int(line.split()[1]) / 1024
    return float('nan')


def peer_processors(unet, n_steps, shapes, map_tokens):
    (
        "Explicit attention on every layer, P2P edits applied to probabilities, and a store that keeps them (the "
        "peers' way)."
    )  # fmt: skip
    import torch

    store = {}

    class Peer:
        step = -1

        def __init__(self, name):
            self.name = name

        def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *a, **k):
            is_cross = encoder_hidden_states is not None
            B, N, _ = hidden_states.shape
            q = attn.to_q(hidden_states)
            ctx = hidden_states if not is_cross else encoder_hidden_states
            kk, v = attn.to_k(ctx), attn.to_v(ctx)
            h = attn.heads
            d = kk.shape[-1] // h
            q, kk, v = (x.view(B, -1, h, d).transpose(1, 2) for x in (q, kk, v))
            p = (q @ kk.transpose(-1, -2) * attn.scale).softmax(-1)
            half = B // 2
            cond = p[half:].clone()
            if is_cross:
                cond[1] = cond[0]  # cross-attention replaced (identity mapper stands in for refine)
            elif Peer.step < 0.4 * n_steps and N <= map_tokens:
                cond[1] = cond[0]
            p = torch.cat([p[:half], cond])
            if N <= map_tokens:
                store[self.name] = store.get(self.name, 0) + p  # the attention store: whole tensors, kept
            out = (p @ v).transpose(1, 2).reshape(B, -1, h * d)
            return attn.to_out[1](attn.to_out[0](out)) / attn.rescale_output_factor

    procs = {name: Peer(name) for name in unet.attn_processors}
    unet.set_attn_processor(procs)
    hook = unet.register_forward_pre_hook(lambda m, a: setattr(Peer, 'step', Peer.step + 1))
    return store, Peer, hook


def load(model, dtype, device):
    import torch
    from diffusers import StableDiffusionXLPipeline

    if model:
        from img_diff.core.models import load_diffusers

        return load_diffusers('StableDiffusionXLPipeline', model, dtype=dtype, device=device)
    from img_diff.miniatures.tiny_models import tiny_sdxl_components

    pipe = StableDiffusionXLPipeline(**tiny_sdxl_components(0)).to(device, getattr(torch, dtype))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def generator(pipe, config, size):
    (
        "A function that makes the pair once with `config`; the peer emulation installs (and removes) its "
        "processors per call."
    )  # fmt: skip
    from img_diff.synth.prompt_to_prompt import P2PConfig, generate_pairs, layer_shapes, map_resolution, pair_latents

    if config == 'peer':

        def gen():
            original = dict(pipe.unet.attn_processors)
            shapes = layer_shapes(pipe.unet, size, size)
            mh, mw = map_resolution(shapes, size, size)
            store, Peer, hook = peer_processors(pipe.unet, 10, shapes, mh * mw)
            try:
                lat = pair_latents([1], size, size).to(pipe.unet.device, pipe.unet.dtype)
                return pipe(
                    list(PAIR),
                    num_inference_steps=10,
                    guidance_scale=7.5,
                    height=size,
                    width=size,
                    latents=lat,
                    output_type='np',
                ).images
            finally:
                hook.remove()
                pipe.unet.set_attn_processor(original)

        return gen
    if config in ('masks', 'paste'):
        return masks_generator(pipe, config == 'paste', size)
    cfg = None if config == 'plain' else P2PConfig(mode='refine')
    return lambda: generate_pairs(
        pipe, [PAIR], [1], cfg, steps=10, guidance=7.5, height=size, width=size, output_type='float'
    )[0]


def masks_generator(pipe, paste: bool, size: int):
    "P2P with the generator masks (with `paste`: LocalBlend on the differing words and the exact-background paste)."
    import numpy as np
    from img_diff.synth.prompt_to_prompt import P2PConfig, differing_words, generate_pairs, paste_outside, word_masks

    words = [differing_words(*PAIR)]
    cfg = P2PConfig(mode='refine', local_blend=paste)

    def gen():
        imgs, _, ctl = generate_pairs(
            pipe,
            [PAIR],
            [1],
            cfg,
            steps=10,
            guidance=7.5,
            height=size,
            width=size,
            output_type='float',
            blend_words=[[w for w, _ in words[0]]] if paste else None,
            mask_words=words,
            return_controller=True,
        )
        masks = word_masks(ctl.word_maps[0], size, size)
        if paste:
            a, b = ((imgs[0, j] * 255).round().clip(0, 255).astype(np.uint8) for j in (0, 1))
            paste_outside(a, b, masks.any(0), dilate=8, seam=3)
        return imgs

    return gen


def timed(configs, size, repeats, model, dtype, device):
    import torch

    pipe = load(model, dtype, device)
    gens = {c: generator(pipe, c, size) for c in configs}
    for g in gens.values():
        g()  # warm-up
    rounds = []
    for r in range(repeats):
        t = {}
        for c in configs[r % len(configs) :] + configs[: r % len(configs)]:
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            gens[c]()
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            t[c] = time.perf_counter() - t0
        rounds.append(t)
    print(
        json.dumps(
            {
                c: {
                    'seconds': statistics.median(x[c] for x in rounds),
                    'ratio': statistics.median(x[c] / x['plain'] for x in rounds),
                    'ratio_p2p': statistics.median(x[c] / x['p2p'] for x in rounds) if 'p2p' in configs else None,
                }
                for c in configs
            }
        )
    )


def one(config, size, repeats, model, dtype, device):
    import torch

    pipe = load(model, dtype, device)
    gen = generator(pipe, config, size)
    base = rss_mb()
    gen()  # warm-up
    times = []
    for _ in range(repeats):
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        gen()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res = {
        'config': config,
        'size': size,
        'seconds': statistics.median(times),
        'peak_rss_mb': peak,
        'peak_above_start_mb': peak - base,
    }
    if device.startswith('cuda'):
        res['cuda_peak_mb'] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument('--model', default=None)
    ap.add_argument('--dtype', default='float32')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--configs', nargs='+', default=['plain', 'p2p', 'masks', 'paste', 'peer'])
    ap.add_argument('--one', default=None)
    ap.add_argument('--timed', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.timed:
        return timed(a.configs, a.sizes[0], a.repeats, a.model, a.dtype, a.device)
    if a.one:
        return one(a.one, a.sizes[0], a.repeats, a.model, a.dtype, a.device)
    rows, times = [], {}
    for size in a.sizes:
        cmd = [
            sys.executable,
            __file__,
            '--timed',
            '--configs',
            *a.configs,
            '--sizes',
            str(size),
            '--repeats',
            str(a.repeats),
            '--dtype',
            a.dtype,
            '--device',
            a.device,
        ]
        if a.model:
            cmd += ['--model', a.model]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            print(out.stderr[-2000:])
            raise SystemExit(f'timing at {size} failed')
        times[size] = json.loads(out.stdout.strip().splitlines()[-1])
        for c in a.configs:
            cmd = [
                sys.executable,
                __file__,
                '--one',
                c,
                '--sizes',
                str(size),
                '--repeats',
                '1',
                '--dtype',
                a.dtype,
                '--device',
                a.device,
            ]
            if a.model:
                cmd += ['--model', a.model]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode:
                print(out.stderr[-2000:])
                raise SystemExit(f'{c} at {size} failed')
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        f"{'size':>5} {'config':>6} {'seconds':>8} {'x time':>7} {'peak MB':>8} {'x peak':>7} {'above start MB':>15} "
        f"{'x above':>8} {'x p2p time':>11} {'x p2p peak':>11}"
    )
    for r in rows:
        p = next(x for x in rows if x['size'] == r['size'] and x['config'] == 'plain')
        q = next((x for x in rows if x['size'] == r['size'] and x['config'] == 'p2p'), None)
        key = 'cuda_peak_mb' if 'cuda_peak_mb' in r else 'peak_rss_mb'
        tm = times[r['size']][r['config']]
        vs_p2p = (
            f"{tm['ratio_p2p']:11.2f} {r[key] / q[key]:11.3f}" if q is not None else f"{'-':>11} {'-':>11}"
        )  # masks and paste beside P2P without them
        print(
            f"{r['size']:>5} {r['config']:>6} {tm['seconds']:8.3f} {tm['ratio']:7.2f} {r[key]:8.0f} "
            f"{r[key] / p[key]:7.2f} "
            f"{r['peak_above_start_mb']:15.0f} {r['peak_above_start_mb'] / max(p['peak_above_start_mb'], 1e-9):8.2f} "
            f"{vs_p2p}"
        )


if __name__ == '__main__':
    main()
