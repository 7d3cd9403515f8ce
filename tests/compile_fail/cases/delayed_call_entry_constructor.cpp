// A DelayedCall comes from callLater (or testing::Clock); a user cannot wrap a timer
// queue's internal entry in one.
#include <torsion/delayed_call.hpp>

int main() {
#ifdef TORSION_BREAK
  torsion::DelayedCall call(static_cast<torsion::detail::TimerEntry*>(nullptr));
#else
  torsion::DelayedCall call;
#endif
  (void)call.active();
}
