# Built by scripts/build-native.mjs, which finds OpenBLAS and passes its folders as the variables
# openblas_include_dir and openblas_lib_dir (gyp -D), and openblas_static=1 when the folder holds
# libopenblas.a. Static: OpenBLAS is linked into the addon, its symbols hidden (--exclude-libs), so the
# addon runs where OpenBLAS is not installed (a packaged extension). Shared: the library folder is
# also the run-time search path, so the addon uses that OpenBLAS variant (the pthread one) whatever
# the system default.
{
  "variables": {
    "openblas_include_dir%": "/usr/include/x86_64-linux-gnu/openblas-pthread",
    "openblas_lib_dir%": "/usr/lib/x86_64-linux-gnu/openblas-pthread",
    "openblas_static%": 0,
  },
  "targets": [
    {
      "target_name": "gowide_blas",
      "sources": [
        "module.c", "napi_args.c", "thread_pool.c", "activation.c", "sgemm.c", "sgemm_tiles.c", "conv.c", "conv_im2col.c",
        "conv_direct.c", "pooling.c", "elementwise.c", "softmax.c", "gather.c", "batch_norm.c", "layer_norm.c", "adam.c",
        "attention.c",
      ],
      "include_dirs": ["<(openblas_include_dir)"],
      "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-std=c11", "-Wall", "-Wextra", "-Wno-psabi", "-pthread"],
      "conditions": [
        ["openblas_static==1", {
          "libraries": ["<(openblas_lib_dir)/libopenblas.a", "-Wl,--exclude-libs,ALL", "-lm", "-pthread"],
        }, {
          "libraries": ["-L<(openblas_lib_dir)", "-Wl,-rpath,<(openblas_lib_dir)", "-lopenblas", "-pthread"],
        }],
      ],
    }
  ]
}
