// Lane partition (see lane_partition.hpp).
#include "perf/poolgen/lane_partition.hpp"

#include <algorithm>

namespace poolreg::poolgen {

std::uint64_t lane_share(std::uint64_t total, std::uint32_t lanes, std::uint32_t lane) noexcept {
  if (lanes == 0 || lane >= lanes) return 0;
  return total / lanes + (lane < total % lanes ? 1 : 0);
}

std::uint64_t lane_first(std::uint64_t total, std::uint32_t lanes, std::uint32_t lane) noexcept {
  if (lanes == 0) return 0;
  lane = std::min(lane, lanes);
  return static_cast<std::uint64_t>(lane) * (total / lanes) + std::min<std::uint64_t>(lane, total % lanes);
}

std::vector<PoolgenConfig> partition_lanes(const PoolgenConfig& config) {
  const std::uint32_t lanes = std::max<std::uint32_t>(1, config.threads);
  std::vector<PoolgenConfig> out;
  out.reserve(lanes);
  std::uint64_t id_base = 0;
  for (std::uint32_t k = 0; k < lanes; ++k) {
    PoolgenConfig c = config;
    c.lane = k;
    c.lanes = lanes;
    c.pes = lane_share(config.pes, lanes, k);
    c.load_pe_base = lane_first(config.pes, lanes, k);
    c.probes = k == 0 ? config.probes : 0;
    c.pe_id_base = id_base;
    id_base += c.pes + c.probes;
    // Rates follow the share of the items they drive, so every lane ramps in the same time.
    const double pe_part = config.pes == 0 ? 0 : static_cast<double>(c.pes) / static_cast<double>(config.pes);
    c.register_rate = config.register_rate * pe_part;
    c.pus = lane_share(config.pus, lanes, k);
    const double pu_part = config.pus == 0 ? 0 : static_cast<double>(c.pus) / static_cast<double>(config.pus);
    c.resolve_rate = config.resolve_rate * pu_part;
    c.pe_associations = std::max<std::uint32_t>(
        1, static_cast<std::uint32_t>(lane_share(config.pe_associations, lanes, k)));
    c.seed = config.seed + k;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace poolreg::poolgen
