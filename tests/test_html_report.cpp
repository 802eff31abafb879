// The HTML report: `xpusim run --html` rendered by headless Chromium (scripts/setup installs it), and html_report()
// on hand-built results (escaping, thinning of large timelines, determinism).
#include <nlohmann/json.hpp>

#include <regex>
#include <string>

#include "sim/report/html.h"
#include "test_support.h"

using namespace xpu;
using namespace xpu::test;
using nlohmann::json;

namespace {

// The part of `doc` from the element with this id to the end of its svg.
std::string svg_with_id(const std::string& doc, const std::string& id) {
  size_t at = doc.find("id=\"" + id + "\"");
  if (at == std::string::npos) return {};
  size_t end = doc.find("</svg>", at);
  return doc.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

std::string section(const std::string& doc, const std::string& id) {
  size_t at = doc.find("<section id=\"" + id + "\"");
  if (at == std::string::npos) return {};
  size_t end = doc.find("</section>", at);
  return doc.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// Headless Chromium, run as root in a container: no sandbox, no GPU, a throwaway profile, 60 s at most.
std::string chromium(const TempDir& dir, const std::string& args) {
  return "timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
         "--hide-scrollbars --user-data-dir='" +
         (dir.path / "profile").string() + "' " + args;
}

}  // namespace

TEST_CASE("run --html writes a self-contained report that Chromium renders", "[html]") {
  if (std::system("command -v chromium > /dev/null 2>&1") != 0)
    FAIL("chromium is not installed: run scripts/setup (it installs chromium for the HTML report test)");

  TempDir dir;
  const fs::path html = dir.path / "report.html", js = dir.path / "run.json";
  Run run = xpusim(
      "run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=16,kv=2048,layers=4 "
      "-q --json '" +
          js.string() + "' --html '" + html.string() + "'",
      dir);
  INFO(run.output);
  REQUIRE(run.status == 0);
  const std::string text = read_file(html);
  REQUIRE(text.size() > 10000);
  CHECK(text.size() < 2000000);
  // Nothing fetched: no script, no external source or link.
  CHECK(text.find("<script") == std::string::npos);
  CHECK_FALSE(std::regex_search(text, std::regex(R"((src|href)\s*=\s*["']?\s*(https?:|//))", std::regex::icase)));
  CHECK(text.find("http") == std::string::npos);

  const json result = json::parse(read_file(js));
  size_t with_flops = 0, ops = result["ops"].size();
  for (const auto& op : result["ops"])
    if (op["flops"].get<double>() > 0 && op["duration_s"].get<double>() > 0) ++with_flops;
  REQUIRE(with_flops > 0);

  // Chromium parses and lays it out: the DOM it dumps has the charts and the tables.
  const fs::path dom_file = dir.path / "dom.html";
  int rc = std::system(chromium(dir, "--dump-dom 'file://" + html.string() + "' > '" + dom_file.string() + "' 2> '" +
                                         (dir.path / "chromium.log").string() + "'")
                           .c_str());
  INFO(read_file(dir.path / "chromium.log"));
  REQUIRE(rc == 0);
  const std::string dom = read_file(dom_file);
  REQUIRE(dom.find("</html>") != std::string::npos);

  const std::string roof = svg_with_id(dom, "roofline-chart");
  REQUIRE_FALSE(roof.empty());
  CHECK(count(roof, "<circle") >= with_flops);
  CHECK(count(roof, "<line class=\"ceil\"") == 1);
  CHECK(count(roof, "<line class=\"slope\"") == 1);

  const std::string timeline = svg_with_id(dom, "timeline-chart");
  REQUIRE_FALSE(timeline.empty());
  CHECK(count(timeline, "<rect class=\"k") >= ops);  // fewer than 3000 ops: one bar each
  CHECK(count(timeline, "<title>") >= ops);

  const std::string whatif = section(dom, "whatif");
  REQUIRE_FALSE(whatif.empty());
  CHECK(count(whatif, "<tr") >= 4);  // header, baseline and the variants
  CHECK(whatif.find("baseline") != std::string::npos);
  CHECK(whatif.find("HBM") != std::string::npos);

  for (const char* id : {"summary", "time", "energy", "critical", "top"}) {
    INFO(id);
    CHECK_FALSE(section(dom, id).empty());
  }
  CHECK(section(dom, "critical").find("<table") != std::string::npos);

  // And draws it: a screenshot of a page of charts is far from blank.
  const fs::path png = dir.path / "shot.png";
  rc = std::system(chromium(dir, "--screenshot='" + png.string() + "' --window-size=1280,2400 'file://" +
                                     html.string() + "' > /dev/null 2>&1")
                       .c_str());
  REQUIRE(rc == 0);
  const std::string shot = read_file(png);
  CHECK(shot.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  CHECK(shot.size() > 20000);
}

TEST_CASE("run --html --no-whatif leaves the ranking out", "[html]") {
  TempDir dir;
  const fs::path html = dir.path / "r.html";
  Run run = xpusim(
      "run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=128,layers=1 "
      "-q --no-whatif --html '" +
          html.string() + "'",
      dir);
  INFO(run.output);
  REQUIRE(run.status == 0);
  const std::string text = read_file(html);
  CHECK(text.find("id=\"roofline-chart\"") != std::string::npos);
  CHECK(text.find("id=\"whatif\"") == std::string::npos);
}

TEST_CASE("replay --html shows measured against simulated time per kernel class", "[html]") {
  TempDir dir;
  const fs::path html = dir.path / "replay.html";
  Run run = xpusim(
      "replay --hw configs/h100.yaml --trace workloads/traces/kineto/kineto_llama2-7b_prefill_b1_s2048_kv0_L2.json.gz "
      "-q --no-whatif --html '" +
          html.string() + "'",
      dir);
  INFO(run.output);
  REQUIRE(run.status == 0);
  const std::string text = read_file(html);
  const std::string cmp = section(text, "compare");
  REQUIRE_FALSE(cmp.empty());
  CHECK(cmp.find("<td>GEMM</td><td class=\"n\">24</td>") != std::string::npos);
  CHECK(cmp.find("<td>total</td>") != std::string::npos);
  CHECK(text.find("id=\"timeline-chart\"") != std::string::npos);
}

namespace {

OpRecord op(size_t i, const std::string& name, const std::string& kind, const std::string& unit, double start_us,
            double end_us, double flops, double bytes) {
  OpRecord o;
  o.index = i;
  o.name = name;
  o.kind = kind;
  o.unit = unit;
  o.start_s = start_us * 1e-6;
  o.end_s = end_us * 1e-6;
  o.flops = flops;
  o.bytes = bytes;
  o.bound = Bound::memory;
  return o;
}

}  // namespace

TEST_CASE("html_report escapes names, skips bad roofline points and is deterministic", "[html]") {
  RunResult r;
  r.hw_name = "GPU <b>&</b>";
  r.workload_name = "w\"'";
  r.total_time_s = 3e-6;
  r.peak_flops = 1e15;
  r.peak_hbm_bw = 3e12;
  r.items = 4;
  r.item = "token";
  r.energy_j = 1e-3;
  r.ops.push_back(op(0, "<script>alert(1)</script>", "matmul", "sm", 0, 1, 1e9, 1e6));
  r.ops.push_back(op(1, std::string("bad\xff\xfe utf8"), "elementwise", "sm", 1, 2, 0, 1e6));
  r.ops.push_back(op(2, "copy", "collective", "network", 0.5, 2.5, 1e6, 1e3));
  r.analysis = {{"roofline",
                 {{"points",
                   {{{"op", 0}, {"intensity", 1000.0}, {"achieved_flops", 1e15}},
                    {{"op", 2}, {"intensity", 0.0}, {"achieved_flops", 5e11}},     // skipped: x = 0
                    {{"op", 2}, {"intensity", 10.0}, {"achieved_flops", -1.0}}}},  // skipped: y < 0
                  {"peak_flops", 1e15},
                  {"peak_bandwidth", 3e12}}}};
  const json whatif = json::array({{{"name", "baseline"}, {"change", ""}, {"time_s", 3e-6}, {"speedup", 1.0}},
                                   {{"name", "x2 <i>"}, {"change", "a=b"}, {"time_s", 2e-6}, {"speedup", 1.5}},
                                   {{"name", "broken"}, {"change", "c=d"}, {"error", "no <such> field"}}});
  const std::string a = html_report(r, whatif), b = html_report(r, whatif);
  CHECK(a == b);
  CHECK(a.find("<script>") == std::string::npos);
  CHECK(a.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(a.find("GPU &lt;b&gt;&amp;&lt;/b&gt;") != std::string::npos);
  CHECK(a.find("bad\xEF\xBF\xBD\xEF\xBF\xBD utf8") != std::string::npos);  // invalid bytes replaced
  CHECK(a.find("\xff") == std::string::npos);
  CHECK(count(svg_with_id(a, "roofline-chart"), "<circle") == 1);
  CHECK(a.find("2 without a positive intensity or rate left out") != std::string::npos);
  CHECK(a.find("no &lt;such&gt; field") != std::string::npos);
  CHECK(a.find("1.500x") != std::string::npos);
  CHECK(a.find("per token") != std::string::npos);
  // Two lanes, in order of first appearance.
  const std::string tl = svg_with_id(a, "timeline-chart");
  CHECK(tl.find(">sm<") < tl.find(">network<"));
  CHECK(html_report(RunResult{}, nullptr).find("</html>") != std::string::npos);  // an empty result still renders
}

TEST_CASE("html_report merges the timeline of a large run so the file stays small", "[html]") {
  RunResult r;
  const size_t n = 200000;
  const char* kinds[] = {"matmul", "elementwise", "norm", "attention"};
  for (size_t i = 0; i < n; ++i)
    r.ops.push_back(op(i, "L" + std::to_string(i / 4) + ".op" + std::to_string(i % 4), kinds[i % 4],
                       i % 10 == 0 ? "dma" : "sm", double(i), double(i) + 0.9, 1e6 * double(1 + i % 7), 1e5));
  r.total_time_s = n * 1e-6;
  r.peak_flops = 1e15;
  r.peak_hbm_bw = 3e12;
  const std::string h = html_report(r, nullptr);
  CHECK(h.size() < 2000000);
  const std::string tl = svg_with_id(h, "timeline-chart");
  CHECK(count(tl, "<rect class=\"k") < 5000);
  CHECK(h.find("200000 ops drawn as") != std::string::npos);
  CHECK(count(svg_with_id(h, "roofline-chart"), "<circle") >= 4);
}
