// Public. race: the first of several Deferreds to succeed wins; the others are cancelled.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/deferred_list.hpp>
#include <torsion/errors.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace torsion {

/// What race() fires with: the index of the winner and its value (only the index for
/// Deferred<void> inputs).
template <class T>
using RaceResult = std::conditional_t<std::is_void_v<T>, std::size_t, std::pair<std::size_t, T>>;

namespace detail {

template <class T>
struct RaceState {
  std::vector<std::weak_ptr<Chain>> inputs;  // weak: the output's canceller holds them
  std::vector<std::optional<Failure>> failures;
  std::size_t failed = 0;
  bool won = false;

  static void notify(RaceState& state, Chain& output, std::size_t index, Chain& input) {
    state.onResult(output, index, input);
  }

  void onResult(Chain& output, std::size_t index, Chain& chain) {
    // Take the outcome: the race is now responsible for it (Twisted's race returns None).
    Result<T> result = [&]() -> Result<T> {
      try {
        return takeResult<T>(chain);
      } catch (...) {
        return Failure::current();
      }
    }();
    if (result.ok()) {
      if (won) return;  // a loser's canceller fired it with a value: ignore
      won = true;
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (i == index) continue;
        if (std::shared_ptr<Chain> loser = inputs[i].lock()) loser->cancel();
      }
      Deferred<RaceResult<T>> out = DeferredAccess::wrap<RaceResult<T>>(output.shared_from_this());
      if (out.called()) return;
      if constexpr (std::is_void_v<T>) {
        out.callback(index);
      } else {
        out.callback(RaceResult<T>(index, std::move(result).value()));
      }
      return;
    }
    failures[index] = result.failure();
    if (++failed == inputs.size()) fail(output);
  }

  void fail(Chain& output) {
    std::vector<Failure> all;
    all.reserve(failures.size());
    for (auto& failure : failures) all.push_back(std::move(*failure));
    Deferred<RaceResult<T>> out = DeferredAccess::wrap<RaceResult<T>>(output.shared_from_this());
    if (!out.called()) out.errback(FailureGroup(std::move(all)));
  }
};

}  // namespace detail

/// Runs several operations at once and keeps the first success (Twisted's race): fires
/// with the winner's index and value, and cancels the others. If every input fails, it
/// errbacks with a FailureGroup holding each failure in input order (at once for an
/// empty list). Cancelling the result cancels every input. The race takes the inputs'
/// outcomes: they are left without a result.
/// @param deferreds the competing operations.
/// @return a Deferred of (index, value): RaceResult<T>.
/// @code
/// torsion::race(std::vector{fetch(r, mirrorA), fetch(r, mirrorB)})
///     .addCallback([](std::pair<std::size_t, Page> winner) { return winner.second; });
/// @endcode
template <class T>
Deferred<RaceResult<T>> race(std::vector<Deferred<T>> deferreds) {
  using State = detail::RaceState<T>;
  Deferred<RaceResult<T>> out;
  auto state = std::make_shared<State>();
  std::shared_ptr<detail::Chain> output = detail::DeferredAccess::chain(out);
  state->failures.resize(deferreds.size());
  std::vector<detail::ChainHold> inputs = detail::holdsOf(deferreds, "race");
  for (const detail::ChainHold& input : inputs) state->inputs.emplace_back(input.get());
  // A plain canceller, as in Twisted: cancelling every input fails them all, which
  // fires the FailureGroup; if some input ignores cancellation, CancelledError follows.
  output->setCanceller([inputs = std::move(inputs), state](detail::Chain&) {
    detail::cancelAll(inputs);
    return false;
  });
  if (deferreds.empty()) {
    state->fail(*output);
    return out;
  }
  for (std::size_t index = 0; index < deferreds.size(); ++index) {
    detail::observe(*detail::DeferredAccess::chain(deferreds[index]), state, output, index, &State::notify);
  }
  return out;
}

/// race() over Deferreds given one by one: `torsion::race(a, b, c)`.
// clang-format off
template <class T, class... More>
  requires(std::is_same_v<Deferred<T>, More> && ...)
Deferred<RaceResult<T>> race(Deferred<T> first, More... more) {
  // clang-format on
  return race(std::vector<Deferred<T>>{std::move(first), std::move(more)...});
}

}  // namespace torsion
