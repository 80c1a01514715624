// testing/signal_driver.hpp — applies the ops of operations.hpp to a real signal.
//
// The driver owns one sigs::sync_signal<int> (metrics on, an error handler installed that
// logs each report, then removes / remove_and_waits the failed listener or throws, as its
// spec says) and turns each `op` into the matching API call, recording what happened in
// the same trace format as the model: listener calls, error-handler reports and actions,
// the results of operations run from inside listeners, and last the op's own result. A
// property or fuzzer applies each op to both and compares the traces.
//
//   sigs_test::signal_driver real;
//   sigs_test::reference_signal model;
//   for (const sigs_test::op& o : ops) assert(real.apply(o) == model.apply(o));
//
// Listener ids: the model numbers accepted listeners 1, 2, 3, ...; the driver keeps the real
// listener_id of each so that traces speak the model's numbering.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <sigs/sigs.hpp>

#include "alive_token.hpp"
#include "operations.hpp"
#include "reference_model.hpp"

namespace sigs_test {

class signal_driver {
 public:
  explicit signal_driver(limits l = {}) : limits_(l), sig_(with_metrics()) {
    sig_.set_error_handler([this](const sigs::listener_error& e) {
      const std::uint64_t id = to_model(e.listener);
      std::string line = "report " + fmt::id(id) + " " + fmt::error(e.error);
      if (e.exception) line += thrown_by(e.exception) == id ? " threw" : " threw(something else)";
      out_->push_back(std::move(line));
      // Then what the failed listener's spec asks of the handler (reference_model.hpp).
      switch (id >= 1 && id <= on_error_.size() ? on_error_[id - 1] : handler_action::none) {
        case handler_action::none: return;
        case handler_action::remove: return run(op::remove_id(id));
        case handler_action::remove_and_wait: return run(op::remove_and_wait_id(id));
        case handler_action::throws:
          out_->push_back("handler throws for " + fmt::id(id));
          throw listener_threw{id};  // swallowed by the signal, counted in handler_failures
      }
    });
  }
  signal_driver(const signal_driver&) = delete;
  signal_driver& operator=(const signal_driver&) = delete;

  /// Applies one top-level operation; returns its trace.
  trace apply(const op& o) {
    trace out;
    out_ = &out;
    nested_emits_ = calls_ = 0;
    run(o);
    out_ = nullptr;
    return out;
  }

  sigs::sync_signal<int>& signal() { return sig_; }

  /// The real id of model listener `n` (0 and unknown ids map to ids never issued).
  sigs::listener_id to_sut(std::uint64_t n) const {
    if (n == 0) return sigs::listener_id{};
    if (n <= ids_.size()) return ids_[n - 1];
    return sigs::detail::listener_id_access::make((std::uint64_t{1} << 61) + (n == unknown_id ? 0 : n));
  }

 private:
  template <bool Aware, bool WithContext>
  struct listener_fn {
    using result = std::conditional_t<Aware, std::error_code, void>;
    signal_driver* driver;
    std::uint64_t id;
    behaviour does;
    alive_token token;

    result operator()(const int& payload) const requires(!WithContext) {
      return finish(driver->call(id, payload, does));
    }
    result operator()(const sigs::context&, const int& payload) const requires(WithContext) {
      return finish(driver->call(id, payload, does));
    }
    static result finish(std::error_code ec) {
      if constexpr (Aware)
        return ec;
      else
        (void)ec;
    }
  };

  static sigs::sync_options with_metrics() {
    sigs::sync_options o;
    o.metrics = sigs::metrics_on;
    o.sample_every = 1;  // every call sampled, so every call sets last_called, as the model says
    return o;
  }

  std::uint64_t to_model(sigs::listener_id id) const {
    if (!id) return 0;
    for (std::size_t i = 0; i < ids_.size(); ++i)
      if (ids_[i] == id) return i + 1;
    return unknown_id;
  }

  static std::uint64_t thrown_by(const std::exception_ptr& ex) {
    if (!ex) return 0;
    try {
      std::rethrow_exception(ex);
    } catch (const listener_threw& t) {
      return t.id;
    } catch (...) {
      return unknown_id;
    }
  }

  /// The body every listener runs: log the call, maybe trigger the cancellation, run the
  /// re-entrant actions, end as the behaviour says.
  std::error_code call(std::uint64_t id, int payload, const behaviour& does) {
    out_->push_back("call " + fmt::id(id) + " payload=" + std::to_string(payload));
    ++calls_;
    if (budget_ > 0 && --budget_ == 0) stop_->request_stop();
    for (const op& a : does.actions) run(a);
    switch (does.result) {
      case outcome::ok: return {};
      case outcome::error: return std::error_code(does.error_value, std::generic_category());
      case outcome::throws: throw listener_threw{id};
    }
    return {};
  }

  template <bool Aware, class F>
  sigs::listener_id add_as(add_form form, F&& f, std::string_view key) {
    switch (form) {
      case add_form::listener: return sig_.add_listener(std::forward<F>(f), key);
      case add_form::once: return sig_.add_once(std::forward<F>(f));
      case add_form::once_with_key: return sig_.add_once_with_key(std::forward<F>(f), key);
      default: break;
    }
    if constexpr (Aware) {
      switch (form) {
        case add_form::listener_with_err: return sig_.add_listener_with_err(std::forward<F>(f), key);
        case add_form::once_with_err: return sig_.add_once_with_err(std::forward<F>(f));
        case add_form::once_with_err_and_key: return sig_.add_once_with_err_and_key(std::forward<F>(f), key);
        default: break;
      }
    }
    std::abort();  // not well_formed(): a *_with_err form with a plain callable
  }

  sigs::listener_id add(const listener_spec& s) {
    if (s.empty) {
      if (s.error_aware) return add_as<true>(s.form, std::function<std::error_code(const int&)>{}, s.key);
      if (s.form == add_form::listener) return add_as<false>(s.form, static_cast<void (*)(const int&)>(nullptr), s.key);
      return add_as<false>(s.form, std::function<void(const int&)>{}, s.key);
    }
    // The model numbers this listener ids_.size() + 1 if it is accepted. Odd ids take the
    // context too, so both listener shapes run.
    const std::uint64_t id = ids_.size() + 1;
    const bool ctx = id % 2 == 1;
    if (s.error_aware) {
      return ctx ? add_as<true>(s.form, listener_fn<true, true>{this, id, s.does, {}}, s.key)
                 : add_as<true>(s.form, listener_fn<true, false>{this, id, s.does, {}}, s.key);
    }
    return ctx ? add_as<false>(s.form, listener_fn<false, true>{this, id, s.does, {}}, s.key)
               : add_as<false>(s.form, listener_fn<false, false>{this, id, s.does, {}}, s.key);
  }

  static emit_report report_of(const sigs::emit_result& r, const signal_driver& d) {
    return emit_report{r.error, d.to_model(r.listener), r.key, r.index, r.calls, thrown_by(r.exception)};
  }

  std::optional<metadata_report> report_of(const std::optional<sigs::listener_metadata>& m) const {
    if (!m) return std::nullopt;
    return metadata_report{to_model(m->id),
                           m->key,
                           m->call_count,
                           m->error_count,
                           m->last_error,
                           thrown_by(m->last_exception),
                           m->is_once,
                           m->is_error_aware,
                           m->last_called != std::chrono::system_clock::time_point{}};
  }

  /// Whether the metrics reading agrees with stats() and metadata(): empty, or what
  /// disagrees (which the model's trace never shows, so the comparison fails on it).
  /// Every call is timed (sample_every 1), so each series times as many calls as it counts.
  std::string metrics_disagreement() const {
    const sigs::signal_metrics m = sig_.metrics();
    const sigs::signal_stats s = sig_.stats();
    std::string bad;
    if (m.stats.emits != s.emits || m.stats.listener_calls != s.listener_calls) bad += " stats";
    if (m.listeners != sig_.size()) bad += " listeners";
    if (m.by_listener.empty() || !m.by_listener.back().key.empty()) bad += " no-fold";
    std::uint64_t series_calls = 0;
    std::uint64_t timed = 0;
    for (const sigs::listener_metrics& l : m.by_listener) {
      series_calls += l.calls;
      timed += l.latency.count;
      if (l.latency.count != l.calls) bad += " latency(" + l.key + ")";
      if (l.key.empty()) continue;
      const auto md = sig_.metadata(std::string_view(l.key));
      if (!md || md->call_count != l.calls || md->error_count != l.errors + l.exceptions) bad += " key(" + l.key + ")";
    }
    if (series_calls > s.listener_calls) bad += " calls";  // equal until a keyed listener goes
    if (m.latency.count != timed) bad += " latency";
    return bad.empty() ? std::string() : " METRICS DISAGREE:" + bad;
  }

  static stats_report report_of(const sigs::signal_stats& s) {
    return stats_report{s.emits, s.listener_calls, s.errors, s.exceptions, s.canceled, s.handler_failures};
  }

  void run(const op& o) {
    const std::string prefix = depth_ ? "[" + std::to_string(depth_) + "] " : "";
    const std::string what = prefix + fmt::describe(o) + " -> ";
    if (const char* skipped = inner_skip(limits_, o.kind, depth_, nested_emits_, calls_, ids_.size())) {
      out_->push_back(what + skipped);
      return;
    }
    switch (o.kind) {
      case op_kind::add: {
        const sigs::listener_id id = add(o.spec);
        if (id) {
          ids_.push_back(id);
          on_error_.push_back(o.spec.on_error);
        }
        out_->push_back(what + (id ? fmt::id(ids_.size()) : fmt::error(id.error())));
        return;
      }
      case op_kind::remove_id: out_->push_back(what + fmt::error(sig_.remove_listener(to_sut(o.target)))); return;
      case op_kind::remove_key:
        out_->push_back(what + fmt::error(sig_.remove_listener(std::string_view(o.key))));
        return;
      case op_kind::remove_and_wait_id:
        out_->push_back(what + fmt::error(sig_.remove_listener_and_wait(to_sut(o.target))));
        return;
      case op_kind::remove_and_wait_key:
        out_->push_back(what + fmt::error(sig_.remove_listener_and_wait(std::string_view(o.key))));
        return;
      case op_kind::reset:
        sig_.reset();
        out_->push_back(what + "done");
        return;
      case op_kind::emit:
      case op_kind::try_emit:
      case op_kind::emit_ctx: {
        if (depth_ > 0) ++nested_emits_;
        const int payload = static_cast<int>(depth_);
        ++depth_;
        std::string result = "done";
        if (o.kind == op_kind::emit) {
          sig_.emit(payload);
        } else if (o.kind == op_kind::try_emit) {
          result = fmt::report(report_of(sig_.try_emit(payload), *this));
        } else {
          std::stop_source stop;
          if (o.cancel_after == 0) stop.request_stop();
          budget_ = o.cancel_after == never ? 0 : o.cancel_after;
          stop_ = &stop;
          sigs::context ctx(stop.get_token());
          if (o.expired) ctx = ctx.with_deadline(sigs::context::clock::now() - std::chrono::seconds(1));
          if (o.as_try) {
            result = fmt::report(report_of(sig_.try_emit(ctx, payload), *this));
          } else {
            sig_.emit(ctx, payload);
          }
          budget_ = 0;
          stop_ = nullptr;
        }
        --depth_;
        out_->push_back(what + result);
        return;
      }
      case op_kind::introspect:
        out_->push_back(what +
                        fmt::introspection(sig_.size(), sig_.keys(), sig_.has_key(o.key),
                                           report_of(sig_.metadata(std::string_view(o.key))),
                                           report_of(sig_.metadata(to_sut(o.target))), report_of(sig_.stats())) +
                        metrics_disagreement());
        return;
    }
  }

  limits limits_;
  std::vector<sigs::listener_id> ids_;    // real id of model listener n at [n - 1]
  std::vector<handler_action> on_error_;  // what the error handler does when listener n fails
  trace* out_ = nullptr;
  std::size_t depth_ = 0;
  std::size_t nested_emits_ = 0;
  std::size_t calls_ = 0;
  std::size_t budget_ = 0;  // emit_ctx: calls left before stop_ is requested
  std::stop_source* stop_ = nullptr;
  sigs::sync_signal<int> sig_;  // last: destroyed first, while the rest is alive
};

}  // namespace sigs_test
