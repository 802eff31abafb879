// `xpusim calibrate` and `validate --cv`: the fit recovers constants it is given cases of, refuses what it cannot
// fit, writes an overlay that `run` accepts; Vidur's profile CSVs are read as GEMM cases with their source.
#include <yaml-cpp/yaml.h>

#include <array>
#include <cmath>

#include "sim/config/errors.h"
#include "sim/validate/cases_file.h"
#include "test_support.h"

using namespace xpu;
using namespace xpu::test;

namespace {

// GEMM cases measured on a config: `validate --out` with the given overrides, its predictions as the measurements.
std::string generated_cases(const TempDir& dir, const std::string& overrides) {
  nlohmann::json rows = nlohmann::json::array();
  for (auto [m, n, k] : std::vector<std::array<int, 3>>{
           {1, 8192, 8192}, {16, 4096, 11008}, {32, 22016, 4096}, {4096, 4096, 4096}, {2048, 8192, 8192}})
    rows.push_back({{"M", m}, {"N", n}, {"K", k}, {"dtype", "bfloat16"}, {"ms_cold", 1.0}});
  std::string probe = dir.write("probe.json", nlohmann::json{{"gemm", rows}}.dump());
  std::string out = (dir.path / "probe_out.json").string();
  Run r = xpusim("validate --hw configs/h100.yaml --cases '" + probe + "' -q --out '" + out + "' " + overrides, dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  nlohmann::json sim = nlohmann::json::parse(read_file(out));
  for (size_t i = 0; i < rows.size(); ++i) rows[i]["ms_cold"] = sim["gemm"][i]["sim_ms"];
  return dir.write("measured.json", nlohmann::json{{"gemm", rows}}.dump());
}

// The MAPE `validate` prints for a metric: the first percentage after the '|' on that metric's line (100 if absent).
double printed_mape(const std::string& output, const std::string& metric) {
  const size_t at = output.find(metric);
  if (at == std::string::npos) return 100;
  std::istringstream line(output.substr(output.find('|', at) + 1));
  double pct = 100;
  line >> pct;
  return pct;
}

// The three percentages of a family's line in a cross-validation table ("family  rows |  base  fitted  cross-
// validated"), or NaNs where the table has no such line.
std::array<double, 3> cv_figures(const std::string& output, const std::string& family) {
  const size_t at = output.find("\n" + family + " ");
  if (at == std::string::npos) return {NAN, NAN, NAN};
  std::istringstream line(output.substr(output.find('|', at) + 1));
  double base = NAN, fitted = NAN, cv = NAN;
  char pct = 0;
  line >> base >> pct >> fitted >> pct >> cv;
  return {base, fitted, cv};
}

// Vidur's H100 profiles under ../shared (or $XPUSIM_SHARED); empty, with a warning, where they are absent.
std::string vidur_h100_dir() {
  const char* shared = std::getenv("XPUSIM_SHARED");
  std::string dir = std::string(shared ? shared : "../shared") + "/calibration/vidur/h100/";
  if (fs::exists(dir + "phi-2_mlp.csv")) return dir;
  WARN("no Vidur profiles under " << dir << ": not checked");
  return "";
}

}  // namespace

TEST_CASE("calibrate: recovers the constants that generated the cases, within 2%", "[calibrate]") {
  TempDir dir;
  std::string cases = generated_cases(dir, "-p hbm.stream_efficiency=0.65 -p gpu.matrix_efficiency_by_dtype.bf16=0.6");
  std::string out = (dir.path / "fitted.yaml").string();
  Run r = xpusim("calibrate --hw configs/h100.yaml --cases '" + cases +
                     "' --fit hbm.stream_efficiency,gpu.matrix_efficiency_by_dtype.bf16 --folds 0 --max-evals 80 -q "
                     "--out '" + out + "'",
                 dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  YAML::Node y = YAML::LoadFile(out);
  CHECK(y["components"]["hbm"]["stream_efficiency"].as<double>() == Approx(0.65).epsilon(0.02));
  CHECK(y["components"]["gpu"]["matrix_efficiency_by_dtype"]["bf16"].as<double>() == Approx(0.6).epsilon(0.02));
  CHECK(y["calibration"]["fitted"]["hbm.stream_efficiency"]["base"].as<double>() == Approx(0.9));
  // The base config was wrong on these cases and the fit is not: the report says both.
  CHECK(y["calibration"]["mape_pct"]["all"]["base"].as<double>() > 10);
  CHECK(y["calibration"]["mape_pct"]["all"]["fitted"].as<double>() < 1);

  // The overlay is a config: `run` accepts it, with the fitted value in force.
  nlohmann::json res = run_json("run --hw '" + out + "' -w workloads/examples/tiny-explicit.yaml", dir);
  CHECK(std::stod(res["effective_config"]["components"]["hbm"]["stream_efficiency"].get<std::string>()) ==
        Approx(0.65).epsilon(0.02));
  // ... and `validate` on it reproduces the cases it was fitted to.
  Run v = xpusim("validate --hw '" + out + "' --cases '" + cases + "' -q", dir);
  INFO(v.output);
  CHECK(v.status == 0);
  // "gemm  ms_cold  5 |  MAPE ...": within the fit's tolerance of the cases.
  CHECK(printed_mape(v.output, "ms_cold") <= 0.3);
}

TEST_CASE("calibrate: cross-validation predicts each fold with constants fitted on the others", "[calibrate]") {
  TempDir dir;
  std::string cases = generated_cases(dir, "-p hbm.stream_efficiency=0.7");
  Run r = xpusim("validate --hw configs/h100.yaml --cases '" + cases +
                     "' --cv 5 --fit hbm.stream_efficiency --max-evals 30 -q",
                 dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("cross-validated") != std::string::npos);
  CHECK(r.output.find("gemm/bfloat16/stream") != std::string::npos);
  // One constant that explains every row: held-out rows are predicted as well as the fitted ones.
  auto line = r.output.substr(r.output.find("\nall"));
  CHECK(line.find("0.0%") != std::string::npos);
}

TEST_CASE("calibrate: a --fit path the config does not have is an input error at the config", "[calibrate]") {
  TempDir dir;
  std::string cases = generated_cases(dir, "");
  Run r = xpusim("calibrate --hw configs/h100.yaml --cases '" + cases +
                     "' --fit gpu.matrix_efficency --folds 0 -q --out '" + (dir.path / "f.yaml").string() + "'",
                 dir);
  CHECK(r.status == 2);
  CHECK(r.output.find("configs/h100.yaml:") != std::string::npos);
  CHECK(r.output.find("no parameter 'matrix_efficency' (did you mean 'matrix_efficiency'?)") != std::string::npos);
  Run c = xpusim("calibrate --hw configs/h100.yaml --cases '" + cases + "' --fit gpux.clock --folds 0 -q --out '" +
                     (dir.path / "f.yaml").string() + "'",
                 dir);
  CHECK(c.status == 2);
  CHECK(c.output.find("no component 'gpux' (did you mean 'gpu'?)") != std::string::npos);
  Run i = xpusim("calibrate --hw configs/h100.yaml --cases '" + cases + "' --fit gpu.units --folds 0 -q --out '" +
                     (dir.path / "f.yaml").string() + "'",
                 dir);
  CHECK(i.status == 2);
  CHECK(i.output.find("only real numbers and quantities can be fitted") != std::string::npos);
  // Options of the cross-validation are refused without it rather than ignored.
  Run nf = xpusim("validate --hw configs/h100.yaml --cases '" + cases + "' --fit hbm.stream_efficiency -q", dir);
  CHECK(nf.status == 2);
  CHECK(nf.output.find("--fit requires --cv") != std::string::npos);
  Run e = xpusim("validate --hw configs/h100.yaml --cases '" + dir.write("empty.json", "{}") + "' -q", dir);
  CHECK(e.status == 2);
  CHECK(e.output.find("empty.json: error: not a cases file") != std::string::npos);
}

TEST_CASE("cases: a Vidur profile CSV gives four fp16 GEMMs per row, warm kernel time, with their source",
          "[calibrate]") {
  TempDir dir;
  const std::string header =
      "time_stats.attn_pre_proj.median,time_stats.attn_post_proj.median,time_stats.mlp_up_proj.median,"
      "time_stats.mlp_down_proj.median,n_head,n_kv_head,n_embd,n_expanded_embd,vocab_size,use_gated_mlp,"
      "num_tokens,num_tensor_parallel_workers\n";
  std::string csv = dir.write("llama2-7b_mlp.csv", header + "0.5,0.2,1.0,0.4,32,8,4096,11008,32000,True,512,2\n");
  nlohmann::json c = load_cases_file(csv);
  REQUIRE(c["gemm"].size() == 4);
  const auto& qkv = c["gemm"][0];
  CHECK(qkv["M"] == 512);
  CHECK(qkv["N"] == (32 + 2 * 8) * 128 / 2);  // grouped KV heads, the tensor-parallel slice
  CHECK(qkv["K"] == 4096);
  CHECK(qkv["dtype"] == "float16");
  CHECK(qkv["ms_warm"] == 0.5);
  CHECK(qkv["timing"] == "kernel");
  CHECK(qkv["source"] == csv + ":2");
  CHECK(qkv["tag"] == "llama2-7b/attn_pre_proj/tp2");
  CHECK(c["gemm"][2]["N"] == 2 * 11008 / 2);  // gate and up fused
  CHECK(c["gemm"][3]["K"] == 11008 / 2);

  std::string bad = dir.write("bad_mlp.csv", header + "0.5,0.2,x,0.4,32,8,4096,11008,32000,True,512,2\n");
  try {
    load_cases_file(bad);
    FAIL("a bad number was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find(bad + ":2:1: error: column 'time_stats.mlp_up_proj.median'") != std::string::npos);
  }
  std::string wrong = dir.write("odd_mlp.csv", header + "0.5,0.2,1,0.4,32,8,4096,11008,32000,True,512,3\n");
  CHECK_THROWS_AS(load_cases_file(wrong), InputError);
}

TEST_CASE("cases: the shared Vidur H100 profiles are read whole", "[calibrate]") {
  const std::string dir = vidur_h100_dir();
  if (dir.empty()) return;
  nlohmann::json c = load_cases({dir + "llama2-7b_mlp.csv", dir + "phi-2_mlp.csv"});
  CHECK(c["gemm"].size() == 4 * (1044 + 261));
}

TEST_CASE("cases: the H100 config on another team's profiles it was not fitted to", "[calibrate][heldout]") {
  // A guard, not a target (issue 17 asks 8 %): Vidur's 5,220 fp16 GEMMs as README's "Data the model never saw"
  // reports them. A change that fits the calibration file by breaking these shows here.
  const std::string dir = vidur_h100_dir();
  if (dir.empty()) return;
  TempDir tmp;
  Run r = xpusim("validate --hw configs/h100.yaml --cases '" + dir + "llama2-7b_mlp.csv' --cases '" + dir +
                     "phi-2_mlp.csv' -q",
                 tmp);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(printed_mape(r.output, "ms_warm") <= 11.0);
}

TEST_CASE("calibrate: left out, another team's profiles are predicted as badly as the shipped config predicts them",
          "[calibrate][cv]") {
  // The honest estimate of error on an unseen harness: fit the stream rate on the calibration file alone, predict
  // Vidur's phi-2 profiles. It must say what the shipped config (fitted to that file) really scores on them, within 3
  // points, and stay under the held-out bar. (Refitting fp16's efficiency instead would carry the calibration
  // harness's slow fp16 kernels over: 13.5 % against 9.8 %, which the table then shows.)
  const std::string dir = vidur_h100_dir();
  if (dir.empty()) return;
  TempDir tmp;
  Run r = xpusim("validate --hw configs/h100.yaml --cases tests/data/calibration/h100_calibration.json --cases '" +
                     dir + "phi-2_mlp.csv' --leave-source-out --fit hbm.stream_efficiency --max-evals 4 -q",
                 tmp);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto phi = cv_figures(r.output, "source phi-2_mlp.csv");
  const double base = phi[0], cv = phi[2];
  REQUIRE_FALSE(std::isnan(cv));
  CHECK(std::abs(cv - base) <= 3.0);
  CHECK(cv <= 12.0);
}

TEST_CASE("calibrate: the shipped H100 config's cross-validated error on its calibration data", "[calibrate][cv]") {
  // `validate --cv 5` on every row of tests/data/calibration/h100_calibration.json, refitting two constants that
  // carry many of its rows (bf16 matrix efficiency, the dirty share a flush leaves). The bars are where the model
  // stands, a few points looser than today's figures (README); the held-out sets of other harnesses are worse
  // (models/README.md).
  TempDir dir;
  Run r = xpusim("validate --hw configs/h100.yaml --cases tests/data/calibration/h100_calibration.json --cv 5 "
                 "--fit gpu.matrix_efficiency_by_dtype.bf16,l2.flush_dirty --max-evals 12 -q",
                 dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto figures = [&](const std::string& family) {
    const auto f = cv_figures(r.output, family);
    REQUIRE_FALSE(std::isnan(f[2]));
    return f;
  };
  const auto all = figures("all");
  CHECK(all[2] <= 9.0);
  CHECK(std::abs(all[2] - all[1]) <= 3.0);  // the estimate of unseen-row error is not flattered by the fit
  CHECK(figures("gemm/bfloat16/large")[2] <= 8.0);
  CHECK(figures("gemm/bfloat16/stream")[2] <= 10.0);
  CHECK(figures("embedding_bag/float32")[2] <= 8.0);
  CHECK(figures("attention/prefill_causal")[2] <= 12.0);
}

TEST_CASE("calibrate: leaving one source out predicts each harness from the others", "[calibrate][cv]") {
  // Two "harnesses" whose GEMV rows stream at different rates: fitted together, one stream efficiency splits the
  // difference; left out, each source is predicted from the other alone, so its error is the whole gap. With
  // agreeing sources the same check is near zero.
  TempDir dir;
  auto copy_as = [&](const std::string& from, const std::string& name) { return dir.write(name, read_file(from)); };
  const std::string slow = copy_as(generated_cases(dir, "-p hbm.stream_efficiency=0.6"), "slow.json");
  const std::string fast = copy_as(generated_cases(dir, "-p hbm.stream_efficiency=0.9"), "fast.json");
  const std::string again = copy_as(generated_cases(dir, "-p hbm.stream_efficiency=0.6"), "again.json");
  auto cv_all = [&](const std::string& a, const std::string& b) {
    Run r = xpusim("validate --hw configs/h100.yaml --cases '" + a + "' --cases '" + b +
                       "' --leave-source-out --fit hbm.stream_efficiency --max-evals 24 -q",
                   dir);
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK(r.output.find("Cross-validation by source") != std::string::npos);
    CHECK(r.output.find("\nsource " + fs::path(a).filename().string()) != std::string::npos);
    CHECK(r.output.find("\nsource " + fs::path(b).filename().string()) != std::string::npos);
    const auto all = cv_figures(r.output, "all");
    REQUIRE_FALSE(std::isnan(all[2]));
    return std::array<double, 2>{all[1], all[2]};
  };
  const auto agree = cv_all(slow, again), disagree = cv_all(slow, fast);
  CHECK(agree[1] < 2.0);
  CHECK(disagree[1] > agree[1] + 5.0);
  CHECK(disagree[1] > disagree[0]);  // the held-out harness is worse than the joint fit claims
  // One source cannot be left out.
  Run one = xpusim("validate --hw configs/h100.yaml --cases '" + slow + "' --leave-source-out -q", dir);
  CHECK(one.status == 2);
  CHECK(one.output.find("needs rows from at least two sources") != std::string::npos);
}
