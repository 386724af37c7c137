//===- ContinuousCommand.cpp - qtc-run --continuous -----------------------===//
//
// Serves the prompts as requests through the Engine's continuous batching:
// requests are added when they arrive (all at once, or a seeded Poisson
// process of --request-rate per second, as serving benchmarks do), and the
// engine is stepped while any is unfinished. Per request: time to first
// token (from arrival), time per output token after the first, latency.
// Request i samples with seed --seed + i.
//
//===----------------------------------------------------------------------===//

#include "RunCommands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <thread>

namespace qtc::run {
namespace {

using nlohmann::json;
using rt::Status;
using rt::StatusOr;
using Clock = std::chrono::steady_clock;

struct RequestRecord {
  rt::RequestId id = -1;
  double arrival = 0;     // seconds from the start
  double firstToken = -1; // when its first token came back
  double done = -1;
  std::vector<int32_t> tokens;
  int64_t cachedPromptTokens = 0;
  rt::FinishReason finish = rt::FinishReason::kNone;
};

// The q-quantile (0..1) of `values`, nearest rank; 0 for none.
double quantile(std::vector<double> values, double q) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

std::vector<double> arrivalTimes(size_t count, double rate, uint64_t seed) {
  std::vector<double> times(count, 0.0);
  if (rate <= 0)
    return times;
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate);
  double t = 0;
  for (double &time : times) {
    time = t;
    t += gap(rng);
  }
  return times;
}

} // namespace

Status runContinuous(rt::Engine &engine, const RunOptions &options) {
  StatusOr<std::vector<std::vector<int32_t>>> prompts = generatePrompts(engine, options);
  if (!prompts)
    return prompts.status();
  const size_t count = prompts->size();
  const std::vector<double> arrivals =
      arrivalTimes(count, options.requestRate, options.sampling.seed);
  std::vector<RequestRecord> records(count);
  std::map<rt::RequestId, size_t> indexOf;

  const Clock::time_point start = Clock::now();
  auto now = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  size_t next = 0;
  int steps = 0, largestStep = 0;
  int64_t generated = 0;
  while (next < count || engine.hasUnfinishedRequests()) {
    for (double t = now(); next < count && arrivals[next] <= t; ++next) {
      rt::RequestOptions request;
      request.maxNewTokens = options.maxNewTokens;
      request.sampling = options.sampling;
      request.sampling.seed = options.sampling.seed + next;
      request.stopAtEos = !options.ignoreEos;
      StatusOr<rt::RequestId> id = engine.addRequest((*prompts)[next], request);
      if (!id)
        return id.status().withContext("request " + std::to_string(next));
      records[next].id = *id;
      records[next].arrival = t;
      indexOf[*id] = next;
    }
    if (!engine.hasUnfinishedRequests()) {
      std::this_thread::sleep_for(std::chrono::duration<double>(arrivals[next] - now()));
      continue;
    }
    StatusOr<std::vector<rt::RequestOutput>> outputs = engine.step();
    if (!outputs)
      return outputs.status();
    const double t = now();
    ++steps;
    largestStep = std::max(largestStep, static_cast<int>(outputs->size()));
    for (const rt::RequestOutput &out : *outputs) {
      RequestRecord &r = records[indexOf.at(out.id)];
      if (r.firstToken < 0)
        r.firstToken = t;
      r.tokens.insert(r.tokens.end(), out.newTokens.begin(), out.newTokens.end());
      generated += static_cast<int64_t>(out.newTokens.size());
      r.cachedPromptTokens = out.cachedPromptTokens;
      if (out.finished()) {
        r.finish = out.finish;
        r.done = t;
      }
    }
  }
  const double seconds = now();

  std::vector<double> ttft, tpot, latency;
  for (const RequestRecord &r : records) {
    ttft.push_back(r.firstToken - r.arrival);
    latency.push_back(r.done - r.arrival);
    if (r.tokens.size() > 1)
      tpot.push_back((r.done - r.firstToken) / static_cast<double>(r.tokens.size() - 1));
  }
  const double tokensPerSecond = seconds > 0 ? static_cast<double>(generated) / seconds : 0.0;
  const double requestsPerSecond = seconds > 0 ? static_cast<double>(count) / seconds : 0.0;

  if (options.json) {
    json out = baseJson(engine);
    out["mode"] = "continuous";
    out["request_rate"] = options.requestRate;
    out["max_running"] = options.engine.maxRunningRequests;
    out["preemptions"] = engine.numPreemptions();
    json requests = json::array();
    for (size_t i = 0; i < count; ++i) {
      const RequestRecord &r = records[i];
      StatusOr<std::string> text = textOf(engine, r.tokens);
      if (!text)
        return text.status();
      requests.push_back({{"prompt", i},
                          {"tokens", r.tokens},
                          {"text", *text},
                          {"finish", rt::finishReasonName(r.finish)},
                          {"cached_prompt_tokens", r.cachedPromptTokens},
                          {"arrival_s", r.arrival},
                          {"ttft_s", ttft[i]},
                          {"latency_s", latency[i]}});
    }
    out["requests"] = requests;
    out["steps"] = steps;
    out["largest_step"] = largestStep;
    out["generated_tokens"] = generated;
    out["seconds"] = seconds;
    out["tokens_per_s"] = tokensPerSecond;
    out["requests_per_s"] = requestsPerSecond;
    out["ttft_median_s"] = quantile(ttft, 0.5);
    out["ttft_p90_s"] = quantile(ttft, 0.9);
    out["tpot_median_s"] = quantile(tpot, 0.5);
    out["latency_median_s"] = quantile(latency, 0.5);
    printJson(out);
    return Status::ok();
  }
  printBackend(engine);
  for (size_t i = 0; i < count; ++i) {
    const RequestRecord &r = records[i];
    std::cout << "[" << i << "] ";
    QTC_RT_RETURN_IF_ERROR(printContinuation(engine, (*prompts)[i], r.tokens));
    std::cout << "  (" << r.tokens.size() << " tokens, " << rt::finishReasonName(r.finish)
              << ")\n";
  }
  std::printf("served %zu requests in %.3f s (%d steps, up to %d requests per step, "
              "%lld preempted): %.1f tokens/s, %.2f requests/s\n",
              count, seconds, steps, largestStep, static_cast<long long>(engine.numPreemptions()),
              tokensPerSecond, requestsPerSecond);
  std::printf("time to first token: median %.2f ms, p90 %.2f ms; time per output token: "
              "median %.2f ms; latency: median %.2f ms\n",
              1e3 * quantile(ttft, 0.5), 1e3 * quantile(ttft, 0.9), 1e3 * quantile(tpot, 0.5),
              1e3 * quantile(latency, 0.5));
  return Status::ok();
}

} // namespace qtc::run
