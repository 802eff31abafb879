#include "sim/validate/cases_file.h"

#include "sim/config/input_file.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "sim/config/errors.h"
#include "sim/validate/validate.h"

namespace xpu {
namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  // Vidur's files have no quoted fields; a quote is refused rather than misread.
  std::vector<std::string> out;
  std::string cell;
  std::stringstream ss(line);
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

double number_at(const std::vector<std::string>& cells, size_t i, const SourceMark& at, const std::string& column) {
  const std::string& s = cells[i];
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
    throw InputError(at, "column '" + column + "': expected a number, found '" + s.substr(0, 40) + "'");
  return v;
}

nlohmann::json vidur_cases(const std::string& path, std::istream& in) {
  std::string header;
  std::getline(in, header);
  if (!header.empty() && header.back() == '\r') header.pop_back();
  const auto cols = split_csv_line(header);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < cols.size(); ++i) col[cols[i]] = i;
  auto need = [&](const std::string& c) {
    auto it = col.find(c);
    if (it == col.end()) throw InputError(SourceMark{path, 1, 1}, "Vidur profile without the column '" + c + "'");
    return it->second;
  };
  const size_t c_heads = need("n_head"), c_kv = need("n_kv_head"), c_d = need("n_embd"),
               c_ffn = need("n_expanded_embd"), c_gated = need("use_gated_mlp"), c_tokens = need("num_tokens"),
               c_tp = need("num_tensor_parallel_workers");
  struct Gemm { const char* op; size_t col; };
  const std::vector<Gemm> gemms = {{"attn_pre_proj", need("time_stats.attn_pre_proj.median")},
                                   {"attn_post_proj", need("time_stats.attn_post_proj.median")},
                                   {"mlp_up_proj", need("time_stats.mlp_up_proj.median")},
                                   {"mlp_down_proj", need("time_stats.mlp_down_proj.median")}};
  // The model's name is the file's stem before the first '_' (llama2-7b_mlp.csv -> llama2-7b).
  std::string model = std::filesystem::path(path).stem().string();
  model = model.substr(0, model.find('_'));
  nlohmann::json rows = nlohmann::json::array();
  std::string line;
  int n = 1;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const SourceMark at{path, n, 1};
    if (line.find('"') != std::string::npos) throw InputError(at, "quoted CSV fields are not expected here");
    auto cells = split_csv_line(line);
    if (cells.size() != cols.size())
      throw InputError(at, "expected " + std::to_string(cols.size()) + " fields as in the header, found " +
                               std::to_string(cells.size()));
    auto integer = [&](size_t c) {
      double v = number_at(cells, c, at, cols[c]);
      if (v < 1 || v > 1e7 || v != std::floor(v))
        throw InputError(at, "column '" + cols[c] + "': expected a whole number from 1 to 1e7, found " + cells[c]);
      return int64_t(v);
    };
    const int64_t heads = integer(c_heads), kv = integer(c_kv), d = integer(c_d), ffn = integer(c_ffn),
                  m = integer(c_tokens), tp = integer(c_tp);
    const std::string gated = cells[c_gated];
    if (gated != "True" && gated != "False")
      throw InputError(at, "column 'use_gated_mlp': expected True or False, found '" + gated.substr(0, 40) + "'");
    if (d % heads || heads % kv || heads % tp || ffn % tp || d % tp)
      throw InputError(at, "n_embd, n_head, n_kv_head, n_expanded_embd and the tensor-parallel degree do not divide");
    const int64_t head_dim = d / heads;
    // The tensor-parallel slice of each GEMM (Vidur's README): M = tokens. The rows step with M in whole waves of
    // tiles (N = K = 4096: 29, 44, 66 us at M = 512, 576, 1088), so the cuBLAS of that vLLM ran data-parallel tiles,
    // not the stream-K balancing of later libraries: each row says so (`gemm_schedule`).
    const int64_t n_k[4][2] = {{(heads + 2 * kv) * head_dim / tp, d},
                               {d, d / tp},
                               {(gated == "True" ? 2 * ffn : ffn) / tp, d},
                               {d, ffn / tp}};
    for (size_t g = 0; g < gemms.size(); ++g) {
      double ms = number_at(cells, gemms[g].col, at, cols[gemms[g].col]);
      if (ms <= 0) throw InputError(at, "column '" + cols[gemms[g].col] + "': a time must be positive");
      rows.push_back({{"M", m},
                      {"N", n_k[g][0]},
                      {"K", n_k[g][1]},
                      {"dtype", "float16"},
                      {"ms_warm", ms},
                      {"timing", "kernel"},
                      {"cache", "evicted"},
                      {"gemm_schedule", "data_parallel"},
                      {"tag", model + "/" + gemms[g].op + "/tp" + std::to_string(tp)},
                      {"source", path + ":" + std::to_string(n)}});
    }
  }
  if (rows.empty()) throw InputError(SourceMark{path, n, 1}, "Vidur profile with no rows");
  return {{"gemm", rows},
          {"method", "Vidur profiler (microsoft/vidur): vLLM/Sarathi kernels in fp16, warm loop, CUDA kernel time "
                     "from the torch profiler, median; converted by xpusim from " + path}};
}

}  // namespace

nlohmann::json load_cases_file(const std::string& path) {
  check_input_file(path, "a cases file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(SourceMark{path, 0, 0}, "cannot open file");
  if (std::filesystem::path(path).extension() == ".csv") {
    nlohmann::json j = vidur_cases(path, in);
    return j;
  }
  nlohmann::json cases;
  try {
    const std::string text = read_input_file(path, "a cases file");
    if (text.size() >= 2 && (unsigned char)text[0] == 0x1f && (unsigned char)text[1] == 0x8b)
      throw InputError(SourceMark{path, 0, 0}, "gzip-compressed data: a cases file is plain JSON (a trace? `xpusim "
                                               "replay --compare` compares a trace with the simulation)");
    cases = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(SourceMark{path, 0, 0}, std::string("invalid JSON: ") + e.what());
  }
  if (!cases.is_object()) throw InputError(SourceMark{path, 0, 0}, "a cases file must be a JSON object with sections");
  bool any = false;
  for (const auto& k : case_sections()) any = any || cases.contains(k);
  if (!any)
    throw InputError(SourceMark{path, 0, 0}, "not a cases file: none of the sections gemm, attention, elementwise, "
                                             "embedding_bag or models is present");
  // Rows keep where they came from.
  for (auto& [section, rows] : cases.items()) {
    if (!rows.is_array()) continue;
    for (size_t i = 0; i < rows.size(); ++i)
      if (rows[i].is_object() && !rows[i].contains("source"))
        rows[i]["source"] = path + "#" + section + "[" + std::to_string(i) + "]";
  }
  return cases;
}

nlohmann::json load_cases(const std::vector<std::string>& paths) {
  nlohmann::json all = nlohmann::json::object();
  for (const auto& p : paths) {
    nlohmann::json c = load_cases_file(p);
    for (auto& [k, v] : c.items()) {
      if (v.is_array()) {
        if (!all.contains(k)) all[k] = nlohmann::json::array();
        if (!all[k].is_array()) throw InputError(SourceMark{p, 0, 0}, "section '" + k + "' is not a list of rows");
        for (auto& row : v) all[k].push_back(std::move(row));
      } else if (!all.contains(k)) {
        all[k] = v;
      }
    }
  }
  return all;
}

}  // namespace xpu
