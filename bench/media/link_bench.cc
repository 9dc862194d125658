// A signed media link: MD5 over expiry, path and secret, base64url (media/secure_link.h), made
// afresh (a new expiry every call, so the memo always misses) and from the per-thread memo (what
// a watch page costs while its links' step lasts).
#include <benchmark/benchmark.h>

#include "media/link_signer.h"

namespace reel {
namespace {

const media::LinkSigner& signer() {
  static const media::LinkSigner instance({"0123456789abcdef0123456789abcdef", 21600, 3600, ""});
  return instance;
}

void BM_SignFresh(benchmark::State& state) {
  int64_t expires = 1767225600;
  for (auto _ : state) benchmark::DoNotOptimize(signer().url("/media/videos/123456/mp4/720.mp4", ++expires));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignFresh);

void BM_SignRemembered(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(signer().url("/media/videos/123456/mp4/720.mp4", 1767225600));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignRemembered);

}  // namespace
}  // namespace reel

BENCHMARK_MAIN();
