"""Model compiler: .tflite flatbuffer -> graph IR -> arena plan -> C source calling tinyhil's kernels."""
