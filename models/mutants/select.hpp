// models/mutants/select.hpp — this build's mutation: the mutant named by
// -DSIGS_MUTANT=<name>, or the production protocol without it, and the types and expected
// results the scenarios take from it (included by model.hpp).
//
// <name> is the mutant's struct itself (e.g. -DSIGS_MUTANT=envelope_reason_split), so no
// list of switches is kept: the family source includes its own mutants/<family>.hpp before
// model.hpp, and a name that is not a mutant of that family does not compile ("'<name>'
// does not name a type", on the line below). models/CMakeLists.txt passes the lower-cased
// MUTANT argument of sigs_add_model().
#pragma once

#include "common.hpp"  // and through it every standard header, before Relacy

#ifndef SIGS_MUTANT
#define SIGS_MUTANT production
#endif

#define SIGS_MODELS_STR_(x) #x
#define SIGS_MODELS_STR(x) SIGS_MODELS_STR_(x)

namespace sigs::models {

using model_mutation = SIGS_MUTANT;  // SIGS_MUTANT must name a mutant of this family's mutants/<family>.hpp

static_assert(std::is_base_of_v<production, model_mutation>,
              "SIGS_MUTANT must name a mutant: a struct derived from production (mutants/<family>.hpp)");
static_assert(std::is_same_v<model_mutation, production> ||
                  std::string_view(model_mutation::name) == SIGS_MODELS_STR(SIGS_MUTANT),
              "a mutant's `name` must be its struct's name (the runs print it)");

using model_policy = relacy_atomics_t<model_mutation::policy_mutation>;

template <std::size_t Slots>
using model_domain = typename model_mutation::template domain<model_policy, Slots>;

/// The completion state and in-flight count the completion models instantiate.
template <class A>
using model_completion_state = typename model_mutation::template completion_state<A>;
template <class A>
using model_in_flight_count = typename model_mutation::template in_flight_count<A>;

/// The wake count the wake and pool models instantiate.
template <class A>
using model_wake_count = typename model_mutation::template wake_count<A>;

/// The result the current build must produce for scenario `s`.
constexpr rl::test_result_e expected_result(scenario s) noexcept { return model_mutation::expect(s); }

}  // namespace sigs::models
