// reel: one binary, many subcommands; everything lives in the component libraries.
#include "cli/cli.h"

int main(int argc, char** argv) {
  return reel::cli::run(argc, argv);
}
