import sys, random, tempfile, subprocess, pathlib, collections
sys.path.insert(0, "tests/fuzz")
from mutate import random_mutant, field_sites
from fuzzrun import compile_outcome
from harness.codegen.compiler import compile_model
names = ["kws_dscnn_int8","conv_fc_relu6_perchannel","pool_avg_same_3x3_s2_int8","elem_add_bcast_c_relu_s8","elem_softmax_50_s8","shape_concat_channels_int8","shape_pad_2d_int8","conv_dw_dm2_s2_same_even","pool_mean_hw_int8","shape_transpose_3d_int8"]
models = {n: open(f"tests/fixtures/models/{n}.tflite","rb").read() for n in names}
sites = {n: field_sites(b) for n,b in models.items()}
rng = random.Random(int(sys.argv[2])); d = pathlib.Path(tempfile.mkdtemp())
res = collections.Counter(); bad=[]
for k in range(int(sys.argv[1])):
    n = names[k % len(names)]
    m = random_mutant(models[n], rng, sites[n])
    pass
    p = d/"m.tflite"; p.write_bytes(m.data)
    o,_ = compile_outcome(p, compile_model)
    if o != "accepted": continue
    if m.data == models[n]: continue
    r = subprocess.run([sys.executable, "/tmp/tflm_check.py", str(p)], capture_output=True, text=True, timeout=60)
    res[r.returncode]+=1
    if r.returncode != 0:
        bad.append(f"{n} {m.detail}: rc={r.returncode} {(r.stdout+r.stderr).strip().splitlines()[-1:]}")
print(res); print("\n".join(bad[:30]))
