// Workload generators, the workload file loader and its error reporting. No SystemC simulation involved.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "sim/workload/generator.h"
#include "sim/workload/loader.h"

using namespace xpu;

namespace {

const Op& op_named(const Workload& w, const std::string& name) {
  for (const auto& op : w.ops)
    if (op.name == name) return op;
  FAIL("no op named " << name);
  throw 0;
}
size_t index_of(const Workload& w, const std::string& name) { return size_t(&op_named(w, name) - w.ops.data()); }
bool depends_on(const Workload& w, const std::string& op, const std::string& dep) {
  const auto& d = op_named(w, op).deps;
  return std::find(d.begin(), d.end(), index_of(w, dep)) != d.end();
}
size_t ops_in_layer(const Workload& w, const std::string& layer) {
  return size_t(std::count_if(w.ops.begin(), w.ops.end(), [&](const Op& o) { return o.layer == layer; }));
}
double sum_flops(const Workload& w, OpKind k) {
  double f = 0;
  for (const auto& op : w.ops)
    if (op.kind == k) f += op.flops();
  return f;
}

Workload parse_text(const std::string& text, const std::vector<std::string>& sets = {}) {
  return parse_workload(parse_yaml(text, "bad.yaml"), "bad.yaml", sets);
}

// Expects an InputError at `file`:`line` whose message contains `needle`.
void expect_error(const std::string& text, int line, const std::string& needle,
                  const std::vector<std::string>& sets = {}, const std::string& file = "bad.yaml") {
  try {
    parse_text(text, sets);
    FAIL("no error for:\n" << text);
  } catch (const InputError& e) {
    INFO(e.what());
    CHECK(e.mark.file == file);
    if (line > 0) CHECK(e.mark.line == line);
    CHECK(std::string(e.what()).find(needle) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("split_set_list splits at top-level commas only", "[workload]") {
  CHECK(split_set_list("mode=prefill,batch=1, seq=4096") ==
        std::vector<std::string>{"mode=prefill", "batch=1", "seq=4096"});
  CHECK(split_set_list("a=[1,2],b={x: 1, y: 2},c='p,q'") ==
        std::vector<std::string>{"a=[1,2]", "b={x: 1, y: 2}", "c='p,q'"});
  CHECK(split_set_list("").empty());
  CHECK(split_set_list(" , x=1 ,") == std::vector<std::string>{"x=1"});
}

TEST_CASE("generators are registered with their parameters", "[workload]") {
  auto names = generator_names();
  CHECK(std::find(names.begin(), names.end(), "transformer") != names.end());
  CHECK(std::find(names.begin(), names.end(), "dlrm") != names.end());
  const Generator* t = find_generator("transformer");
  REQUIRE(t);
  for (const char* key : {"mode", "batch", "seq", "kv", "layers", "fuse_qkv", "lm_head"})
    CHECK(std::any_of(t->specs.begin(), t->specs.end(), [&](const ParamSpec& s) { return s.name == key; }));
  const Generator* d = find_generator("dlrm");
  REQUIRE(d);
  CHECK(std::any_of(d->specs.begin(), d->specs.end(), [](const ParamSpec& s) { return s.name == "batch"; }));
  CHECK(find_generator("nope") == nullptr);
}

TEST_CASE("llama2-7b decode: ops per layer, dataflow and tensor names", "[workload]") {
  Workload w = load_workload("workloads/llama2-7b.yaml", {});
  CHECK(w.name == "llama2-7b");
  CHECK(w.source == "workloads/llama2-7b.yaml");
  CHECK(w.description == "llama2-7b decode batch=16 kv=2048 layers=32");
  // embed + 32 x (norm, q, k, v, rope, attn, o, add, norm, gate, up, silu, mul, down, add) + final norm + lm_head
  CHECK(ops_in_layer(w, "L0") == 15);
  CHECK(ops_in_layer(w, "L31") == 15);
  CHECK(w.ops.size() == 1 + 32 * 15 + 2);
  CHECK(topological_order(w).size() == w.ops.size());

  CHECK(depends_on(w, "L3.q_proj", "L3.attn_norm"));
  CHECK(depends_on(w, "L3.v_proj", "L3.attn_norm"));
  CHECK_FALSE(depends_on(w, "L3.v_proj", "L3.k_proj"));  // q, k, v are independent
  CHECK(depends_on(w, "L3.rope", "L3.q_proj"));
  CHECK(depends_on(w, "L3.rope", "L3.k_proj"));
  CHECK(depends_on(w, "L3.attn", "L3.rope"));
  CHECK(depends_on(w, "L3.attn", "L3.v_proj"));
  CHECK(depends_on(w, "L3.attn_add", "L2.mlp_add"));  // residual stream
  CHECK(depends_on(w, "L4.attn_norm", "L3.mlp_add"));
  CHECK(depends_on(w, "L3.silu", "L3.gate_proj"));
  CHECK(depends_on(w, "L3.mul", "L3.up_proj"));

  const Op& attn = op_named(w, "L3.attn");
  const Op& o = op_named(w, "L3.o_proj");
  CHECK(o.reads[0].name == "L3.attn.out");
  CHECK(attn.writes[0].name == "L3.attn.out");
  CHECK(attn.reads[1].name == "L3.k_cache");
  CHECK(attn.reads[1].bytes == Approx(16.0 * 2049 * 4096 * 2));  // the whole cache, bf16
  CHECK(o.reads[1].name == "L3.wo");
  CHECK(o.reads[1].bytes == Approx(4096.0 * 4096 * 2));
  const auto& s = std::get<AttentionShape>(attn.shape);
  CHECK(s.seq_q == 1);
  CHECK(s.seq_kv == 2049);
  CHECK(s.heads_kv == 32);
  CHECK(std::get<MatmulShape>(op_named(w, "L0.gate_proj").shape).m == 16);
  CHECK(std::get<MatmulShape>(op_named(w, "lm_head").shape).n == 32000);
}

TEST_CASE("llama2-7b decode flops are 2 x parameters x tokens plus attention", "[workload]") {
  Workload w = load_workload("workloads/llama2-7b.yaml", {});
  const double d = 4096, ffn = 11008, layers = 32, vocab = 32000, tokens = 16;
  const double matmul_params = layers * (4 * d * d + 3 * d * ffn) + d * vocab;  // all but the embedding table
  CHECK(sum_flops(w, OpKind::matmul) == Approx(2 * matmul_params * tokens).epsilon(1e-9));
  // ~6.74e9 parameters in all (Llama 2 paper: 7B).
  CHECK(matmul_params + d * vocab == Approx(6.74e9).epsilon(0.01));
  CHECK(sum_flops(w, OpKind::attention) == Approx(4.0 * 16 * 32 * 2049 * 128 * 32).epsilon(1e-9));
  double total = 0;
  for (const auto& op : w.ops) total += op.flops();
  CHECK(total == Approx(2 * matmul_params * tokens + 4.0 * 16 * 32 * 2049 * 128 * 32).epsilon(0.01));
}

TEST_CASE("llama2-70b uses grouped-query attention shapes", "[workload]") {
  Workload w = load_workload("workloads/llama2-70b.yaml", {});
  CHECK(ops_in_layer(w, "L79") == 15);
  const auto& a = std::get<AttentionShape>(op_named(w, "L0.attn").shape);
  CHECK(a.heads_q == 64);
  CHECK(a.heads_kv == 8);
  CHECK(a.head_dim == 128);
  CHECK(std::get<MatmulShape>(op_named(w, "L0.q_proj").shape).n == 8192);
  CHECK(std::get<MatmulShape>(op_named(w, "L0.k_proj").shape).n == 1024);
  CHECK(std::get<MatmulShape>(op_named(w, "L0.v_proj").shape).n == 1024);
  CHECK(std::get<MatmulShape>(op_named(w, "L0.down_proj").shape).k == 28672);
  CHECK(op_named(w, "L0.attn").reads[1].bytes == Approx(16.0 * 2049 * 1024 * 2));
}

TEST_CASE("llama3-405b has 405 B parameters in 126 layers", "[workload]") {
  Workload w = load_workload("workloads/llama3-405b.yaml", {});
  const double d = 16384, kv = 1024, ffn = 53248, layers = 126, vocab = 128256, tokens = 16;
  const double matmul_params = layers * (2 * d * d + 2 * d * kv + 3 * d * ffn) + d * vocab;
  CHECK(sum_flops(w, OpKind::matmul) == Approx(2 * matmul_params * tokens).epsilon(1e-9));
  // With the embedding table: 405.9 B (the paper's 405 B; HuggingFace counts 405.85 B with the norms).
  CHECK(matmul_params + d * vocab == Approx(405.85e9).epsilon(0.005));
  CHECK(ops_in_layer(w, "L125") == 15);
}

TEST_CASE("workload overrides from --set beat the file's defaults", "[workload]") {
  Workload w = load_workload("workloads/llama2-7b.yaml", split_set_list("mode=prefill,batch=2,seq=4096,kv=0,layers=2"));
  CHECK(w.description == "llama2-7b prefill batch=2 seq=4096 layers=2");
  CHECK(w.ops.size() == 1 + 2 * 15 + 2);
  const auto& a = std::get<AttentionShape>(op_named(w, "L1.attn").shape);
  CHECK(a.seq_q == 4096);
  CHECK(a.seq_kv == 4096);
  CHECK(a.batch == 2);
  CHECK(std::get<MatmulShape>(op_named(w, "L1.q_proj").shape).m == 2 * 4096);
  CHECK(std::get<MatmulShape>(op_named(w, "lm_head").shape).m == 2);  // last token of each sequence

  Workload nohead = load_workload("workloads/llama2-7b.yaml", {"lm_head=false", "layers=1"});
  CHECK(nohead.ops.size() == 1 + 15);
  Workload fused = load_workload("workloads/llama2-7b.yaml", {"fuse_qkv=true", "layers=1"});
  CHECK(ops_in_layer(fused, "L0") == 13);
  // The layout of the H100 calibration runs (Kineto traces): 11 kernels per block, no embedding or lm_head.
  Workload harness = load_workload("workloads/llama2-7b.yaml", {"fuse_qkv=true", "rope=false", "fuse_gate_up=true",
                                                                  "norm=layernorm", "embed=false", "lm_head=false",
                                                                  "layers=2"});
  CHECK(harness.ops.size() == 22);
  CHECK(op_named(harness, "L1.attn_norm").variant == "layernorm");
  CHECK(std::get<MatmulShape>(op_named(harness, "L0.gate_up_proj").shape).n == 2 * 11008);
  CHECK(std::get<MatmulShape>(op_named(fused, "L0.qkv_proj").shape).n == 3 * 4096);
}

TEST_CASE("gpt2-small: fused qkv with biases, gelu, tied lm_head", "[workload]") {
  Workload w = load_workload("workloads/gpt2-small.yaml", {});
  // norm, qkv, kv_write, attn, o, add, norm, up, gelu, down, add
  CHECK(ops_in_layer(w, "L0") == 11);
  CHECK(w.ops.size() == 3 + 12 * 11 + 2);
  const Op& qkv = op_named(w, "L0.qkv_proj");
  CHECK(std::get<MatmulShape>(qkv.shape).n == 3 * 768);
  CHECK(qkv.reads.size() == 3);  // A, B and the bias
  CHECK(op_named(w, "L0.attn_norm").variant == "layernorm");
  CHECK(op_named(w, "lm_head").reads[1].name == "embed.w");
  CHECK(depends_on(w, "embed_add", "pos_embed"));
  CHECK(depends_on(w, "L0.attn", "L0.kv_write"));
  CHECK(op_named(w, "L0.attn").dtype == DType::fp16);
  Workload split = load_workload("workloads/gpt2-small.yaml", {"fuse_qkv=false"});
  CHECK(ops_in_layer(split, "L0") == 12);
}

TEST_CASE("dlrmv2 has the MLPerf tables and DCN cross layers", "[workload]") {
  Workload w = load_workload("workloads/dlrmv2.yaml", {"row_cap=0"});
  CHECK(w.description == "dlrmv2 forward batch=2048 tables=26 interaction=dcn");
  std::vector<const Op*> emb;
  for (const auto& op : w.ops)
    if (op.kind == OpKind::embedding_bag) emb.push_back(&op);
  REQUIRE(emb.size() == 26);
  const auto& t0 = std::get<EmbeddingBagShape>(emb[0]->shape);
  CHECK(t0.rows == 40000000);
  CHECK(t0.pooling == 3);
  CHECK(t0.dim == 128);
  CHECK(std::get<EmbeddingBagShape>(emb[20]->shape).pooling == 100);
  CHECK(emb[0]->reads[0].bytes == Approx(2048.0 * 3 * 128 * 4));
  int64_t lookups = 0;
  for (const Op* e : emb) lookups += std::get<EmbeddingBagShape>(e->shape).pooling;
  CHECK(lookups == 214);

  const auto& down = std::get<MatmulShape>(op_named(w, "dcn.L2.down").shape);
  CHECK(down.k == 27 * 128);
  CHECK(down.n == 512);
  CHECK(std::get<MatmulShape>(op_named(w, "top.L0").shape).k == 27 * 128);
  CHECK(std::get<MatmulShape>(op_named(w, "top.L4").shape).n == 1);
  CHECK(depends_on(w, "concat", "emb.T25"));
  CHECK(depends_on(w, "concat", "bottom.L2.relu"));
  CHECK(depends_on(w, "sigmoid", "top.L4"));
  CHECK(topological_order(w).size() == w.ops.size());

  Workload capped = load_workload("workloads/dlrmv2.yaml", {"row_cap=2000000", "interaction=dot", "batch=64"});
  CHECK(std::get<EmbeddingBagShape>(op_named(capped, "emb.T0").shape).rows == 2000000);
  CHECK(std::get<EmbeddingBagShape>(op_named(capped, "emb.T5").shape).rows == 3);
  CHECK(std::get<MatmulShape>(op_named(capped, "top.L0").shape).k == 128 + 27 * 26 / 2);
  CHECK(std::get<FeatureShape>(op_named(capped, "interaction").shape).features == 27);

  Workload custom = parse_text("generator: dlrm\nparams: {tables: 1000:4-50, bottom_mlp: 64-32, dim: 32}\n");
  CHECK(std::get<EmbeddingBagShape>(op_named(custom, "emb.T0").shape).pooling == 4);
  CHECK(std::get<EmbeddingBagShape>(op_named(custom, "emb.T1").shape).rows == 50);
}

TEST_CASE("explicit ops: shapes, tensor names and dependencies", "[workload]") {
  Workload w = load_workload("workloads/examples/tiny-explicit.yaml", {});
  REQUIRE(w.ops.size() == 5);
  const Op& up = op_named(w, "up");
  CHECK(up.reads[0].name == "norm.out");
  CHECK(up.reads[1].name == "w_up");
  CHECK(up.reads[1].bytes == Approx(1024.0 * 4096 * 2));
  CHECK(up.writes[0].name == "up.out");
  CHECK(up.flops() == Approx(2.0 * 1024 * 4096 * 1024));
  CHECK(depends_on(w, "up", "norm"));
  CHECK(depends_on(w, "act", "up"));
  const Op& res = op_named(w, "residual");
  CHECK(std::get<ElementwiseShape>(res.shape).inputs == 2);
  CHECK(res.deps == std::vector<size_t>{index_of(w, "down")});
  CHECK(op_named(w, "norm").reads[0].name == "norm.in0");
  CHECK(up.mark.line == 7);

  Workload par = parse_text(R"(ops:
  - {name: a, kind: collective, op: all_gather, bytes: 16 MiB, group: 8}
  - {name: b, kind: attention, heads_q: 8, heads_kv: 2, seq_q: 1, seq_kv: 100, head_dim: 64, after: []}
  - {name: c, kind: elementwise, elements: 10, inputs: 3, after: [a, b]}
)");
  CHECK(par.ops[1].deps.empty());
  CHECK(par.ops[2].deps.size() == 2);
  CHECK(par.ops[2].reads.size() == 3);
  CHECK(std::get<CollectiveShape>(par.ops[0].shape).bytes == 16 * 1024 * 1024);
  CHECK(par.ops[1].reads[1].bytes == Approx(2.0 * 100 * 64 * 2));
  CHECK(par.description == "bad (3 explicit ops)");
}

TEST_CASE("workload input errors point at the offending line", "[workload]") {
  expect_error("name: x\ngenrator: transformer\n", 2, "did you mean 'generator'");
  expect_error("name: x\n", 1, "needs `generator:`");
  expect_error("generator: transfomer\n", 1, "did you mean 'transformer'");
  expect_error("generator: transformer\nparams:\n  d_model: 64\n  hedas: 4\n", 4, "did you mean 'heads'");
  expect_error("generator: transformer\nparams: {d_model: 64, heads: 4, ffn: 8, layers: 1, vocab: 10}\n"
               "defaults:\n  mode: pretrain\n",
               4, "mode");
  expect_error("generator: transformer\nparams: {d_model: 64, heads: 6, kv_heads: 4, ffn: 8, layers: 1, vocab: 10}\n",
               2, "multiple of kv_heads");
  expect_error("generator: dlrm\nparams:\n  bottom_mlp: 512-x-128\n", 3, "bottom_mlp");
  expect_error("generator: dlrm\nparams:\n  bottom_mlp: 512-256\n", 3, "must end in the embedding dim");

  const std::string ops_head = "name: t\nops:\n";
  expect_error(ops_head + "  - {name: a, kind: matmul, m: 4, n: 4, k: 4}\n  - {name: b, kind: matmull, m: 4}\n", 4,
               "did you mean 'matmul'");
  expect_error(ops_head + "  - name: a\n    kind: matmul\n    m: 4\n    n: 4\n    kk: 4\n", 7, "'kk'");
  expect_error(ops_head + "  - {name: a, kind: matmul, m: 0, n: 4, k: 4}\n", 3, "out of range");
  expect_error(ops_head + "  - {name: a, kind: norm, rows: 4, cols: 4}\n  - name: b\n    kind: norm\n"
                          "    rows: 4\n    cols: 4\n    after: [a, z]\n",
               8, "unknown op 'z'");
  expect_error(ops_head + "  - {name: a, kind: norm, rows: 4, cols: 4, after: [b]}\n"
                          "  - {name: b, kind: norm, rows: 4, cols: 4}\n",
               3, "cycle");
  expect_error(ops_head + "  - {name: a, kind: norm, rows: 4, cols: 4}\n  - {name: a, kind: norm, rows: 4, cols: 4}\n",
               4, "duplicate op name");
  expect_error(ops_head + "  - {name: a, kind: matmul, m: 4, n: 4, k: 4, inputs: [x]}\n", 3, "reads 2 tensor(s)");
  expect_error(ops_head + "  - {name: a, kind: collective, bytes: 0 B}\n", 3, "more than 0");

  // --set: unknown key names the valid ones; a bad value is reported against --set too.
  const std::string gen = "generator: transformer\nparams: {d_model: 64, heads: 4, ffn: 8, layers: 1, vocab: 10}\n";
  expect_error(gen, 0, "valid: d_model, heads", {"bacth=2"}, "--set");
  expect_error(gen, 0, "did you mean 'batch'", {"bacth=2"}, "--set");
  expect_error(gen, 0, "batch", {"batch=zero"}, "--set");
  expect_error(ops_head + "  - {name: a, kind: norm, rows: 4, cols: 4}\n", 0, "no parameters", {"batch=2"}, "--set");
  CHECK_NOTHROW(parse_text(gen, {"batch=2"}));
}

TEST_CASE("workload files that cannot be read are input errors", "[workload]") {
  CHECK_THROWS_AS(load_workload("workloads/does-not-exist.yaml", {}), InputError);
}
