// System event triggers behave alike on a Reactor and on testing::MemoryReactor: both
// keep them through one implementation (framework/src/system_event_triggers.*), and
// these tests hold each of them to it.
#include <gtest/gtest.h>
#include <torsion/reactor.hpp>
#include <torsion/testing/memory_reactor.hpp>

#include <functional>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>

#include "reactor_test_support.hpp"

namespace {

using torsion::EventPhase;
using torsion::IReactorCore;

struct Kind {
  std::string name;
  std::function<std::unique_ptr<IReactorCore>()> make;
};

void PrintTo(const Kind& kind, std::ostream* out) { *out << kind.name; }

class SystemEventTriggersTest : public ::testing::TestWithParam<Kind> {};

TEST_P(SystemEventTriggersTest, PhasesRunInOrderAndTriggersRunOnce) {
  auto reactor = GetParam().make();
  std::string order;
  reactor->addSystemEventTrigger(EventPhase::after, "custom", [&] { order += 'a'; });
  reactor->addSystemEventTrigger(EventPhase::during, "custom", [&] { order += 'd'; });
  reactor->addSystemEventTrigger(EventPhase::before, "custom", [&] { order += 'b'; });
  reactor->addSystemEventTrigger(EventPhase::before, "other", [&] { order += 'o'; });
  reactor->addSystemEventTrigger(EventPhase::during, "custom", [&] { order += 'D'; });
  reactor->fireSystemEvent("custom");
  EXPECT_EQ(order, "bdDa");
  reactor->fireSystemEvent("custom");
  EXPECT_EQ(order, "bdDa") << "a trigger is removed once it has run";
}

TEST_P(SystemEventTriggersTest, ATriggerAddedForALaterPhaseRunsInTheSameFiring) {
  auto reactor = GetParam().make();
  std::string order;
  reactor->addSystemEventTrigger(EventPhase::before, "custom", [&] {
    order += 'b';
    reactor->addSystemEventTrigger(EventPhase::after, "custom", [&] { order += 'a'; });
    reactor->addSystemEventTrigger(EventPhase::before, "custom", [&] { order += 'B'; });
  });
  reactor->fireSystemEvent("custom");
  EXPECT_EQ(order, "ba") << "'after' had not started; 'before' had";
  reactor->fireSystemEvent("custom");
  EXPECT_EQ(order, "baB");
}

TEST_P(SystemEventTriggersTest, RemovingTwiceThrowsAndIdsAreNotReused) {
  auto reactor = GetParam().make();
  bool ran = false;
  const auto first = reactor->addSystemEventTrigger(EventPhase::during, "custom", [&] { ran = true; });
  reactor->removeSystemEventTrigger(first);
  EXPECT_THROW(reactor->removeSystemEventTrigger(first), std::invalid_argument);
  const auto second = reactor->addSystemEventTrigger(EventPhase::during, "custom", [] {});
  EXPECT_NE(first, second);
  reactor->fireSystemEvent("custom");
  EXPECT_FALSE(ran);
  EXPECT_THROW(reactor->removeSystemEventTrigger(second), std::invalid_argument) << "it ran";
}

TEST_P(SystemEventTriggersTest, AThrowingTriggerIsLoggedAndTheOthersRun) {
  auto reactor = GetParam().make();
  torsion_test::LogCapture log;
  std::string order;
  reactor->addSystemEventTrigger(EventPhase::before, "custom", [] { throw std::runtime_error("trigger broke"); });
  reactor->addSystemEventTrigger(EventPhase::before, "custom", [&] { order += 'b'; });
  reactor->addSystemEventTrigger(EventPhase::after, "custom", [&] { order += 'a'; });
  EXPECT_NO_THROW(reactor->fireSystemEvent("custom"));
  EXPECT_EQ(order, "ba");
  EXPECT_TRUE(log.contains("trigger broke")) << log.all();
}

INSTANTIATE_TEST_SUITE_P(
    Reactors, SystemEventTriggersTest,
    ::testing::Values(Kind{"Reactor", [] { return std::unique_ptr<IReactorCore>(new torsion::Reactor()); }},
                      Kind{"MemoryReactor",
                           [] { return std::unique_ptr<IReactorCore>(new torsion::testing::MemoryReactor()); }}),
    [](const ::testing::TestParamInfo<Kind>& instance) { return instance.param.name; });

}  // namespace
