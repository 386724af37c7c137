//===- qtc-run.cpp - Run a .qtc artifact: generate, score, perplexity -----===//
//
// Exit status: 0 on success, 1 when the run fails (missing or corrupted
// artifact, backend unavailable, bad request), 2 on a bad command line.
//
//===----------------------------------------------------------------------===//

#include "RunCommands.h"
#include "RunOptions.h"

#include "qtc/rt/ArtifactFormat.h"
#include "qtc/rt/Engine.h"

#include <exception>
#include <iostream>

using namespace qtc;

static int runMain(int argc, char **argv) {
  rt::StatusOr<run::RunOptions> options = run::parseRunOptions(argc, argv);
  if (!options) {
    std::cerr << "qtc-run: " << options.status().message() << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << run::runUsage();
    return 0;
  }
  if (options->version) {
    std::cout << "qtc-run " << QTC_RUNTIME_VERSION << " (artifact schema "
              << rt::kSchemaVersion << ")\n";
    return 0;
  }
  if (options->mode == run::Mode::kInfo) {
    rt::LoadOptions load;
    load.format = options->engine.loadFormat;
    load.dummySeed = options->engine.dummyWeightSeed;
    rt::StatusOr<std::unique_ptr<rt::Artifact>> artifact =
        rt::Artifact::open(options->artifactPath, load);
    // An artifact compiled with --dummy-weights opens with generated weights
    // only; describing it needs none, so --info opens it that way.
    if (!artifact && load.format == rt::LoadFormat::kAuto &&
        artifact.status().code() == rt::StatusCode::kFailedPrecondition) {
      load.format = rt::LoadFormat::kDummy;
      rt::StatusOr<std::unique_ptr<rt::Artifact>> dummy =
          rt::Artifact::open(options->artifactPath, load);
      if (dummy && (*dummy)->root().dummy_weights())
        artifact = std::move(dummy);
    }
    if (!artifact) {
      std::cerr << "qtc-run: " << artifact.status().toString() << "\n";
      return 1;
    }
    rt::Status status = run::runInfo(**artifact, *options);
    if (!status.isOk()) {
      std::cerr << "qtc-run: " << status.toString() << "\n";
      return 1;
    }
    return 0;
  }
  rt::StatusOr<std::unique_ptr<rt::Engine>> engine =
      rt::Engine::create(options->artifactPath, options->engine);
  if (!engine) {
    std::cerr << "qtc-run: " << engine.status().toString() << "\n";
    return 1;
  }
  rt::Status status;
  switch (options->mode) {
  case run::Mode::kGenerate:
    status = options->continuous ? run::runContinuous(**engine, *options)
                                 : run::runGenerate(**engine, *options);
    break;
  case run::Mode::kScore:
    status = run::runScore(**engine, *options);
    break;
  case run::Mode::kPerplexity:
    status = run::runPerplexity(**engine, *options);
    break;
  case run::Mode::kInfo:
    break; // handled above, without an engine
  }
  if (!status.isOk()) {
    std::cerr << "qtc-run: " << status.toString() << "\n";
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  try {
    return runMain(argc, argv);
  } catch (const std::exception &error) {
    // Allocation failures and the like; everything else is a Status.
    std::cerr << "qtc-run: internal error: " << error.what() << "\n";
    return 1;
  }
}
