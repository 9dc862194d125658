// Argon2id (auth/password.h): one hash at the default cost and at neighbouring costs, which is
// what picked the default (about 50 ms on the development machine; docs/benchmarks.md), and one
// verify at the default cost: what a sign-in costs the hashing pool.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "auth/password.h"

namespace reel::auth {
namespace {

// Arguments: opslimit, memlimit in MiB.
void BM_Hash(benchmark::State& state) {
  const PasswordCost cost{static_cast<uint64_t>(state.range(0)), static_cast<size_t>(state.range(1)) << 20};
  Result<PasswordHasher> hasher = PasswordHasher::create(cost);
  if (!hasher) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(hasher->hash("correct horse battery staple"));
}
BENCHMARK(BM_Hash)
    ->ArgsProduct({{1, 2, 3}, {32, 48, 64}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1.0);

void BM_VerifyDefault(benchmark::State& state) {
  Result<PasswordHasher> hasher = PasswordHasher::create(default_password_cost);
  if (!hasher) std::abort();
  const std::string hash = hasher->hash("correct horse battery staple").value();
  for (auto _ : state) benchmark::DoNotOptimize(hasher->verify(hash, "correct horse battery staple"));
}
BENCHMARK(BM_VerifyDefault)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

}  // namespace
}  // namespace reel::auth

BENCHMARK_MAIN();
