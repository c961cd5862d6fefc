// A C++11 program using libbtfm through the umbrella header, as a C++ host would: it
// must build with -pedantic -Werror, link (C linkage of the declarations) and run.
#include <btfm/btfm.h>

#include <cstdint>
#include <cstdio>
#include <vector>

static_assert(sizeof(btfm_status) == sizeof(int), "btfm_status must be int-sized");

namespace {

bool check(bool ok, const char *what)
{
    if (!ok) std::fprintf(stderr, "cxx_consumer: %s failed: %s\n", what, btfm_last_error());
    return ok;
}

} // namespace

int main()
{
    if (!check(btfm_version_number() == BTFM_VERSION_NUMBER, "version")) return 1;
    if (!check(btfm_status_str(BTFM_E_FORMAT) != nullptr, "status text")) return 1;

    btfm_container *c = nullptr;
    if (!check(btfm_container_new(&c, "cxx") == BTFM_OK, "new")) return 1;
    const std::vector<std::int32_t> values{1, 2, 3};
    const std::int64_t shape[] = {3};
    bool ok = check(btfm_container_put(c, "values", BTFM_DTYPE_I32, 1, shape,
                                       values.data()) == BTFM_OK, "put")
              && check(btfm_container_count(c) == 1, "count");
    btfm_container_free(c);
    if (!ok) return 1;
    std::printf("cxx_consumer: libbtfm %s from C++ ok\n", btfm_version_string());
    return 0;
}
