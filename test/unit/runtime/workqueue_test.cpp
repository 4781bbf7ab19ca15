// The work queue and its rate limiters, on a fake clock.
#include "runtime/workqueue.h"

#include <thread>

#include <doctest/doctest.h>

#include "runtime/backoff.h"
#include "runtime/rate_limiter.h"
#include "unit/runtime/fakes.h"

using namespace sot;
using namespace sot::runtime;
using namespace std::chrono_literals;
using sot::test::FakeClock;

namespace {

std::unique_ptr<WorkQueue> make_queue(Clock& clock) {
  return std::make_unique<WorkQueue>(clock, std::make_unique<ExponentialRateLimiter>(5ms, 1000s));
}

const ObjectKey kA{"ns", "a"};
const ObjectKey kB{"ns", "b"};

}  // namespace

TEST_CASE("a key waiting in the queue is stored once") {
  FakeClock clock;
  auto q = make_queue(clock);
  q->add(kA);
  q->add(kB);
  q->add(kA);
  q->add(kA);
  CHECK(q->len() == 2);
  CHECK(q->get_until(clock.now()) == kA);
  CHECK(q->get_until(clock.now()) == kB);
  CHECK_FALSE(q->get_until(clock.now()).has_value());
}

TEST_CASE("a key being processed is not handed out again until done, then runs once more") {
  FakeClock clock;
  auto q = make_queue(clock);
  q->add(kA);
  auto first = q->get_until(clock.now());
  REQUIRE(first == kA);
  q->add(kA);  // re-added while processing
  q->add(kA);
  CHECK(q->len() == 0);
  CHECK_FALSE(q->get_until(clock.now()).has_value());
  q->done(kA);
  CHECK(q->len() == 1);
  CHECK(q->get_until(clock.now()) == kA);
  q->done(kA);
  CHECK(q->len() == 0);
}

TEST_CASE("no two workers ever process one key at the same time") {
  FakeClock clock;
  auto q = make_queue(clock);
  std::mutex mu;
  std::map<ObjectKey, int> in_flight;
  std::atomic<int> violations{0};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q->get()) {
        {
          std::lock_guard lock(mu);
          if (++in_flight[*key] > 1) violations++;
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mu);
          --in_flight[*key];
        }
        processed++;
        q->done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) q->add(ObjectKey{"ns", "k" + std::to_string(i % 3)});
  CHECK(sot::test::eventually([&] { return q->len() == 0 && q->processing_len() == 0; }));
  q->shut_down();
  for (auto& t : workers) t.join();
  CHECK(violations == 0);
  CHECK(processed >= 3);
}

TEST_CASE("per-key exponential backoff: 5 ms doubling, capped at 1000 s, forgotten on success") {
  ExponentialRateLimiter limiter(5ms, 1000s);
  const ObjectKey other{"ns", "other"};
  std::vector<Duration> got;
  for (int i = 0; i < 5; ++i) got.push_back(limiter.when(kA));
  CHECK(got == std::vector<Duration>{5ms, 10ms, 20ms, 40ms, 80ms});
  CHECK(limiter.when(other) == Duration(5ms));  // keys are independent
  CHECK(limiter.num_requeues(kA) == 5);
  for (int i = 5; i < 17; ++i) (void)limiter.when(kA);
  CHECK(limiter.when(kA) == Duration(std::chrono::microseconds(655'360'000)));  // 5 ms * 2^17
  CHECK(limiter.when(kA) == Duration(1000s));                                   // 5 ms * 2^18 > cap
  for (int i = 0; i < 100; ++i) (void)limiter.when(kA);
  CHECK(limiter.when(kA) == Duration(1000s));
  limiter.forget(kA);
  CHECK(limiter.num_requeues(kA) == 0);
  CHECK(limiter.when(kA) == Duration(5ms));
}

TEST_CASE("the default controller limiter also caps the overall retry rate at 10/s after a burst of 100") {
  FakeClock clock;
  auto limiter = default_controller_rate_limiter(clock);
  for (int i = 0; i < 100; ++i) CHECK(limiter->when(ObjectKey{"ns", std::to_string(i)}) == Duration(5ms));
  // The 101st distinct key waits for a token: 100 ms at 10 qps.
  CHECK(limiter->when(ObjectKey{"ns", "x"}) == Duration(100ms));
  clock.advance(10s);  // the bucket refills
  CHECK(limiter->when(ObjectKey{"ns", "y"}) == Duration(5ms));
}

TEST_CASE("add_after delays a key until the clock reaches its time; the earliest time wins") {
  FakeClock clock;
  auto q = make_queue(clock);
  q->add_after(kA, 10s);
  q->add_after(kA, 2s);   // earlier: replaces
  q->add_after(kA, 30s);  // later: ignored
  CHECK(q->len() == 0);
  CHECK(q->delayed_len() == 1);
  clock.advance(1999ms);
  CHECK_FALSE(q->get_until(clock.now()).has_value());
  clock.advance(1ms);
  CHECK(q->get_until(clock.now()) == kA);
  q->done(kA);
  clock.advance(60s);
  CHECK_FALSE(q->get_until(clock.now()).has_value());
}

TEST_CASE("a blocked get() wakes when the fake clock reaches a delayed key") {
  FakeClock clock;
  auto q = make_queue(clock);
  std::optional<ObjectKey> got;
  std::thread t([&] { got = q->get(); });
  q->add_after(kB, 5s);
  REQUIRE(clock.wait_for_waiters(1));
  clock.advance(4s);
  REQUIRE(clock.wait_for_waiters(1));
  CHECK_FALSE(got.has_value());
  clock.advance(1s);
  t.join();
  CHECK(got == kB);
}

TEST_CASE("add_rate_limited follows the backoff sequence; forget resets it") {
  FakeClock clock;
  auto q = make_queue(clock);
  for (Duration expected : {Duration(5ms), Duration(10ms), Duration(20ms)}) {
    q->add_rate_limited(kA);
    REQUIRE(q->next_ready().has_value());
    CHECK(*q->next_ready() - clock.now() == expected);
    clock.advance(expected);
    REQUIRE(q->get_until(clock.now()) == kA);
    q->done(kA);
  }
  CHECK(q->num_requeues(kA) == 3);
  q->forget(kA);
  q->add_rate_limited(kA);
  CHECK(*q->next_ready() - clock.now() == Duration(5ms));
}

TEST_CASE("shut_down wakes blocked workers and refuses new keys") {
  FakeClock clock;
  auto q = make_queue(clock);
  std::optional<ObjectKey> got = kA;
  std::thread t([&] { got = q->get(); });
  REQUIRE(clock.wait_for_waiters(1));
  q->shut_down();
  t.join();
  CHECK_FALSE(got.has_value());
  q->add(kB);
  CHECK(q->len() == 0);
}

TEST_CASE("queue metrics count adds, retries and depth") {
  FakeClock clock;
  prometheus::Registry registry;
  WorkQueue q(clock, std::make_unique<ExponentialRateLimiter>(5ms, 1000s), make_queue_metrics(registry, "test"));
  q.add(kA);
  q.add(kA);
  q.add(kB);
  auto m = make_queue_metrics(registry, "test");
  CHECK(m.adds->Value() == 2);
  CHECK(m.depth->Value() == 2);
  q.add_rate_limited(kA);
  CHECK(m.retries->Value() == 1);
  (void)q.get_until(clock.now());
  CHECK(m.depth->Value() == 1);
}

TEST_CASE("reconnect backoff: 0.8 s doubling to 30 s with jitter, reset after 2 minutes of health") {
  FakeClock clock;
  Backoff b(clock, BackoffOptions{}, 42);
  double expected = 0.8;
  for (int i = 0; i < 10; ++i) {
    const double got = std::chrono::duration<double>(b.next()).count();
    CHECK(got >= expected - 1e-9);
    CHECK(got < 2 * expected + 1e-9);
    expected = std::min(expected * 2, 30.0);
  }
  clock.advance(3min);
  const double after_reset = std::chrono::duration<double>(b.next()).count();
  CHECK(after_reset >= 0.8);
  CHECK(after_reset < 1.6);
}
