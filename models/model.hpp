// models/model.hpp — what every scenario shares: the production core instantiated over the
// Relacy policy, per-thread hazard records, Relacy-visible listener state, and main().
//
//   struct my_scenario : rl::test_suite<my_scenario, 2, expected_result(scenario::my_scenario)> {
//     model_signal<2> sig;                   // the production signal_core + signal_domain
//     thread_records<model_signal<2>::domain_t, 2, records::in_threads> recs{sig.domain};
//     void thread(unsigned i) { decltype(recs)::scope r(recs, i); sig.emit(r, 1); }
//   };
//   SIGS_MODEL_MAIN(SIGS_MODEL("my_scenario", my_scenario))
//
// A family source includes its own mutants first, then this header, which selects this
// build's mutation among them (mutants/select.hpp, -DSIGS_MUTANT=<name>):
//
//   #include "mutants/<family>.hpp"
//   #include "model.hpp"
#pragma once

#include "mutants/select.hpp"  // includes relacy_atomics.hpp, hence Relacy, last of all headers

namespace sigs::models {

/// Which hazard publish the domain uses (hazard.hpp): the seq_cst exchange, or the
/// asymmetric fence (relaxed store + writer-side membarrier, modelled by Relacy's
/// system-wide fence; see relacy_atomics.hpp).
enum class hazard_mode { seq_cst, asymmetric };

/// The production types under test, with this build's policy and (possibly mutated) domain.
/// The mode is a constructor argument of the domain: both modes share one instantiation.
/// `P` is the payload type (a type with an rl::var makes the payload's accesses visible).
template <std::size_t Slots, hazard_mode Mode = hazard_mode::seq_cst, class P = int>
struct model_signal {
  using domain_t = model_domain<Slots>;
  // With pin counts, as async signals have them: the held and envelope scenarios pin
  // snapshots; in the others the counts stay 0 and scan() only reads them.
  using core_t = sigs::detail::signal_core<model_policy, P, domain_t, sigs::detail::snapshot_pins::counted>;
  /// The async side's delivery loop, envelope and finaliser (async_delivery.hpp).
  using delivery = sigs::detail::async_delivery<core_t, P>;
  using entry_t = typename core_t::entry_t;
  using record = typename domain_t::record;

  domain_t domain;
  // signal_core has alignas(64) members and Relacy allocates the suite with malloc, so the
  // core lives in aligned heap memory of its own.
  core_t* core;

  model_signal() : domain(Mode == hazard_mode::asymmetric), core(new core_t(domain)) {
    RL_ASSERT(domain.asymmetric() == (Mode == hazard_mode::asymmetric));
  }
  ~model_signal() { delete core; }
  model_signal(const model_signal&) = delete;
  model_signal& operator=(const model_signal&) = delete;

  template <class F>
  listener_id add(F&& f, bool once = false) {
    listener_id id = core->add(std::forward<F>(f), std::string_view(), once);
    RL_ASSERT(id.valid());
    return id;
  }
  std::error_code remove(listener_id id) {
    return core->remove([v = id.value()](const entry_t& e) { return e.id == v; });
  }
  std::error_code remove_and_wait(record& self, listener_id id) {
    return core->template remove_and_wait<detail::matches::at_most_one>(
        self, [v = id.value()](const entry_t& e) { return e.id == v; });  // as sync_signal
  }
  void reset() { core->reset(); }
  /// sync_signal::emit: the lean path (errors reported, not returned), no context checks.
  void emit(record& r, const P& value) {
    const sigs::context ctx;
    core->template emit<detail::on_failure::record, detail::ctx_check::off>(r, ctx, value);
  }
  /// Entries alive in the current snapshot, counted under a hazard.
  std::size_t count_alive(record& r) {
    std::size_t n = 0;
    core->for_each_alive(r, [&](entry_t&) { ++n; });
    return n;
  }
};

/// Where the model threads' hazard records come from. Relacy threads are fibers of one OS
/// thread, so thread_local cannot tell them apart: each model thread takes a record of the
/// suite's domain explicitly.
enum class records {
  /// Each thread acquires its record when it starts and releases it when it ends, racing
  /// the others: the record-list push (HP-R3) and hand-over (HP-R1/HP-R2) are part of the
  /// model.
  in_threads,
  /// before() acquires one record per thread: a much smaller state space, for the
  /// context-bound searches (which enumerate every load value, spurious CAS failure and
  /// memory-reuse choice, not only the schedules).
  before_threads,
};

template <class Domain, unsigned Threads, records How>
class thread_records {
 public:
  using record = typename Domain::record;

  explicit thread_records(Domain& d) : d_(d) {}

  void before() {
    if constexpr (How == records::before_threads)
      for (auto*& r : pre_) r = &d_.acquire_record();
  }
  void after() {
    if constexpr (How == records::before_threads)
      for (auto* r : pre_) d_.release_record(*r);
  }

  /// The calling model thread's record for the scope of one thread() body.
  class scope {
   public:
    scope(thread_records& t, unsigned index)
        : t_(t), r_(How == records::in_threads ? t.d_.acquire_record() : *t.pre_[index]) {}
    ~scope() {
      if constexpr (How == records::in_threads) t_.d_.release_record(r_);
    }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;
    operator record&() noexcept { return r_; }
    record& get() noexcept { return r_; }

   private:
    thread_records& t_;
    record& r_;
  };

 private:
  Domain& d_;
  record* pre_[Threads] = {};
};

/// A record taken for the duration of a scope (after(), invariant checks).
template <class Domain>
class scoped_record {
 public:
  explicit scoped_record(Domain& d) : d_(d), r_(d.acquire_record()) {}
  ~scoped_record() { d_.release_record(r_); }
  scoped_record(const scoped_record&) = delete;
  scoped_record& operator=(const scoped_record&) = delete;
  operator typename Domain::record &() noexcept { return r_; }

 private:
  Domain& d_;
  typename Domain::record& r_;
};

/// A queue element Relacy can see (queue family): an rl::var payload. A move
/// reads the source and writes the destination, so a consumer that is not ordered after the
/// producer's write of the element (the queue's publish) races on it.
class token {
 public:
  token() { v_(RL_INFO).store(-1); }
  explicit token(int v) { v_(RL_INFO).store(v); }
  token(token&& o) noexcept { v_(RL_INFO).store(o.v_(RL_INFO).load()); }
  token& operator=(token&& o) noexcept {
    v_(RL_INFO).store(o.v_(RL_INFO).load());
    return *this;
  }
  ~token() = default;
  [[nodiscard]] int get() const { return v_(RL_INFO).load(); }

 private:
  rl::var<int> v_;
};

/// Listener state Relacy can see. Each copy owns an rl::var written when it is built and
/// when it is destroyed and read on every call, so a call that is not ordered after the
/// listener's construction (snapshot publish), or a destruction not ordered after every
/// call (hazard release, scan), is a DATA RACE; a call after the memory is freed is an
/// ACCESS TO FREED MEMORY.
class canary {
 public:
  canary() : alive_(1) {}
  canary(const canary& o) : alive_(o.alive_) {}
  canary& operator=(const canary&) = delete;
  ~canary() { alive_(RL_INFO).store(0); }

  void check(rl::debug_info info) const { RL_ASSERT(alive_(info).load() == 1); }

 private:
  rl::var<int> alive_;
};

// ---- main ------------------------------------------------------------------------------

inline std::ostream& null_stream() {
  static std::ostream s(nullptr);  // no buffer: discards everything
  return s;
}

struct model_entry {
  const char* name;
  bool (*run)(rl::test_params&);
  rl::test_result_e expected;
};

template <class Suite>
bool run_suite(rl::test_params& p) {
  return rl::simulate<Suite>(p);
}

/// True when suite `name` is built: always, unless the build names its suites in
/// SIGS_MODEL_SELECT ("a,b,c"), as mutant builds do to save compile time.
constexpr bool selected(std::string_view name) noexcept {
#ifdef SIGS_MODEL_SELECT
  std::string_view list = SIGS_MODEL_SELECT;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (list.substr(0, comma) == name) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
#else
  (void)name;
  return true;
#endif
}

/// The suite's runner, instantiated (simulate<Suite> and the suite's bodies) only if built.
template <bool Built, class Suite>
constexpr bool (*runner() noexcept)(rl::test_params&) {
  if constexpr (Built) {
    return &run_suite<Suite>;
  } else {
    return nullptr;
  }
}

/// model_x <suite> random <iterations> | bound <context bound> | full 0
/// Exit 0 when Relacy's result equals the suite's declared result (success, or the bug a
/// mutant build must be caught with).
inline int model_main(int argc, char** argv, std::initializer_list<model_entry> suites) {
  auto usage = [&] {
    std::cerr << "usage: " << argv[0] << " <suite> random <iterations> | bound <1..3> | full 0\nsuites:";
    for (const auto& s : suites)
      if (s.run) std::cerr << ' ' << s.name;
    std::cerr << "\nmutant: " << model_mutation::name << '\n';
    return 2;
  };
  if (argc != 4) return usage();
  const model_entry* suite = nullptr;
  for (const auto& s : suites)
    if (std::string_view(argv[1]) == s.name && s.run) suite = &s;
  if (!suite) return usage();
  const std::string_view search = argv[2];
  const unsigned long n = std::strtoul(argv[3], nullptr, 10);
  rl::test_params p;
  if (search == "random") {
    p.search_type = rl::sched_random;
    p.iteration_count = n;
  } else if (search == "bound") {
    p.search_type = rl::sched_bound;
    p.context_bound = static_cast<unsigned>(n);
  } else if (search == "full") {
    p.search_type = rl::sched_full;
  } else {
    return usage();
  }
  p.progress_stream = nullptr == std::getenv("SIGS_MODEL_PROGRESS") ? &null_stream() : &std::cout;
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = suite->run(p);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "model=" << suite->name << " mutant=" << model_mutation::name << " search=" << search << ' ' << n
            << " result=" << rl::test_result_str(p.test_result) << " expected=" << rl::test_result_str(suite->expected)
            << " iterations=" << p.stop_iteration << " seconds=" << secs << (ok ? " PASS" : " FAIL") << std::endl;
  return ok ? 0 : 1;
}

}  // namespace sigs::models

#define SIGS_MODEL(name, ...)                                                                                         \
  ::sigs::models::model_entry {                                                                                       \
    name, ::sigs::models::runner<::sigs::models::selected(name), __VA_ARGS__>(), __VA_ARGS__::params::expected_result \
  }

#define SIGS_MODEL_MAIN(...) \
  int main(int argc, char** argv) { return ::sigs::models::model_main(argc, argv, {__VA_ARGS__}); }
