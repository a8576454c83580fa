// Preloaded (LD_PRELOAD) into a process that uses oneDNN: ends it with status 70 and one line on
// stderr when a primitive is destroyed after an engine was. oneDNN's objects must not outlive the
// engine they were made with, and the exit handlers of an addon whose engine and primitive caches
// are statics of different lifetimes break that silently.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

typedef int dnnl_status;
typedef dnnl_status (*destroy_fn)(void*);

static int engines_destroyed;

static int find_dnnl(struct dl_phdr_info* info, size_t size, void* found) {
  (void)size;
  if (strstr(info->dlpi_name, "libdnnl.so") == NULL) return 0;
  *(void**)found = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
  return 1;
}

// The library's own function: Node loads addons with RTLD_LOCAL, so RTLD_NEXT does not see it.
static destroy_fn real(const char* name) {
  void* library = NULL;
  dl_iterate_phdr(find_dnnl, &library);
  return library ? (destroy_fn)dlsym(library, name) : NULL;
}

static void fail(const char* message, size_t length) {
  write(2, message, length);
  _exit(70);
}

dnnl_status dnnl_engine_destroy(void* engine) {
  engines_destroyed++;
  return real("dnnl_engine_destroy")(engine);
}

dnnl_status dnnl_primitive_destroy(void* primitive) {
  static const char message[] = "destroy-order: a oneDNN primitive destroyed after an engine\n";
  if (engines_destroyed > 0) fail(message, sizeof message - 1);
  return real("dnnl_primitive_destroy")(primitive);
}
