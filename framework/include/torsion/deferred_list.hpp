// Public. DeferredList and gatherResults: wait for many Deferreds at once.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/errors.hpp>
#include <torsion/log.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace torsion {

/// The flags of a DeferredList, named as in Twisted.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct DeferredListOptions {
  /// Errback with FirstError (naming the failure and its index) as soon as one input
  /// fails, instead of waiting for all.
  bool fireOnOneErrback = false;
  /// Take charge of the inputs' failures: an input that fails is left with no result,
  /// so errbacks added to it later do not run and it is not reported as unhandled.
  bool consumeErrors = false;
};

/// Asks DeferredList to fire as soon as one input succeeds (Twisted's fireOnOneCallback).
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct FireOnOneCallback {
  explicit FireOnOneCallback() = default;
};

/// The tag value: `torsion::DeferredList first(ds, torsion::fireOnOneCallback);`
inline constexpr FireOnOneCallback fireOnOneCallback{};

/// What a DeferredList fires with: for each input, in input order, (true, value) or
/// (false, failure).
template <class T>
using DeferredListResults = std::vector<std::pair<bool, Result<T>>>;

namespace detail {

/// The value a DeferredList fires with: the results, or, with fireOnOneCallback, the
/// first value and its index (only the index for Deferred<void> inputs).
template <class T, class Mode>
struct DeferredListOutput {
  using type = DeferredListResults<T>;
};
template <class T>
struct DeferredListOutput<T, FireOnOneCallback> {
  using type = std::pair<T, std::size_t>;
};
template <>
struct DeferredListOutput<void, FireOnOneCallback> {
  using type = std::size_t;
};

/// Reads an input's outcome for a combinator. A value is copied when it can be, so the
/// input keeps it as in Twisted; a move-only value is taken. A failure is copied, and
/// taken too when `consumeFailure`. An input with no value left gives a failure.
template <class T>
Result<T> observeResult(Chain& chain, bool consumeFailure) {
  if (chain.kind() == ResultKind::failure) {
    Result<T> result(chain.failure());
    if (consumeFailure) chain.setConsumed();
    return result;
  }
  if constexpr (std::is_void_v<T>) {
    return Result<T>();
  } else {
    if constexpr (std::is_copy_constructible_v<T>) {
      if (chain.kind() == ResultKind::value) return Result<T>(chain.box().get<T>());
    }
    try {
      return takeResult<T>(chain);
    } catch (...) {
      return Failure::current();  // the input had already handed its value on
    }
  }
}

/// Cancels every input; used when a combined Deferred is cancelled. An exception from
/// one input's canceller is logged and the others are still cancelled.
///
/// The combined Deferred's canceller holds its inputs, as Twisted's DeferredList does,
/// so that cancelling reaches inputs nobody else holds; a chain drops its canceller
/// once it fires.
inline void cancelAll(const std::vector<ChainHold>& inputs) {
  for (const ChainHold& input : inputs) {
    try {
      input.get()->cancel();
    } catch (...) {
      log::error("Exception while cancelling a Deferred: {}", Failure::current().toString());
    }
  }
}

/// Holds on the chains of `deferreds`, for a combined Deferred's canceller.
/// @throws std::logic_error if one is empty (moved from).
template <class T>
std::vector<ChainHold> holdsOf(const std::vector<Deferred<T>>& deferreds, const char* operation) {
  std::vector<ChainHold> holds;
  holds.reserve(deferreds.size());
  for (const Deferred<T>& deferred : deferreds) {
    if (!DeferredAccess::chain(deferred)) throwEmptyDeferred(operation);
    holds.emplace_back(DeferredAccess::chain(deferred));
  }
  return holds;
}

/// The step a combinator (DeferredList, gatherResults, race) adds to each input: hands
/// the input's outcome to the combinator's state and its combined Deferred.
///
/// It holds both strongly, so a combined Deferred nobody refers to still fires once an
/// input does. The combined Deferred's canceller holds the inputs (see cancelAll), so
/// the two form a cycle while the input can fire; once nothing but that canceller
/// refers to the input (it is orphaned, see ChainHold), the step holds them weakly and
/// the cycle is gone: dropping every handle of an unfired combination frees it all.
template <class State>
class ObserverStep final : public Step {
 public:
  /// Hands input number `index`'s outcome to the state.
  using Notify = void (*)(State& state, Chain& output, std::size_t index, Chain& input);

  ObserverStep(std::shared_ptr<State> state, std::shared_ptr<Chain> output, std::size_t index, Notify notify) noexcept
      : state_(std::move(state)), output_(std::move(output)), index_(index), notify_(notify) {}
  ObserverStep(const ObserverStep&) = delete;
  ObserverStep& operator=(const ObserverStep&) = delete;
  ~ObserverStep() override { releaseChain(output_); }

  std::shared_ptr<Chain> run(Chain& input) noexcept override {
    std::shared_ptr<State> state = state_ ? state_ : weakState_.lock();
    std::shared_ptr<Chain> output = output_ ? output_ : weakOutput_.lock();
    if (!state || !output) return nullptr;  // the combination is gone: nobody to tell
    try {
      notify_(*state, *output, index_, input);
    } catch (...) {
      input.setFailure(Failure::current());
    }
    return nullptr;
  }

  void weaken() noexcept override {
    if (!state_) return;
    weakState_ = state_;
    weakOutput_ = output_;
    state_.reset();
    releaseChain(output_);
  }

 private:
  std::shared_ptr<State> state_;
  std::shared_ptr<Chain> output_;
  std::weak_ptr<State> weakState_;
  std::weak_ptr<Chain> weakOutput_;
  std::size_t index_;
  Notify notify_;
};

/// Adds an ObserverStep for input `index` to `input`.
template <class State>
void observe(Chain& input, const std::shared_ptr<State>& state, const std::shared_ptr<Chain>& output, std::size_t index,
             typename ObserverStep<State>::Notify notify) {
  input.addStep(std::make_unique<ObserverStep<State>>(state, output, index, notify));
}

template <class T, class Mode>
struct DeferredListState {
  using Output = typename DeferredListOutput<T, Mode>::type;

  std::vector<std::optional<std::pair<bool, Result<T>>>> results;
  std::size_t finished = 0;
  DeferredListOptions options;

  static void notify(DeferredListState& state, Chain& output, std::size_t index, Chain& input) {
    state.onResult(output, index, observeResult<T>(input, state.options.consumeErrors));
  }

  void onResult(Chain& output, std::size_t index, Result<T>&& result) {
    const bool succeeded = result.ok();
    ++finished;
    Deferred<Output> out = DeferredAccess::wrap<Output>(output.shared_from_this());
    if (output.called()) return;
    if constexpr (std::is_same_v<Mode, FireOnOneCallback>) {
      if (succeeded) {
        if constexpr (std::is_void_v<T>) {
          out.callback(index);
        } else {
          out.callback(Output(std::move(result).value(), index));
        }
        return;
      }
    }
    if (!succeeded && options.fireOnOneErrback) {
      out.errback(FirstError(result.failure(), index));
      return;
    }
    results[index].emplace(succeeded, std::move(result));
    if (finished == results.size()) fireAll(out);
  }

  void fireAll(Deferred<Output>& out) {
    if constexpr (std::is_same_v<Mode, FireOnOneCallback>) {
      // No input succeeded, and a typed (value, index) cannot hold the list Twisted
      // would give here: report every failure instead.
      std::vector<Failure> failures;
      for (auto& entry : results) failures.push_back(entry->second.failure());
      out.errback(FailureGroup(std::move(failures)));
    } else {
      DeferredListResults<T> all;
      all.reserve(results.size());
      for (auto& entry : results) all.push_back(std::move(*entry));
      out.callback(std::move(all));
    }
  }
};

}  // namespace detail

/// Waits for a list of Deferreds (Twisted's DeferredList).
///
/// By default it fires, once every input has fired, with a DeferredListResults<T>: one
/// (success, Result) pair per input, in input order; an input's failure does not make
/// the list fail. The DeferredListOptions flags change that:
/// - `fireOnOneErrback`: errback with FirstError as soon as one input fails;
/// - `consumeErrors`: leave failed inputs without a result, so they are not reported as
///   unhandled (and errbacks added to them later do not run).
///
/// Made with the fireOnOneCallback tag, it is a Deferred<std::pair<T, std::size_t>>
/// instead (std::size_t for void inputs) that fires with the first value and its index;
/// if every input fails it errbacks with a FailureGroup of all the failures (where
/// Twisted would call back with the list).
///
/// An empty list fires at once with no results (with fireOnOneCallback it never fires,
/// as in Twisted). Cancelling a DeferredList that has not fired cancels every input; the
/// list then fires from their outcomes, as usual.
/// Inputs keep their values (copied; a move-only value is taken from its input).
///
/// @code
/// torsion::DeferredList all(std::vector{fetch(r, "a"), fetch(r, "b")}, {.consumeErrors = true});
/// all.addCallback([](torsion::DeferredListResults<Page> results) {
///   for (auto& [ok, result] : results) if (ok) show(result.value());
/// });
/// torsion::DeferredList first(std::vector{mirror1(), mirror2()}, torsion::fireOnOneCallback);
/// first.addCallback([](std::pair<Page, std::size_t> winner) { show(winner.first); });
/// @endcode
///
/// @tparam T the value type of the inputs.
/// @tparam Mode void, or FireOnOneCallback.
///
/// Thread safety: use from one thread at a time (the one that owns its chain); see docs/deferred.md.
template <class T, class Mode = void>
class DeferredList : public Deferred<typename detail::DeferredListOutput<T, Mode>::type> {
  using Output = typename detail::DeferredListOutput<T, Mode>::type;
  using State = detail::DeferredListState<T, Mode>;

 public:
  /// Waits for every Deferred in `deferreds`.
  /// @param deferreds the inputs.
  /// @param options fireOnOneErrback and consumeErrors.
  // clang-format off
  explicit DeferredList(std::vector<Deferred<T>> deferreds, DeferredListOptions options = {})
    requires std::is_void_v<Mode>
  {
    // clang-format on
    start(std::move(deferreds), options);
  }

  /// Waits for the first Deferred in `deferreds` to succeed.
  /// @param deferreds the inputs.
  /// @param options fireOnOneErrback and consumeErrors.
  // clang-format off
  DeferredList(std::vector<Deferred<T>> deferreds, FireOnOneCallback, DeferredListOptions options = {})
    requires std::is_same_v<Mode, FireOnOneCallback>
  {
    // clang-format on
    start(std::move(deferreds), options);
  }

 private:
  void start(std::vector<Deferred<T>> deferreds, DeferredListOptions options) {
    auto state = std::make_shared<State>();
    std::shared_ptr<detail::Chain> output = detail::DeferredAccess::chain(static_cast<Deferred<Output>&>(*this));
    state->options = options;
    state->results.resize(deferreds.size());
    output->setCanceller([inputs = detail::holdsOf(deferreds, "DeferredList"), state](detail::Chain&) {
      detail::cancelAll(inputs);
      return true;  // as in Twisted, the list fires from its inputs' outcomes
    });
    if (deferreds.empty()) {
      // As in Twisted: an empty list fires at once with no results, but with
      // fireOnOneCallback it never fires, since no input can succeed.
      if constexpr (std::is_void_v<Mode>) {
        Deferred<Output> out = *this;
        state->fireAll(out);
      }
      return;
    }
    for (std::size_t index = 0; index < deferreds.size(); ++index) {
      detail::observe(*detail::DeferredAccess::chain(deferreds[index]), state, output, index, &State::notify);
    }
  }
};

/// Deduces DeferredList<T> from a vector of Deferred<T>.
template <class T>
DeferredList(std::vector<Deferred<T>>, DeferredListOptions = {}) -> DeferredList<T>;

/// Deduces the fireOnOneCallback form.
template <class T>
DeferredList(std::vector<Deferred<T>>, FireOnOneCallback, DeferredListOptions = {})
    -> DeferredList<T, FireOnOneCallback>;

/// Waits for every Deferred and gives their values in input order (Twisted's
/// gatherResults): fails with FirstError as soon as one fails. Cancelling the result
/// cancels every input.
/// @param deferreds the inputs.
/// @param consumeErrors leave failed inputs without a result (see DeferredListOptions).
/// @return a Deferred of the values (Deferred<void> for void inputs).
/// @code
/// torsion::gatherResults(std::vector{fetch(r, "a"), fetch(r, "b")})
///     .addCallback([](std::vector<Page> pages) { return merge(pages); });
/// @endcode
template <class T>
auto gatherResults(std::vector<Deferred<T>> deferreds, bool consumeErrors = false) {
  DeferredList<T> list(std::move(deferreds), {.fireOnOneErrback = true, .consumeErrors = consumeErrors});
  if constexpr (std::is_void_v<T>) {
    return list.addCallback([](DeferredListResults<T>&&) {});
  } else {
    return list.addCallback([](DeferredListResults<T>&& results) {
      std::vector<T> values;
      values.reserve(results.size());
      for (auto& entry : results) values.push_back(std::move(entry.second).value());
      return values;
    });
  }
}

namespace detail {

template <class... Ts>
struct GatherTupleState {
  std::tuple<std::optional<Ts>...> values;
  std::size_t finished = 0;
  bool consumeErrors = false;

  template <std::size_t I>
  static void notify(GatherTupleState& state, Chain& output, std::size_t, Chain& input) {
    state.template onResult<I>(output, input);
  }

  template <std::size_t I>
  void onResult(Chain& output, Chain& input) {
    using V = std::tuple_element_t<I, std::tuple<Ts...>>;
    Result<V> result = observeResult<V>(input, consumeErrors);
    Deferred<std::tuple<Ts...>> out = DeferredAccess::wrap<std::tuple<Ts...>>(output.shared_from_this());
    if (output.called()) return;
    if (result.failed()) {
      out.errback(FirstError(result.failure(), I));
      return;
    }
    std::get<I>(values).emplace(std::move(result).value());
    if (++finished == sizeof...(Ts)) {
      out.callback(std::apply([](auto&... slot) { return std::tuple<Ts...>(std::move(*slot)...); }, values));
    }
  }
};

template <class... Ts>
Deferred<std::tuple<Ts...>> gatherTuple(bool consumeErrors, Deferred<Ts>... deferreds) {
  static_assert((!std::is_void_v<Ts> && ...),
                "gatherResults(d1, d2, ...): every Deferred must carry a value; gather Deferred<void>s with the "
                "vector form");
  using State = GatherTupleState<Ts...>;
  Deferred<std::tuple<Ts...>> out;
  auto state = std::make_shared<State>();
  state->consumeErrors = consumeErrors;
  std::shared_ptr<Chain> output = DeferredAccess::chain(out);
  const std::shared_ptr<Chain>* inputs[] = {&DeferredAccess::chain(deferreds)...};
  std::vector<ChainHold> holds;
  for (const std::shared_ptr<Chain>* input : inputs) {
    if (!*input) throwEmptyDeferred("gatherResults");
    holds.emplace_back(*input);
  }
  output->setCanceller([holds = std::move(holds), state](Chain&) {
    cancelAll(holds);
    return true;
  });
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (observe(**inputs[I], state, output, I, &State::template notify<I>), ...);
  }
  (std::index_sequence_for<Ts...>{});
  return out;
}

}  // namespace detail

/// Asks the tuple form of gatherResults to take charge of its inputs' failures, as its
/// vector form's `consumeErrors` does: `gatherResults(torsion::consumeErrors, a, b)`.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct ConsumeErrors {
  explicit ConsumeErrors() = default;
};

/// The tag value for gatherResults(consumeErrors, d1, d2, ...).
inline constexpr ConsumeErrors consumeErrors{};

/// gatherResults for Deferreds of different types: a Deferred of the tuple of their
/// values, in argument order; fails with FirstError as soon as one fails (that input
/// keeps its failure). Cancelling the result cancels every input.
/// @code
/// torsion::gatherResults(fetchUser(r, id), fetchQuota(r, id))
///     .addCallback([](std::tuple<User, Quota> both) { ... });
/// @endcode
// clang-format off
template <class... Ts>
  requires(sizeof...(Ts) > 0)
Deferred<std::tuple<Ts...>> gatherResults(Deferred<Ts>... deferreds) {
  // clang-format on
  return detail::gatherTuple(false, std::move(deferreds)...);
}

/// gatherResults for Deferreds of different types that takes charge of their failures:
/// a failed input is left without a result, so it is not reported as unhandled (see
/// DeferredListOptions::consumeErrors); the result still fails with FirstError.
/// @code
/// torsion::gatherResults(torsion::consumeErrors, fetchUser(r, id), fetchQuota(r, id));
/// @endcode
// clang-format off
template <class... Ts>
  requires(sizeof...(Ts) > 0)
Deferred<std::tuple<Ts...>> gatherResults(ConsumeErrors, Deferred<Ts>... deferreds) {
  // clang-format on
  return detail::gatherTuple(true, std::move(deferreds)...);
}

}  // namespace torsion
