// Generator "dlrm": DLRM recommendation-model inference (Naumov et al. 2019, arXiv:1906.00091) as in TorchRec's
// DLRM / DLRM-DCN used by MLPerf DLRMv2: bottom MLP over dense features, one embedding-bag lookup per sparse
// feature, feature interaction (pairwise dot products, or DCN-v2 low-rank cross layers, Wang et al. 2021,
// arXiv:2008.13535), top MLP and a sigmoid. Every MLP layer is a Linear followed by a ReLU kernel, except the last
// top layer (TorchRec OverArch).
#include <charconv>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sim/workload/autograd.h"
#include "sim/workload/builder.h"
#include "sim/workload/generator.h"

namespace xpu {
namespace {

struct Table { int64_t rows, pooling; };

// MLPerf Training DLRMv2 (DCNv2, Criteo 1TB multi-hot): rows per table and multi-hot sizes, from
// mlcommons/training recommendation_v2_torchrec_dlrm (materialize_synthetic_multihot_dataset.py invocation
// reproduced in mlcommons/ck script/get-preprocessed-dataset-criteo/preprocess_multihot.sh):
//   --num_embeddings_per_feature 40000000,39060,17295,7424,20265,3,7122,1543,63,40000000,3067956,405282,10,2209,
//                                11938,155,4,976,14,40000000,40000000,40000000,590152,12973,108,36
//   --multi_hot_sizes 3,2,1,2,6,1,1,1,1,7,3,8,1,6,9,5,1,1,1,12,100,27,10,3,1,1
const std::vector<Table>& mlperf_tables() {
  static const std::vector<Table> t = {
      {40000000, 3}, {39060, 2},    {17295, 1},    {7424, 2},     {20265, 6},  {3, 1},      {7122, 1},
      {1543, 1},     {63, 1},       {40000000, 7}, {3067956, 3},  {405282, 8}, {10, 1},     {2209, 6},
      {11938, 9},    {155, 5},      {4, 1},        {976, 1},      {14, 1},     {40000000, 12}, {40000000, 100},
      {40000000, 27}, {590152, 10}, {12973, 3},    {108, 1},      {36, 1}};
  return t;
}

std::vector<ParamSpec> dlrm_specs() {
  return {
      p_choice("mode", "forward", {"forward", "train"},
               "forward: inference; train: forward, then the backward pass eager autograd runs (MLP and "
               "interaction gradients, a sparse gradient per embedding table: the looked-up rows only)"),
      p_choice("optimizer", "none", {"none", "sgd"},
               "train: weight update after the backward pass; none: fwd + bwd only (as the H100 calibration's "
               "DLRMv2 training trace, which shows no optimizer kernels); sgd: one read-modify-write of every dense "
               "weight and of the looked-up embedding rows"),
      p_count("batch", "2048", "samples", 1),
      p_count("dense_features", "13", "dense (numerical) inputs per sample", 1),
      p_string("bottom_mlp", "512-256-128", "bottom MLP layer sizes, dash separated; the last must equal `dim`"),
      p_string("top_mlp", "1024-1024-512-256-1", "top MLP layer sizes, dash separated"),
      p_count("dim", "128", "embedding dimension", 1),
      p_string("tables", "mlperf",
               "`mlperf` (the 26 MLPerf DLRMv2 Criteo tables with their multi-hot sizes) or dash-separated row "
               "counts, each optionally with :pooling, e.g. 1000000:4-50000-300:2"),
      p_count("row_cap", "0", "cap on rows per table (0 = none); the H100 calibration used 2000000", 0),
      p_count("pooling", "0", "lookups per bag for every table (0 = each table's own)", 0),
      p_choice("interaction", "dcn", {"dot", "dcn"}, "dot: pairwise dot products; dcn: DCN-v2 low-rank cross layers"),
      p_count("dcn_layers", "3", "cross layers (dcn)", 1),
      p_count("dcn_rank", "512", "low-rank size of each cross layer (dcn)", 1),
      p_count("shards", "1",
              "model-parallel embedding ranks (TorchRec table-wise sharding): each rank looks up its share of the "
              "tables for the whole global batch, then an all-to-all returns pooled rows to their samples' ranks",
              1, 4096),
      p_choice("dtype", "fp32", {"fp32", "tf32", "fp16", "bf16", "fp8", "int8"}, "weights, tables and activations"),
  };
}

// Parses "a-b-c" where each item is a positive integer, optionally ":p" when `allow_pooling`.
std::vector<Table> parse_list(const ParamValue& v, const std::string& what, bool allow_pooling) {
  std::vector<Table> out;
  std::stringstream ss(v.text);
  auto bad = [&](const std::string& item) {
    return InputError(v.mark, what + ": '" + item + "' in '" + v.text + "' is not a positive integer" +
                                  (allow_pooling ? " (optionally :pooling)" : "") + "; write sizes like 512-256-128");
  };
  auto num = [&](const std::string& s, const std::string& item) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) throw bad(item);
    int64_t n = 0;
    if (std::from_chars(s.data(), s.data() + s.size(), n).ec != std::errc())
      throw InputError(v.mark, what + ": '" + item + "' in '" + v.text + "' is too large");
    if (n <= 0) throw bad(item);
    return n;
  };
  for (std::string item; std::getline(ss, item, '-');) {
    auto c = item.find(':');
    if (c != std::string::npos && !allow_pooling) throw bad(item);
    Table t{num(item.substr(0, c), item), 0};
    if (c != std::string::npos) t.pooling = num(item.substr(c + 1), item);
    out.push_back(t);
  }
  if (out.empty() || v.text.back() == '-') throw bad(v.text);
  return out;
}

// The backward pass as PyTorch runs DLRM training (sparse embedding gradients, as TorchRec and the MLPerf
// reference do): autograd's gradients for the MLPs, the interaction and the concat, and per table a gradient of only
// the rows the bags looked up (batch x pooling rows of `dim`: a gather of the pooled gradient per lookup), never the
// whole table. With `optimizer: sgd`, every dense weight and the looked-up rows are updated once.
void add_dlrm_backward(Workload& w, const ParamSet& p) {
  const size_t forward_ops = w.ops.size();
  std::map<std::string, int64_t> lookups;  // table -> rows looked up (batch x pooling)
  for (const auto& op : w.ops)
    if (op.kind == OpKind::embedding_bag && !op.reads.empty()) {
      const auto& s = std::get<EmbeddingBagShape>(op.shape);
      lookups[op.reads[0].name] = s.batch * s.pooling * s.tables;
    }
  TrainingOptions t;
  t.optimizer = false;
  append_training_step(w, t);
  const int64_t D = int64_t(p.count("dim"));
  const double eb = dtype_bytes(w.ops.front().dtype);
  for (size_t i = forward_ops; i < w.ops.size(); ++i) {
    Op& op = w.ops[i];
    if (op.variant != "embedding_bwd" || op.writes.empty()) continue;
    const std::string& grad = op.writes[0].name;  // "d:<table>"
    auto it = lookups.find(grad.rfind("d:", 0) == 0 ? grad.substr(2) : grad);
    if (it == lookups.end())
      throw std::logic_error("embedding backward '" + op.name + "' has no forward lookup of '" + grad + "'");
    // The sparse gradient: one row of `dim` per lookup, gathered from the bag's pooled gradient.
    op.shape = ElementwiseShape{it->second * D, 1, 0};
    op.writes[0].bytes = double(it->second) * D * eb;
  }
  if (p.str("optimizer") != "sgd") return;
  std::vector<Op> updates;
  for (size_t i = forward_ops; i < w.ops.size(); ++i) {
    const Op& g = w.ops[i];
    if (!is_weight_grad(g) || g.writes.empty()) continue;
    Op u;
    u.name = g.name + ".sgd";
    u.kind = OpKind::elementwise;
    u.variant = "sgd";
    u.dtype = u.out_dtype = g.dtype;
    u.layer = g.layer;
    const double bytes = g.writes[0].bytes;
    u.shape = ElementwiseShape{int64_t(bytes / eb), 2, 2};
    u.reads = {g.writes[0], {g.writes[0].name + ".param", bytes}};
    u.writes = {{g.writes[0].name + ".param", bytes}};
    u.deps = {i};
    updates.push_back(std::move(u));
  }
  for (auto& u : updates) w.ops.push_back(std::move(u));
}

Workload build_dlrm(const ParamSet& p, const std::string& name) {
  const int64_t B = p.count("batch"), D = p.count("dim");
  std::vector<Table> tables =
      p.str("tables") == "mlperf" ? mlperf_tables() : parse_list(p.at("tables"), "tables", true);
  for (auto& t : tables) {
    if (p.count("row_cap") && t.rows > int64_t(p.count("row_cap"))) t.rows = p.count("row_cap");
    if (p.count("pooling")) t.pooling = p.count("pooling");
    if (t.pooling == 0) t.pooling = 1;
  }
  std::vector<Table> bottom = parse_list(p.at("bottom_mlp"), "bottom_mlp", false);
  std::vector<Table> top = parse_list(p.at("top_mlp"), "top_mlp", false);
  if (bottom.back().rows != D)
    throw InputError(p.at("bottom_mlp").mark, "bottom_mlp must end in the embedding dim (" + std::to_string(D) +
                                                  ") so that dense and sparse features can interact");

  Workload w;
  w.name = name;
  w.parallel = {{"shards", int64_t(p.count("shards"))}};
  w.items = double(B);
  w.item = "sample";
  const bool dcn = p.str("interaction") == "dcn";
  w.description = name + " " + p.str("mode") + " batch=" + std::to_string(B) + " tables=" + std::to_string(tables.size()) +
                  " interaction=" + p.str("interaction") +
                  (p.count("shards") > 1 ? " shards=" + std::to_string(p.count("shards")) : "");
  WorkloadBuilder b(w, parse_dtype(p.str("dtype")), p.at("batch").mark);
  auto mlp = [&](const std::string& prefix, const std::vector<Table>& sizes, int64_t in_dim, std::string x,
                 bool relu_last) {
    for (size_t i = 0; i < sizes.size(); ++i) {
      const std::string P = prefix + ".L" + std::to_string(i);
      const int64_t n = sizes[i].rows;
      b.matmul(P, MatmulShape{1, B, n, in_dim, true}, x, P + ".w", P + ".out", P + ".b");
      x = P + ".out";
      if (i + 1 < sizes.size() || relu_last) {
        b.add_io(P + ".relu", OpKind::elementwise, "relu", ElementwiseShape{B * n, 1, 1}, {x}, P + ".act");
        x = P + ".act";
      }
      in_dim = n;
    }
    return x;
  };

  b.set_layer("bottom_mlp");
  const std::string dense = mlp("bottom", bottom, p.count("dense_features"), "dense_input", true);

  b.set_layer("embedding");
  std::vector<std::string> features = {dense};
  // Table-wise sharding: this rank holds tables i with i % shards == 0 and serves the global batch (B per rank).
  const int64_t shards = int64_t(p.count("shards"));
  std::vector<std::string> looked_up;
  for (size_t i = 0; i < tables.size(); ++i) {
    const std::string T = "emb.T" + std::to_string(i);
    if (int64_t(i) % shards == 0) {
      b.add_io(T, OpKind::embedding_bag, "sum",
               EmbeddingBagShape{1, tables[i].rows, D, B * shards, tables[i].pooling}, {T + ".w"}, T + ".out");
      looked_up.push_back(T + ".out");
    }
    features.push_back(T + ".out");
  }
  if (shards > 1) {
    const double eb = dtype_bytes(b.dtype());
    std::vector<TensorRef> sent, received;
    for (const auto& t : looked_up) sent.push_back(b.t(t, double(B) * shards * D));
    for (size_t i = 0; i < tables.size(); ++i) received.push_back(b.t("emb.T" + std::to_string(i) + ".out", double(B) * D));
    b.add("embedding_all_to_all", OpKind::collective, "sharded_embedding",
          CollectiveShape{"all_to_all", int64_t(double(B) * shards * looked_up.size() * D * eb), shards}, sent,
          received);
  }

  b.set_layer("interaction");
  const int64_t F = int64_t(features.size());
  std::vector<TensorRef> feature_refs;
  for (const auto& f : features) feature_refs.push_back(b.t(f, double(B) * D));
  b.add("concat", OpKind::concat, "", FeatureShape{B, F, D}, feature_refs, {b.t("features", double(B) * F * D)});
  std::string x;
  int64_t top_in;
  if (!dcn) {
    // TorchRec InteractionArch: dense vector concatenated with the strictly upper triangle of the F x F products.
    top_in = D + F * (F - 1) / 2;
    b.add("interaction", OpKind::interaction, "dot", FeatureShape{B, F, D}, {b.t("features", double(B) * F * D)},
          {b.t("interaction.out", double(B) * top_in)});
    x = "interaction.out";
  } else {
    // DCN-v2 low-rank cross layer: x_{l+1} = x0 * (U_l (V_l x_l) + bias_l) + x_l.
    const int64_t W = F * D;
    top_in = W;
    x = "features";
    for (int64_t l = 0; l < int64_t(p.count("dcn_layers")); ++l) {
      const std::string P = "dcn.L" + std::to_string(l);
      b.matmul(P + ".down", MatmulShape{1, B, int64_t(p.count("dcn_rank")), W, true}, x, P + ".v", P + ".low");
      b.matmul(P + ".up", MatmulShape{1, B, W, int64_t(p.count("dcn_rank")), true}, P + ".low", P + ".u",
               P + ".proj", P + ".b");
      // Eager PyTorch runs the cross as two kernels: x0 * proj, then + x_l.
      b.add_io(P + ".mul", OpKind::elementwise, "mul", ElementwiseShape{B * W, 2, 1}, {"features", P + ".proj"},
               P + ".gated");
      b.add_io(P + ".add", OpKind::elementwise, "add", ElementwiseShape{B * W, 2, 1}, {P + ".gated", x}, P + ".out");
      x = P + ".out";
    }
  }

  b.set_layer("top_mlp");
  x = mlp("top", top, top_in, x, false);
  b.add_io("sigmoid", OpKind::elementwise, "sigmoid", ElementwiseShape{B * top.back().rows, 1, 4}, {x}, "prob");
  if (p.str("mode") == "train") add_dlrm_backward(w, p);
  else if (p.str("optimizer") != "none")
    throw InputError(p.at("optimizer").mark, "optimizer '" + p.str("optimizer") + "' needs mode: train (mode is " +
                                                 p.str("mode") + ")");
  return w;
}

}  // namespace

XPU_REGISTER_GENERATOR("dlrm",
                       "DLRM / DLRM-DCNv2 recommendation inference (MLPerf DLRMv2 tables by default): bottom MLP, "
                       "embedding bags, interaction, top MLP",
                       dlrm_specs(), build_dlrm);

}  // namespace xpu
