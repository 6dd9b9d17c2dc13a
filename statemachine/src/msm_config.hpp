// Boost.MSM's transition tables are MPL vectors, limited to 20 entries unless configured before
// the first Boost include; each table here is split in two vectors of at most 50 rows and joined.
// Included first by the translation units that define machines, never by a public header.
#pragma once

#define BOOST_MPL_CFG_NO_PREPROCESSED_HEADERS
#define BOOST_MPL_LIMIT_VECTOR_SIZE 50
#define FUSION_MAX_VECTOR_SIZE 20

#include <boost/mpl/joint_view.hpp>
#include <boost/mpl/vector.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

namespace kurer::statemachine::detail {

namespace msm = boost::msm;
namespace mpl = boost::mpl;

// The pseudo-state every machine starts in; one `restore<S>` row per real state leaves it, so a
// machine can be rebuilt at any persisted state with MSM's own transitions (MSM has no public
// way to set the active state).
struct restoring : msm::front::state<> {};

template <class State>
struct restore {};

// Records in the front-end which enum value a state stands for, on entry.
template <auto Value>
struct state_of : msm::front::state<> {
    static constexpr auto value = Value;
    template <class Event, class Fsm>
    void on_entry(const Event&, Fsm& fsm) {
        fsm.snap.state = Value;
    }
};

} // namespace kurer::statemachine::detail
