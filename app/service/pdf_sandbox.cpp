// Why: see pdf_sandbox.h. Between fork and exec the child calls only async-signal-safe system calls
// (dup2, close_range, setrlimit, execv): the server is multi-threaded, so nothing that might take a
// lock (malloc, logging) may run there. Every descriptor but the three pipes is closed, so the
// child cannot hold the listening sockets or database connections.
#include "service/pdf_sandbox.h"

#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace sot {
namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() { close_both(); }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
  void close_both() {
    close_end(0);
    close_end(1);
  }
};

void set_limit(int resource, rlim_t value) {
  rlimit limit{value, value};
  setrlimit(resource, &limit);
}

[[noreturn]] void run_child(const Pipe& in, const Pipe& out, const Pipe& err, char* const argv[],
                            const PdfSandboxOptions& o) {
  // async-signal-safe only from here on.
  if (dup2(in.fd[0], 0) < 0 || dup2(out.fd[1], 1) < 0 || dup2(err.fd[1], 2) < 0) _exit(126);
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
  {
    for (int fd = 3; fd < 65536; ++fd) ::close(fd);
  }
  // Soft CPU limit sends SIGXCPU; the hard limit a second later is SIGKILL for a child ignoring it.
  rlimit cpu{static_cast<rlim_t>(o.cpu_seconds), static_cast<rlim_t>(o.cpu_seconds + 1)};
  setrlimit(RLIMIT_CPU, &cpu);
  // The helper lowers its address space to memory_bytes itself once its libraries are mapped
  // (a limit below what the dynamic loader needs would fail the exec, not the PDF); this is the
  // backstop should it not.
  if (kAddressSpaceLimitApplies) set_limit(RLIMIT_AS, static_cast<rlim_t>(o.memory_bytes) + (256u << 20));
  set_limit(RLIMIT_CORE, 0);
  set_limit(RLIMIT_FSIZE, 0);
  set_limit(RLIMIT_NOFILE, 16);
  execv(argv[0], argv);
  _exit(127);
}

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

std::string PdfSandbox::default_helper_path() {
  std::vector<char> buf(PATH_MAX + 1, '\0');
  const ssize_t n = readlink("/proc/self/exe", buf.data(), PATH_MAX);
  if (n <= 0) return "stillontime-pdf-text";
  std::string self(buf.data(), static_cast<std::size_t>(n));
  const auto slash = self.rfind('/');
  return self.substr(0, slash + 1) + "stillontime-pdf-text";
}

Result<std::string> PdfSandbox::extract(std::string_view pdf) {
  int taken = busy_.load();
  do {
    if (taken >= options_.concurrency) {
      return make_error(ErrorCode::kUnavailable, "all " + std::to_string(options_.concurrency) +
                                                     " PDF extraction slots are busy; retry in a few seconds");
    }
  } while (!busy_.compare_exchange_weak(taken, taken + 1));
  struct Slot {
    std::atomic<int>& busy;
    ~Slot() { busy.fetch_sub(1); }
  } slot{busy_};

  // A child that dies before reading all its input makes our write() raise SIGPIPE, which would
  // kill a process that did not ignore it: block it on this thread and swallow a pending one.
  struct QuietPipe {
    sigset_t pipe_set, previous;
    QuietPipe() {
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe_set, &previous);
    }
    ~QuietPipe() {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
      }
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    }
  } quiet_pipe;

  Pipe in, out, err;
  if (pipe2(in.fd, O_CLOEXEC) != 0 || pipe2(out.fd, O_CLOEXEC) != 0 || pipe2(err.fd, O_CLOEXEC) != 0) {
    return make_error(ErrorCode::kUnavailable, "cannot start the PDF extractor: out of file descriptors");
  }
  // Everything the child needs is built before fork.
  std::string path = options_.helper_path;
  std::string text_cap = std::to_string(options_.max_text_bytes);
  std::string input_cap = std::to_string(pdf.size());
  std::string flag_text = "--max-text-bytes";
  std::string flag_input = "--max-input-bytes";
  std::string memory_cap = std::to_string(kAddressSpaceLimitApplies ? options_.memory_bytes : 0);
  std::string flag_memory = "--memory-bytes";
  char* const argv[] = {path.data(),      flag_text.data(),   text_cap.data(),   flag_input.data(),
                        input_cap.data(), flag_memory.data(), memory_cap.data(), nullptr};

  const pid_t pid = fork();
  if (pid < 0) return make_error(ErrorCode::kUnavailable, "cannot start the PDF extractor: fork failed");
  if (pid == 0) run_child(in, out, err, argv, options_);
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  set_nonblocking(in.fd[1]);
  set_nonblocking(out.fd[0]);
  set_nonblocking(err.fd[0]);

  enum class Stop { kNone, kTimeout, kTooMuchText } stop = Stop::kNone;
  std::string text, message;
  std::size_t written = 0;
  if (pdf.empty()) in.close_end(1);
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      stop = Stop::kTimeout;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in.fd[1] >= 0) idx_in = static_cast<int>(n), fds[n++] = {in.fd[1], POLLOUT, 0};
    if (out.fd[0] >= 0) idx_out = static_cast<int>(n), fds[n++] = {out.fd[0], POLLIN, 0};
    if (err.fd[0] >= 0) idx_err = static_cast<int>(n), fds[n++] = {err.fd[0], POLLIN, 0};
    const int ready = poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (idx_in >= 0 && fds[idx_in].revents) {
      const ssize_t w = ::write(in.fd[1], pdf.data() + written, std::min<std::size_t>(pdf.size() - written, 65536));
      if (w > 0) written += static_cast<std::size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == pdf.size()) in.close_end(1);
    }
    char buf[65536];
    if (idx_out >= 0 && fds[idx_out].revents) {
      const ssize_t r = ::read(out.fd[0], buf, sizeof buf);
      if (r > 0)
        text.append(buf, static_cast<std::size_t>(r));
      else if (r == 0 || (errno != EAGAIN && errno != EINTR))
        out.close_end(0);
      if (text.size() > options_.max_text_bytes) {
        stop = Stop::kTooMuchText;
        break;
      }
    }
    if (idx_err >= 0 && fds[idx_err].revents) {
      const ssize_t r = ::read(err.fd[0], buf, sizeof buf);
      if (r > 0 && message.size() < 1024)
        message.append(buf, static_cast<std::size_t>(std::min<ssize_t>(r, 1024)));
      else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
        err.close_end(0);
    }
  }
  if (stop != Stop::kNone) kill(pid, SIGKILL);
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  const double child_cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;

  const auto kib = [](std::size_t bytes) { return std::to_string(bytes / 1024) + " KiB"; };
  if (stop == Stop::kTimeout) {
    return make_error(ErrorCode::kUnprocessable, "reading the PDF took longer than " +
                                                     std::to_string(options_.timeout.count() / 1000) +
                                                     " s; it is not a call sheet we can read");
  }
  if (stop == Stop::kTooMuchText) {
    return make_error(ErrorCode::kUnprocessable, "the PDF holds more than " + kib(options_.max_text_bytes) +
                                                     " of text, too much for a call sheet");
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    // SIGKILL without the CPU used up is someone else's kill: the container's OOM killer, most likely.
    if (sig == SIGXCPU || (sig == SIGKILL && child_cpu >= options_.cpu_seconds - 0.05)) {
      return make_error(ErrorCode::kUnprocessable, "reading the PDF needs more than " +
                                                       std::to_string(options_.cpu_seconds) +
                                                       " s of CPU; it is not a call sheet we can read");
    }
    // Allocation failures under RLIMIT_AS surface as std::bad_alloc (exit 4) or as an abort.
    if (sig == SIGABRT || sig == SIGSEGV || sig == SIGBUS || sig == SIGKILL) {
      return make_error(ErrorCode::kUnprocessable, "the PDF could not be read within " +
                                                       std::to_string(options_.memory_bytes >> 20) + " MiB of memory");
    }
    return make_error(ErrorCode::kUnprocessable, "the PDF could not be read");
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 0) return text;
  if (code == 3) return make_error(ErrorCode::kUnprocessable, message.empty() ? "the PDF could not be read" : message);
  if (code == 4) {
    return make_error(ErrorCode::kUnprocessable, "the PDF could not be read within " +
                                                     std::to_string(options_.memory_bytes >> 20) + " MiB of memory");
  }
  if (code == 126 || code == 127) {
    return make_error(ErrorCode::kInternal, "the PDF extractor " + options_.helper_path + " could not be started");
  }
  return make_error(ErrorCode::kUnprocessable, "the PDF could not be read");
}

}  // namespace sot
