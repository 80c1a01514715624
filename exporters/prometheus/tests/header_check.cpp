// sigs/prometheus.hpp on its own, after Qt's keyword macro, which it must leave defined.
#define emit
#include <sigs/prometheus.hpp>
#ifndef emit
#error "sigs/prometheus.hpp undefined Qt's emit macro"
#endif
