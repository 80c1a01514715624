// bench/bench_main.cpp — Google Benchmark's main, plus the context a reader of the JSON needs.
#include <benchmark/benchmark.h>

#include <string>
#include <thread>

namespace {

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("compiler", compiler());
#ifdef SIGS_BENCH_BUILD_TYPE
  benchmark::AddCustomContext("build_type", SIGS_BENCH_BUILD_TYPE);
#endif
  benchmark::AddCustomContext("payload", "int; listeners cycle 4 lambdas + 1 free function");
  // A second thread, started and joined before anything is measured. Until a process has
  // had one, libstdc++ takes the single-threaded path for shared_ptr reference counts
  // (plain increments instead of atomic ones), which flatters the peers that count
  // references on every emit; a program that uses a thread-safe signal has threads.
  std::thread([] {}).join();
  benchmark::AddCustomContext("threads_started_first", "yes");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
