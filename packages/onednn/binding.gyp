{
  "variables": {
    # -march for the addon's own loops: empty (the compiler's default, which runs on every CPU of the
    # architecture), or native for the build of this CPU (scripts/build.cjs makes both). oneDNN picks
    # its own kernels by instruction set at run time either way.
    "adl_march%": ""
  },
  "targets": [
    {
      "target_name": "adl_onednn",
      "sources": ["src/addon.cc"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-fopenmp"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"],
      "conditions": [["adl_march!=''", { "cflags_cc": ["-march=<(adl_march)"] }]]
    }
  ]
}
