// The `reel` command line: subcommands up, serve, seed, rebuild, migrate (CLI11).
// Returns the process exit status: 0 on success, 1 on a failure (its message on stderr),
// 2 on a usage error.
#pragma once

namespace reel::cli {

int run(int argc, char** argv);

}  // namespace reel::cli
