// Why: builds the adapters from the typed config, starts the main and metrics listeners, migrates
// in the background (a replica whose database is not up yet stays alive but not ready), and owns
// the shutdown sequence: readiness 503 at once, stop accepting, let in-flight requests finish
// (SHUTDOWN_TIMEOUT_SECONDS, 25 s by default, inside Kubernetes' 30 s grace period), close, exit 0.
#include "service/server_main.h"

#include <csignal>
#include <cstdio>
#include <thread>
#include <unistd.h>

#include "core/log.h"
#include "http/http_client.h"
#include "http/http_server.h"
#include "service/application.h"
#include "service/pdf_sandbox.h"
#include "storage/migrations.h"
#include "storage/pg_pool.h"
#include "storage/redis.h"

namespace sot {

int run_server(const EnvLookup& env) {
  // Signals are taken by sigwait below; every thread created from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto loaded = load_config(env);
  if (!loaded) {
    log::error("invalid configuration", {{"error", loaded.error().message}});
    std::fprintf(stderr, "stillontime-server: invalid configuration: %s\n", loaded.error().message.c_str());
    return 2;
  }
  const Config config = std::move(loaded).value();
  log::set_level(config.log_level);

  Metrics metrics;
  SystemClock clock;
  auto pool =
      db::make_pg_pool(db::PoolOptions{config.database_url, config.db_pool_size, config.db_connect_timeout_seconds,
                                       config.db_statement_timeout_ms, std::chrono::milliseconds(3000)},
                       &metrics.registry());
  auto redis = kv::make_redis_pool(kv::RedisOptions{config.redis, config.redis_pool_size, config.redis_timeout_ms},
                                   &metrics.registry());
  auto client = http::make_cpprest_client();
  PdfSandboxOptions pdf_options;
  pdf_options.helper_path =
      config.pdf_extractor_path.empty() ? PdfSandbox::default_helper_path() : config.pdf_extractor_path;
  pdf_options.cpu_seconds = config.pdf_extract_cpu_seconds;
  pdf_options.memory_bytes = static_cast<std::size_t>(config.pdf_extract_memory_mb) * 1024 * 1024;
  pdf_options.timeout = std::chrono::seconds(config.pdf_extract_timeout_seconds);
  pdf_options.max_text_bytes = static_cast<std::size_t>(config.pdf_extract_max_text_kb) * 1024;
  pdf_options.concurrency = config.pdf_extract_concurrency;
  if (access(pdf_options.helper_path.c_str(), X_OK) != 0) {
    const std::string why = "PDF_EXTRACTOR_PATH: " + pdf_options.helper_path + " is not an executable file";
    log::error("invalid configuration", {{"error", why}});
    std::fprintf(stderr, "stillontime-server: invalid configuration: %s\n", why.c_str());
    return 2;
  }
  PdfSandbox pdf(pdf_options);
  Application app(Dependencies{config, *pool, *redis, *client, clock, metrics, pdf});

  http::ServerOptions options;
  options.threads = config.http_threads;
  options.worker_threads = config.http_workers;
  options.max_body_bytes = config.max_body_bytes;
  options.idle_timeout = config.idle_timeout;
  options.on_accept_error = [&metrics] { metrics.accept_failed(); };
  options.run_inline = [](std::string_view path) {
    return path == "/health" || path == "/health/live" || path == "/ready";
  };
  auto server = http::make_beast_server(options);
  auto port = server->start(config.bind_address, config.port, [&app](http::Request& r) { return app.handle(r); });
  if (!port) {
    log::error("cannot start HTTP server", {{"error", port.error().message}});
    return 1;
  }
  http::ServerOptions metrics_options;
  metrics_options.threads = 1;
  metrics_options.worker_threads = 1;
  metrics_options.max_body_bytes = 64 * 1024;
  auto metrics_server = http::make_beast_server(metrics_options);
  auto metrics_port = metrics_server->start(config.bind_address, config.metrics_port,
                                            [&app](http::Request& r) { return app.handle_metrics(r); });
  if (!metrics_port) {
    log::error("cannot start metrics server", {{"error", metrics_port.error().message}});
    server->stop();
    return 1;
  }
  log::info("listening", {{"port", *port},
                          {"metricsPort", *metrics_port},
                          {"environment", app_env_name(config.env)},
                          {"database", log::redact_url(config.database_url)},
                          {"redis", config.redis.host + ":" + std::to_string(config.redis.port)},
                          {"httpThreads", config.http_threads},
                          {"httpWorkers", config.http_workers},
                          {"version", STILLONTIME_VERSION}});

  std::atomic<bool> stopping{false};
  std::atomic<int> exit_code{0};
  std::mutex migrate_mutex;
  std::condition_variable migrate_cv;
  std::thread migrator([&] {
    if (!config.migrate_on_start) return;
    auto delay = std::chrono::milliseconds(500);
    while (!stopping.load()) {
      auto report = db::migrate(*pool, db::embedded_migrations());
      if (report) {
        log::info("schema up to date", {{"version", report->current}, {"appliedNow", report->applied}});
        app.health().check_now();
        return;
      }
      if (report.error().code != ErrorCode::kUnavailable) {
        log::error("migration failed; stopping", {{"error", report.error().message}});
        exit_code = 1;
        kill(getpid(), SIGTERM);
        return;
      }
      log::warn("database not reachable for migrations; retrying",
                {{"error", report.error().message}, {"retryInMs", delay.count()}});
      std::unique_lock<std::mutex> lock(migrate_mutex);
      migrate_cv.wait_for(lock, delay, [&] { return stopping.load(); });
      delay = std::min(delay * 2, std::chrono::milliseconds(10000));
    }
  });
  app.start_health_monitor();

  int sig = 0;
  sigwait(&signals, &sig);
  log::info("shutdown requested",
            {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}, {"inFlight", server->in_flight()}});
  app.set_draining();
  metrics.set_ready(false);
  if (config.shutdown_delay_seconds > 0) {
    // Kubernetes removes a terminating pod from the Service's endpoints at the
    // same time as it sends SIGTERM, and kube-proxy needs a moment to follow:
    // connections keep arriving meanwhile. Serve them (readiness already says
    // 503) until the delay is over; a second signal ends the wait.
    log::info("serving during the shutdown delay", {{"delaySeconds", config.shutdown_delay_seconds}});
    timespec wait{config.shutdown_delay_seconds, 0};
    sigtimedwait(&signals, nullptr, &wait);
  }
  stopping = true;
  migrate_cv.notify_all();
  server->stop_accepting();
  const bool drained = server->wait_idle(std::chrono::seconds(config.shutdown_timeout_seconds));
  if (!drained) {
    // SHUTDOWN_TIMEOUT_SECONDS is a promise to Kubernetes (terminationGracePeriodSeconds is set
    // above it): joining the workers would wait for the slow handler, so exit now. Connections of
    // the abandoned requests are reset by the kernel; the database sees the sessions end.
    log::warn("shutdown timeout reached; abandoning requests in flight",
              {{"inFlight", server->in_flight()}, {"timeoutSeconds", config.shutdown_timeout_seconds}});
    std::fflush(nullptr);
    std::_Exit(exit_code.load());
  }
  server->stop();
  metrics_server->stop();
  app.stop_health_monitor();
  if (migrator.joinable()) migrator.join();
  log::info("stopped", {{"drained", drained}});
  return exit_code.load();
}

}  // namespace sot
