// poolctl entry point: everything lives in run_poolctl() (poolctl_app.hpp).
#include <unistd.h>

#include <iostream>

#include "cli/poolctl/poolctl_app.hpp"

int main(int argc, char** argv) {
  const bool interactive = ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
  return poolreg::poolctl::run_poolctl(argc, argv, std::cout, std::cerr, interactive);
}
