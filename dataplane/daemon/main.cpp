// poolregd: parse the command line, load the configuration, set up logging, run the service.
#include <csignal>
#include <cstdio>
#include <exception>
#include <random>

#include "config/config_loader.hpp"
#include "dataplane/daemon/daemon_options.hpp"
#include "dataplane/daemon/application.hpp"
#include "dataplane/daemon/descriptor_limit.hpp"
#include "dataplane/daemon/dpdk_preflight.hpp"
#include "dataplane/daemon/logging.hpp"
#include "dataplane/daemon/privilege_drop.hpp"
#include "dataplane/daemon/shutdown_signals.hpp"
#include "dataplane/daemon/tls_setup.hpp"
#include "dataplane/runtime/errno_text.hpp"

namespace {

using poolreg::config::LoadResult;

LoadResult load(const poolreg::daemon::DaemonOptions& options) {
  if (options.config_path.empty()) return poolreg::config::load_embedded_default_config(options.overrides);
  return poolreg::config::load_config_file(options.config_path, options.overrides);
}

// One line when the limit was raised or is still short (past it TCP clients wait in the backlog).
void log_descriptor_limit(spdlog::logger& log, const poolreg::daemon::DescriptorLimit& l) {
  if (l.error != 0) {
    log.warn("open-file limit (RLIMIT_NOFILE) not checked/raised: {}; limits.max_associations needs about {}",
             poolreg::runtime::errno_text(l.error), l.needed);
  } else if (!l.enough()) {
    log.warn("open-file limit (RLIMIT_NOFILE) {} (hard {}) is below the {} descriptors needed (limits.max_associations "
             "+ {} for listeners, lanes, control, metrics): TCP clients past it wait until descriptors free up; "
             "raise the hard limit (LimitNOFILE=, ulimit -Hn) or lower limits.max_associations",
             l.soft, l.hard, l.needed, poolreg::daemon::kDescriptorMargin);
  } else if (l.raised()) {
    log.info("open-file limit (RLIMIT_NOFILE) raised from {} to {} for limits.max_associations", l.soft_before, l.soft);
  }
}

// --dpdk --check-config: the static checks of the appliance (dpdk_preflight.hpp). Exit 0 with
// the summary (and warnings), 2 with every problem.
int check_dpdk(const poolreg::config::RegistrarConfig& config) {
  const poolreg::daemon::PreflightReport r = poolreg::daemon::check_dpdk_preflight(config, "/sys");
  for (const auto& line : r.summary) std::printf("dpdk: %s\n", line.c_str());
  for (const auto& line : r.warnings) std::printf("dpdk: warning: %s\n", line.c_str());
  for (const auto& line : r.problems) std::fprintf(stderr, "poolregd: dpdk: %s\n", line.c_str());
  if (!r.problems.empty()) {
    std::fprintf(stderr, "poolregd: %zu DPDK problem%s: not ready to start\n", r.problems.size(),
                 r.problems.size() == 1 ? "" : "s");
    return 2;
  }
  std::printf("dpdk: ready (%zu warning%s)\n", r.warnings.size(), r.warnings.size() == 1 ? "" : "s");
  return 0;
}

int run(const poolreg::daemon::DaemonOptions& options) {
  LoadResult loaded = load(options);
  const std::string source = options.config_path.empty()
                                 ? std::string(poolreg::config::kEmbeddedConfigSourceName)
                                 : options.config_path;
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::fprintf(stderr, "poolregd: %zu configuration error%s in %s\n", loaded.errors.size(),
                 loaded.errors.size() == 1 ? "" : "s", source.c_str());
    return 1;
  }
  if (options.check_config) {
    if (!loaded.config.registrar.user.empty()) {
      // The user to switch to must exist here (start-up would stop on it).
      auto run_as = poolreg::daemon::resolve_run_as(loaded.config.registrar.user, loaded.config.registrar.group);
      if (!run_as) {
        std::fprintf(stderr, "%s: %s\n", source.c_str(), run_as.error().c_str());
        return 1;
      }
    }
    // Certificates and keys parse and match (the validation only saw that the files are there).
    if (auto tls = poolreg::daemon::make_tls_contexts(loaded.config.tls); !tls) {
      std::fprintf(stderr, "%s: %s\n", source.c_str(), tls.error().c_str());
      return 1;
    }
    std::printf("%s: configuration OK\n", source.c_str());
    if (!loaded.config.dpdk.enabled) return 0;
    return check_dpdk(loaded.config);
  }
  if (options.print_dpdk_setup) {
    std::fputs(poolreg::daemon::dpdk_setup_plan(loaded.config).c_str(), stdout);
    return 0;
  }
  if (options.print_config) {
    std::fputs(poolreg::config::dump_effective_config(loaded.config).c_str(), stdout);
    return 0;
  }

  // Before any thread exists: the signal mask is inherited by every thread started later.
  poolreg::daemon::ShutdownSignals signals;
  std::signal(SIGPIPE, SIG_IGN);  // a peer closing a socket must not kill the registrar
  auto logger = poolreg::daemon::make_daemon_logger(loaded.config.registrar);
  std::random_device entropy;
  std::mt19937_64 random(((std::uint64_t{entropy()} << 32) | entropy()));
  const poolreg::RegistrarId id = poolreg::config::choose_registrar_id(loaded.config.registrar, random);
  logger->info("poolregd {} starting, configuration {}", POOLREG_VERSION, source);
  log_descriptor_limit(*logger, poolreg::daemon::ensure_descriptor_limit(
                                    poolreg::daemon::descriptors_needed(loaded.config)));

  poolreg::daemon::Application application(
      {loaded.config, id, *logger, options.sctp_udp, options.config_path, options.overrides});
  return application.run(signals);
}

}  // namespace

int main(int argc, char** argv) {
  poolreg::daemon::DaemonOptions options;
  if (auto exit_code = poolreg::daemon::parse_daemon_options(argc, argv, &options)) return *exit_code;
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "poolregd: start-up failed: %s\n", e.what());
    return 1;
  }
}
