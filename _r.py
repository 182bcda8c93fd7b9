import sys, random, tempfile, traceback
sys.path.insert(0, "tests/fuzz")
from mutate import random_mutant, field_sites
from harness.codegen.compiler import compile_model
raw = open("/work/shared/models/acdnet20_esc50_fold4_int8.tflite",'rb').read()
data = bytearray(raw); data[137937:137941]=bytes(4)
p = tempfile.mktemp(suffix=".tflite"); open(p,'wb').write(data)
try: compile_model(p)
except Exception: traceback.print_exc()
