import sys, tempfile, time
sys.path.insert(0, "tests/fuzz")
from mutate import fuzz_models
from harness.codegen.compiler import compile_model
models = {n: open(p,'rb').read() for n,p in [("acdnet","/work/shared/models/acdnet20_esc50_fold4_int8.tflite"),("kws","tests/fixtures/models/kws_dscnn_int8.tflite"),("fc","tests/fixtures/models/conv_f32_fc_relu.tflite"),("pool","tests/fixtures/models/pool_avg_same_3x3_s2_int8.tflite"),("tr","tests/fixtures/models/shape_transpose_acdnet_int8.tflite")]}
t=time.time()
r = fuzz_models(models, int(sys.argv[1]), int(sys.argv[2]), tempfile.mkdtemp(), compile_model)
print(time.time()-t, {k:v for k,v in vars(r).items() if k!="examples"})
for k,v in (r.examples or {}).items():
    print(k); [print("  ",x) for x in v[:15]]
