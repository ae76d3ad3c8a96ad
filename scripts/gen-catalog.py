#!/usr/bin/env python3
"""Regenerates Sources/RuncrateSandbox/Resources/catalog.json (the sandbox's bundled catalogue).

Deterministic: the same script writes the same file. Edit the tables below, not the JSON.
"""
import hashlib, json, pathlib

GPUS = {  # id: (USD per GPU-hour in us-east, vCPU per GPU, GB RAM per GPU, GB disk per GPU, regions)
    "h100-sxm":  (2.49, 26, 200, 1000, ["us-east", "us-west", "eu-central", "ap-southeast"]),
    "h200":      (3.29, 28, 240, 1500, ["us-east", "eu-central"]),
    "b200":      (4.99, 30, 280, 2000, ["us-west"]),
    "a100-80gb": (1.39, 16, 120, 500,  ["us-east", "us-west", "eu-central"]),
    "l40s":      (0.89, 12, 64,  300,  ["us-east", "eu-central", "ap-southeast"]),
    "rtx-4090":  (0.39, 8,  32,  200,  ["us-west", "eu-central", "ap-southeast"]),
}
REGIONS = [
    {"id": "us-east", "name": "US East (Virginia)", "provider": "crate-metal", "multiplier": 1.00},
    {"id": "us-west", "name": "US West (Oregon)", "provider": "crate-metal", "multiplier": 1.04},
    {"id": "eu-central", "name": "EU Central (Frankfurt)", "provider": "northgrid", "multiplier": 1.08},
    {"id": "ap-southeast", "name": "Asia Pacific (Singapore)", "provider": "northgrid", "multiplier": 1.12},
]
ADJ = ["stoic", "brave", "eager", "quirky", "serene", "jolly", "vivid", "nimble", "lucid", "wizardly"]
NAMES = ["tharp", "hopper", "lovelace", "turing", "noether", "curie", "knuth", "ritchie", "hamilton", "shannon"]
# Configs that start sold out (stock 0), so failover has something to fail over from.
SOLD_OUT = {("h100-sxm", 1, "us-east"), ("h200", 8, "us-east"), ("h200", 8, "eu-central"),
            ("b200", 8, "us-west"), ("rtx-4090", 8, "us-west"), ("a100-80gb", 1, "us-east")}

def type_id(gpu, count, region):
    h = hashlib.sha256(f"{gpu}/{count}/{region}".encode()).hexdigest()
    a, n = ADJ[int(h[0:2], 16) % len(ADJ)], NAMES[int(h[2:4], 16) % len(NAMES)]
    short = gpu.split("-")[0]
    return f"{a}-{n}-{short}x{count}-{h[4:8]}"

types = []
for gpu, (rate, cpu, mem, disk, regions) in GPUS.items():
    for region in regions:
        mult = next(r["multiplier"] for r in REGIONS if r["id"] == region)
        for count in (1, 2, 4, 8):
            h = int(hashlib.sha256(f"stock/{gpu}/{count}/{region}".encode()).hexdigest()[:4], 16)
            types.append({
                "id": type_id(gpu, count, region),
                "gpu_type": gpu, "gpu_count": count,
                "cpu_cores": cpu * count, "memory_gb": mem * count, "storage_gb": disk * count,
                "region": region,
                "deployment_type": "vm" if count < 8 else "baremetal",
                "hourly_rate": round(rate * count * mult, 2),
                "stock": 0 if (gpu, count, region) in SOLD_OUT else 1 + h % 6,
            })

templates = [
    {"id": "tpl_ubuntu2204_cuda124", "name": "Ubuntu 22.04 + CUDA 12.4", "description": "Plain Ubuntu with the NVIDIA driver and CUDA 12.4", "category": "base", "created_at": "2025-01-15T10:00:00Z"},
    {"id": "tpl_pytorch_25", "name": "PyTorch 2.5", "description": "PyTorch 2.5, CUDA 12.4, Python 3.11", "category": "ml", "created_at": "2025-02-03T10:00:00Z"},
    {"id": "tpl_jax_04", "name": "JAX 0.4", "description": "JAX with CUDA 12", "category": "ml", "created_at": "2025-02-10T10:00:00Z"},
    {"id": "tpl_vllm_06", "name": "vLLM 0.6", "description": "vLLM OpenAI-compatible server", "category": "inference", "created_at": "2025-03-01T10:00:00Z"},
    {"id": "tpl_comfyui", "name": "ComfyUI", "description": "ComfyUI with SDXL weights cache", "category": "image", "created_at": "2025-03-12T10:00:00Z"},
    {"id": "tpl_jupyter", "name": "Jupyter Lab", "description": "Jupyter Lab on PyTorch 2.5", "category": "notebook", "created_at": "2025-04-01T10:00:00Z"},
    {"id": "tpl_ollama", "name": "Ollama", "description": "Ollama model server", "category": "inference", "created_at": "2025-04-20T10:00:00Z"},
]

catalog = {
    "initial_credits_usd": 100.0,
    "os_image": "ubuntu-22.04-cuda-12.4",
    "storage_usd_per_gb_month": 0.07,
    "regions": [{k: r[k] for k in ("id", "name", "provider")} for r in REGIONS],
    "types": types,
    "templates": templates,
}
out = pathlib.Path(__file__).resolve().parent.parent / "Sources/RuncrateSandbox/Resources/catalog.json"
out.write_text(json.dumps(catalog, indent=1) + "\n")
print(f"{out}: {len(types)} types")
