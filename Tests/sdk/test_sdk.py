"""Drives runcrate-sandbox through Runcrate's official Python SDK (runcrate-sdk 0.5.0).

Usage: python test_sdk.py BASE_URL   (the sandbox's http://HOST:PORT; it must be freshly started
with --ready-after 0). Exits non-zero on the first failed check.
"""
import sys
import time

import runcrate
from runcrate import ConflictError, NotFoundError, UnprocessableEntityError, ApiError

BASE = sys.argv[1]
KEY = "rc_live_sdk_test"
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl sdk@test"
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)


def expect_error(cls, fn, what):
    try:
        fn()
    except cls as e:
        check(True, what)
        return e
    except Exception as e:  # noqa: BLE001
        check(False, f"{what}: expected {cls.__name__}, got {type(e).__name__}: {e}")
    check(False, f"{what}: expected {cls.__name__}, nothing raised")


client = runcrate.Runcrate(api_key=KEY, base_url=BASE, max_retries=0)

# Catalogue
types = client.instances.list_types()
check(len(types) >= 20, "list_types returns the catalogue")
h100 = client.instances.list_types(gpu_type="h100-sxm", gpu_count=2)
check(h100 and all(t.gpu_type == "h100-sxm" and t.gpu_count == 2 for t in h100), "list_types filters")
check(all(not hasattr(t, "stock") or t.model_extra.get("stock") is None for t in types), "no stock on the wire")

# SSH keys
key = client.ssh_keys.create(name="sdk-key", public_key=ED25519)
check(key.id and key.name == "sdk-key" and key.created_at is not None, "ssh_keys.create (createdAt parsed)")
check([k.id for k in client.ssh_keys.list()] == [key.id], "ssh_keys.list")
expect_error(ConflictError, lambda: client.ssh_keys.create(name="sdk-key", public_key=ED25519), "duplicate key is 409")

# Instances: the SDK sends env_vars as a map
inst = client.instances.create(name="sdk-box", ssh_key_id=key.id, gpu_type="l40s",
                               env_vars={"HF_HOME": "/workspace/hf"}, max_runtime_minutes=60)
check(inst.id and inst.status == "starting" and inst.cost_per_hour > 0, "instances.create")
check(inst.max_runtime_minutes == 60, "max_runtime_minutes echoed")
for _ in range(50):
    st = client.instances.get_status(inst.id)
    if st.status == "running":
        break
    time.sleep(0.1)
check(st.status == "running" and st.ip, "get_status reaches running with an ip")
got = client.instances.get(inst.id)
check(got.name == "sdk-box" and got.deployed_at is not None, "instances.get")
check([i.id for i in client.instances.list(search="sdk")] == [inst.id], "instances.list(search=)")
upd = client.instances.update("sdk-box", max_runtime_minutes=120)
check(upd.max_runtime_minutes == 120 and upd.auto_stop_at is not None, "instances.update by unique name")
expect_error(UnprocessableEntityError, lambda: client.instances.update(inst.id, max_runtime_minutes=1), "update out of range is 422")
e = expect_error(UnprocessableEntityError,
                 lambda: client.instances.create(name="bad", ssh_key_id=key.id, gpu_type="l40s", gpu_count=0),
                 "create gpu_count=0 is 422")
check(e.code == "validation_error", "422 code is validation_error")
expect_error(NotFoundError, lambda: client.instances.get("inst_missing"), "get unknown is 404")

# Balance burns while it runs
bal = client.billing.get_balance()
check(bal.credits_balance == 100 and bal.burn_usd_per_hour == inst.cost_per_hour, "billing.get_balance")

client.instances.terminate(inst.id)
check(client.instances.get(inst.id).status == "terminated", "terminate")
check(client.instances.get(inst.id).stop_reason == "user", "stop_reason user")
expect_error(ConflictError, lambda: client.instances.update(inst.id, max_runtime_minutes=60), "update terminated is 409")

# Sold out
e = expect_error(ApiError, lambda: client.instances.create(name="big", ssh_key_id=key.id, gpu_type="h200", gpu_count=8, region="us-east"),
                 "sold-out create fails")
check(e.status_code == 503 and e.code == "no_capacity", "sold out is 503 no_capacity")

# Storage
regions = client.storage.list_regions()
check(len(regions) >= 3 and regions[0].provider, "storage.list_regions")
vol = client.storage.create(name="sdk-vol", size_gb=50, region=regions[0].id)
check(vol.size_gb == 50 and vol.created_at is not None, "storage.create (sizeGb, createdAt parsed)")
check(client.storage.get(vol.id).name == "sdk-vol", "storage.get")
check(client.storage.resize(vol.id, size_gb=80).size_gb == 80, "storage.resize")
check([v.id for v in client.storage.list()] == [vol.id], "storage.list")
res = client.storage.delete(vol.id)
check(res is None or getattr(res, "message", None), "storage.delete")
expect_error(NotFoundError, lambda: client.storage.get(vol.id), "deleted volume is 404")

# Templates, environments
page = client.templates.list(page_size=2)
check(len(page) == 2 and page.has_more and page.total > 2, "templates.list paging meta")
env = client.environments.create(name="sdk-env")
check(env.name == "sdk-env" and env.is_default is False, "environments.create")
scoped = runcrate.Runcrate(api_key=KEY, base_url=BASE, max_retries=0, environment="sdk-env")
check(scoped.instances.list() == [], "environment-scoped list is empty")
check(len(client.instances.list()) == 1, "default environment still sees its instance")
client.environments.delete(env.id)

client.ssh_keys.delete(key.id)
check(client.ssh_keys.list() == [], "ssh_keys.delete")
print(f"sdk: {checks} checks passed")
