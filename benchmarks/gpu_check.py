"""The paper's chain on one GPU, at the paper's settings, with full-size RANDOM-WEIGHT models built from the real
architectures (configs written here from the published values; weights initialised on the device): seconds per pair
for each stage, pairs per hour, peak GPU memory per stage, the Prompt-to-Prompt / plain time ratio at 1024², the cost
of the generator masks and of the exact-background paste beside plain P2P (time and peak memory ratios), SSIM maps
per second at 1024², and colour difference maps (`pixel_difference`) per second at 960 x 720, numpy a pair at a time
beside `pixel_difference_batch` on the GPU. Random weights measure time and memory, never quality. Without a GPU (and
without --smoke) it says so and measures nothing.

    python benchmarks/gpu_check.py            # on a GPU (bf16, 1024², 50 steps); about 5-8 minutes on one H200
    python benchmarks/gpu_check.py --smoke    # the same code at miniature sizes on the CPU, in seconds (CI runs it)

Each stage's models are built, timed and released before the next stage's are built, as the model budget does when
the chain does not fit at once; `peak_gpu_gb` is the largest per-stage peak. The language-model stages are timed as
the decoder they are: Vicuna-13B writing caption pairs, and LLaVA-NeXT-13B's decoder reading a prompt as long as a
1024² image makes (~2,900 image tokens) and writing the caption; the vision tower (0.3B, < 2% of the FLOPs) is left
out. The last line printed is one JSON object with `pairs_per_hour`, `peak_gpu_gb` and `stage_seconds`.
"""

import argparse, gc, json, os, time
import torch

GiB = 2**30


def sdxl_pipeline(full: bool, device, dtype):
    "StableDiffusionXLPipeline with SDXL base's architecture (full) or a miniature (3-level UNet either way)."
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection
    from img_diff.miniatures.tiny_models import tiny_clip_tokenizer

    w = (320, 640, 1280) if full else (32, 64, 64)
    unet = dict(
        sample_size=128 if full else 8,
        in_channels=4,
        out_channels=4,
        block_out_channels=w,
        layers_per_block=2,
        down_block_types=('DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'),
        up_block_types=('CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'),
        transformer_layers_per_block=(1, 2, 10) if full else (1, 1, 2),
        attention_head_dim=(5, 10, 20) if full else (2, 4, 4),
        cross_attention_dim=2048 if full else 64,
        addition_embed_type='text_time',
        addition_time_embed_dim=256 if full else 8,
        projection_class_embeddings_input_dim=2816 if full else 80,
        use_linear_projection=True,
        norm_num_groups=32 if full else 8,
    )
    vae = dict(
        block_out_channels=(128, 256, 512, 512) if full else (8, 8, 8, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=['DownEncoderBlock2D'] * 4,
        up_block_types=['UpDecoderBlock2D'] * 4,
        latent_channels=4,
        layers_per_block=2 if full else 1,
        norm_num_groups=32 if full else 8,
        sample_size=1024 if full else 64,
        scaling_factor=0.13025,
    )
    tok = tiny_clip_tokenizer()  # the ids stay below both vocabularies; what the text says does not matter for timing
    tok.model_max_length = 77
    te1 = (
        CLIPTextConfig(
            vocab_size=49408,
            hidden_size=768,
            intermediate_size=3072,
            num_attention_heads=12,
            num_hidden_layers=12,
            projection_dim=768,
            hidden_act='quick_gelu',
        )
        if full
        else CLIPTextConfig(
            vocab_size=49408,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            projection_dim=32,
        )
    )
    te2 = (
        CLIPTextConfig(
            vocab_size=49408,
            hidden_size=1280,
            intermediate_size=5120,
            num_attention_heads=20,
            num_hidden_layers=32,
            projection_dim=1280,
            hidden_act='gelu',
        )
        if full
        else te1
    )
    with torch.device(device):
        parts = dict(
            unet=UNet2DConditionModel(**unet),
            vae=AutoencoderKL(**vae),
            text_encoder=CLIPTextModel(te1),
            text_encoder_2=CLIPTextModelWithProjection(te2),
        )
    sched = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule='scaled_linear', steps_offset=1, timestep_spacing='leading'
    )
    pipe = StableDiffusionXLPipeline(**parts, tokenizer=tok, tokenizer_2=tiny_clip_tokenizer(), scheduler=sched)
    pipe.to(device, dtype)
    pipe.set_progress_bar_config(disable=True)
    pipe.vae.enable_slicing()  # decode the images one at a time: 16 images at 1024² do not decode at once
    return pipe


def llama(full: bool, device, dtype):
    "A Llama with Vicuna-13B's architecture (full) or a miniature."
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = (
        LlamaConfig(
            hidden_size=5120,
            intermediate_size=13824,
            num_hidden_layers=40,
            num_attention_heads=40,
            num_key_value_heads=40,
            vocab_size=32000,
            max_position_embeddings=4096,
        )
        if full
        else LlamaConfig(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
            vocab_size=32000,
            max_position_embeddings=4096,
        )
    )
    with torch.device(device):
        m = LlamaForCausalLM(cfg)
    return m.to(dtype).eval()


class Meter:
    "Seconds and peak GPU memory of each stage."

    def __init__(self, device):
        self.device, self.seconds, self.peak = device, {}, {}

    def __call__(self, name, fn, per):
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        out = fn()
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()
            self.peak[name] = round(torch.cuda.max_memory_allocated() / GiB, 2)
        self.seconds[name] = round((time.perf_counter() - t0) / per, 4)
        return out


def release(*objs):
    for o in objs:
        del o
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--smoke', action='store_true', help='miniature sizes on the CPU (what CI runs)')
    ap.add_argument('--pairs', type=int, default=None, help='pairs per SDXL call (default: 4; smoke: 2)')
    ap.add_argument('--steps', type=int, default=None, help='denoising steps (default: 50; smoke: 2)')
    ap.add_argument('--size', type=int, default=None, help='image size (default: 1024; smoke: 64)')
    a = ap.parse_args()
    full = not a.smoke
    if full and not torch.cuda.is_available():
        print('gpu_check: no GPU present; nothing measured (use --smoke for the miniature run on the CPU)')
        return
    device, dtype = ('cuda', torch.bfloat16) if full else ('cpu', torch.float32)
    n, steps, size = a.pairs or (4 if full else 2), a.steps or (50 if full else 2), a.size or (1024 if full else 64)
    torch.manual_seed(0)
    from img_diff.synth.prompt_to_prompt import P2PConfig, differing_words, generate_pairs, paste_outside, word_masks
    from img_diff.areas.ssim import ssim_map

    meter = Meter(device)
    out = {
        'device': torch.cuda.get_device_name() if full else 'cpu (smoke)',
        'pairs_per_call': n,
        'steps': steps,
        'size': size,
        'dtype': str(dtype).replace('torch.', ''),
    }

    # 1. caption pairs: Vicuna-13B writes the second caption (128 new tokens for a ~60-token prompt), a batch of n
    lm = llama(full, device, dtype)
    ids = torch.randint(3, 32000, (n, 60), device=device)
    meter(
        'caption-pairs',
        lambda: lm.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=128 if full else 8,
            min_new_tokens=128 if full else 8,
            do_sample=False,
            pad_token_id=0,
        ),
        n,
    )
    release(lm)

    # 2. SDXL pairs: Prompt-to-Prompt (refine, the paper's setting) and the plain pipeline, n pairs a call
    pipe = sdxl_pipeline(full, device, dtype)
    prompts = [('a photo of a dog on a sofa', 'a photo of a cat on a sofa')] * n
    seeds = list(range(n))
    run = lambda cfg: generate_pairs(
        pipe, prompts, seeds, cfg, steps=steps, guidance=7.5, height=size, width=size, output_type='latent'
    )
    run(P2PConfig(mode='refine'))  # warm-up (kernels, allocator)
    meter('sdxl-p2p', lambda: run(P2PConfig(mode='refine')), n)
    meter('sdxl-plain', lambda: run(P2PConfig(mode='off')), n)
    lat = torch.randn(2, 4, size // 8, size // 8, device=device, dtype=dtype)
    meter('vae-decode', lambda: pipe.vae.decode(lat / pipe.vae.config.scaling_factor), 1)
    out['p2p_plain_ratio'] = round(meter.seconds['sdxl-p2p'] / meter.seconds['sdxl-plain'], 3)

    # 2b. generator masks (the differing words' maps read in the same pass, upsampled and thresholded) and the
    # exact-background paste (LocalBlend on those words, then A's pixels outside the dilated masks); the paste runs on
    # stand-in uint8 images of the same size, since these calls stop at the latents (decoding is timed above)
    words = [differing_words(*p) for p in prompts]
    blend = [[w for w, _ in ws] for ws in words]
    a8 = torch.randint(0, 256, (size, size, 3), dtype=torch.uint8).numpy()
    b8 = torch.randint(0, 256, (size, size, 3), dtype=torch.uint8).numpy()

    def masked(paste: bool):
        cfg = P2PConfig(mode='refine', local_blend=paste)
        kw = dict(blend_words=blend if paste else None, mask_words=words, output_type='latent', return_controller=True)
        _, _, ctl = generate_pairs(pipe, prompts, seeds, cfg, steps=steps, guidance=7.5, height=size, width=size, **kw)
        for m in ctl.word_maps:
            wm = word_masks(m, size, size)
            if paste:
                paste_outside(a8, b8, wm.any(0), dilate=8, seam=3)

    masked(True)  # warm-up of the explicit (LocalBlend) path
    meter('sdxl-p2p-masks', lambda: masked(False), n)
    meter('sdxl-p2p-paste', lambda: masked(True), n)
    for k in ('masks', 'paste'):
        out[f'{k}_p2p_ratio'] = round(meter.seconds[f'sdxl-p2p-{k}'] / meter.seconds['sdxl-p2p'], 3)
        if meter.peak:
            out[f'{k}_p2p_peak_ratio'] = round(meter.peak[f'sdxl-p2p-{k}'] / max(meter.peak['sdxl-p2p'], 1e-9), 3)
    release(pipe)

    # 3. CLIP band and crop gate: CLIP ViT-B/32 embeddings of the two images and ~4 crops per pair
    from transformers import CLIPConfig, CLIPModel

    cc = (
        CLIPConfig()
        if full
        else CLIPConfig(
            text_config=dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2),
            vision_config=dict(
                hidden_size=32,
                intermediate_size=37,
                num_attention_heads=4,
                num_hidden_layers=2,
                image_size=224,
                patch_size=32,
            ),
            projection_dim=32,
        )
    )
    with torch.device(device):
        clip = CLIPModel(cc).to(dtype).eval()
    px = torch.randn(10 * n, 3, 224, 224, device=device, dtype=dtype)
    with torch.inference_mode():
        meter('clip-gates', lambda: clip.get_image_features(pixel_values=px), n)
    release(clip, px)

    # 4. SAM proposals: the image encoder at 1024 px and the prompt decoder on a 32 x 32 grid, 3 masks per point
    from transformers import SamConfig, SamModel

    sc = (
        SamConfig()
        if full
        else SamConfig(
            vision_config=dict(
                hidden_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                output_channels=256,
                mlp_dim=64,
                global_attn_indexes=[1],
            )
        )
    )
    with torch.device(device):
        sam = SamModel(sc).to(dtype).eval()
    im = torch.randn(1, 3, 1024, 1024, device=device, dtype=dtype)
    pts = torch.rand(1, 1024 if full else 16, 1, 2, device=device, dtype=dtype) * 1024  # 32 x 32 points (smoke: 4 x 4)

    def sam_pass():
        with torch.inference_mode():
            emb = sam.get_image_embeddings(im)
            for chunk in pts.split(64, dim=1):
                sam(image_embeddings=emb, input_points=chunk, multimask_output=True)

    meter('sam-proposals', lambda: [sam_pass() for _ in range(2)], 1)  # two images per pair
    release(sam, im)

    # 5. region and difference captions: LLaVA-NeXT-13B's decoder reads ~2,900 image tokens + the prompt, writes 64
    lm = llama(full, device, dtype)
    ids = torch.randint(3, 32000, (n, 2900 if full else 64), device=device)
    meter(
        'mllm-captions',
        lambda: lm.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=64 if full else 4,
            min_new_tokens=64 if full else 4,
            do_sample=False,
            pad_token_id=0,
        ),
        n / 6,
    )  # ~3 boxes a pair, each captioned in A and in B: 6 calls a pair
    release(lm)

    # 6. SSIM maps at 1024² (the pixel difference areas), on the device
    m = 8 if full else 2
    a = torch.rand(m, 3, 1024, 1024, device=device) * 255
    b = (a + torch.randn_like(a) * 4).clamp(0, 255)
    ssim_map(a[:1], b[:1], device=device)
    t0 = time.perf_counter()
    ssim_map(a, b, device=device)
    if full:
        torch.cuda.synchronize()
    out['ssim_maps_per_s'] = round(m / (time.perf_counter() - t0), 2)
    release(a, b)

    # 7. colour difference maps (`pixel_difference`'s default method), 960 x 720 benchmark pairs: numpy a pair at a
    # time on the CPU beside `pixel_difference_batch` (per-pixel work batched on the device; registration, the tone fit
    # and the areas on the CPU, in one thread or in `workers`); with how far the maps and boxes agree
    from img_diff.areas.benchmark import make_benchmark_pair
    from img_diff.areas.difference_areas import pixel_difference
    from img_diff.areas.torch_map import pixel_difference_batch

    side, k, workers = (960, 8, min(8, os.cpu_count() or 1)) if full else (128, 2, 2)
    bench = [make_benchmark_pair(i, 'cartoon', ('none', 'gamma')[i % 2], long_side=side) for i in range(k)]
    pairs = [(x.a, x.b) for x in bench]
    pixel_difference_batch(pairs[:1], device=device)  # warm-up (kernels, allocator)
    rate, res = {}, {}
    for name, fn in [
        ('numpy', lambda: [pixel_difference(a, b) for a, b in pairs]),
        ('torch', lambda: pixel_difference_batch(pairs, device=device, batch_size=8)),
        ('torch_workers', lambda: pixel_difference_batch(pairs, device=device, batch_size=8, workers=workers)),
    ]:
        t0 = time.perf_counter()
        res[name] = fn()
        if full:
            torch.cuda.synchronize()
        rate[name] = round(k / (time.perf_counter() - t0), 3)
    ref, got = res['numpy'], res['torch']
    out['colour_map_pairs_per_s'] = {
        'size': f'{side}x{side * 3 // 4}',
        'pairs': k,
        'device': device,
        'workers': workers,  # threads of 'torch_workers' for registration, the tone fit and the areas
        **rate,
        'max_abs_diff_dissimilarity': float(
            max(abs(r.map.dissimilarity - g.map.dissimilarity).max() for r, g in zip(ref, got))
        ),
        'same_boxes': sum(r.boxes() == g.boxes() for r, g in zip(ref, got)) / k,
    }
    release(bench, pairs, res)

    chain = ['caption-pairs', 'sdxl-p2p', 'clip-gates', 'sam-proposals', 'mllm-captions']
    per_pair = sum(meter.seconds[k] for k in chain)
    out.update(
        stage_seconds=meter.seconds,
        seconds_per_pair=round(per_pair, 4),
        pairs_per_hour=round(3600 / per_pair, 1),
        sdxl_pairs_per_hour=round(3600 / meter.seconds['sdxl-p2p'], 1),
        peak_gpu_gb=max(meter.peak.values()) if meter.peak else 0.0,
        stage_peak_gpu_gb=meter.peak,
    )
    for k, v in meter.seconds.items():
        print(f"{k:15s} {v:9.4f} s/pair" + (f"   peak {meter.peak[k]:6.2f} GiB" if k in meter.peak else ''))
    print(json.dumps(out))


if __name__ == '__main__':
    main()
