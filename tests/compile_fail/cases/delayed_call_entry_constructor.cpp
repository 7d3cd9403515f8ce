// A DelayedCall comes from callLater (or testing::Clock); a user cannot wrap a timer
// queue's internal entry in one.
#include <torsion/delayed_call.hpp>

#include <memory>

int main() {
#ifdef TORSION_BREAK
  torsion::DelayedCall call(std::shared_ptr<torsion::detail::TimerEntry>{});
#else
  torsion::DelayedCall call;
#endif
  (void)call.active();
}
