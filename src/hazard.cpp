#include <sigs/detail/thread_record.hpp>

namespace sigs::detail {
namespace {

// Returns the thread's record to the domain when the thread exits.
struct record_owner {
  default_domain::record* rec = nullptr;
  ~record_owner();
};

// Set once record_owner is destroyed: a thread_local destroyed after it (and emitting in
// its destructor) then gets a record that is never handed back rather than touching a
// dead object. The record stays in the domain's list, so nothing leaks.
thread_local bool owner_gone = false;
thread_local record_owner owner;

record_owner::~record_owner() {
  owner_gone = true;
  if (rec) {
    tls_record = nullptr;
    global_domain().release_record(*rec);
  }
}

}  // namespace

default_domain& global_domain() noexcept {
  static default_domain* domain = new default_domain;
  return *domain;
}

default_domain::record& acquire_thread_record() {
  default_domain::record& r = global_domain().acquire_record();
  tls_record = &r;
  if (!owner_gone) owner.rec = &r;
  return r;
}

}  // namespace sigs::detail
