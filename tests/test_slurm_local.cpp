// scripts/slurm-local: a real one-node Slurm cluster (munged, slurmctld, slurmd) brought up in a scratch folder,
// an array job run on it, and the daemons stopped again. Needs Debian's slurm packages, which scripts/setup installs.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace xpu::test;

namespace {

// Is `pid` a live process (present in /proc and not a zombie)?
bool alive(long pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

// Brings the cluster in `dir` down when the test ends, whatever way it ends.
struct ClusterGuard {
  fs::path dir;
  ~ClusterGuard() { std::system(("scripts/slurm-local down '" + dir.string() + "' > /dev/null 2>&1").c_str()); }
};

}  // namespace

TEST_CASE("slurm-local: a one-node cluster runs an array job and stops cleanly", "[slurm]") {
  if (std::system("PATH=\"$PATH:/usr/sbin:/sbin\"; command -v slurmctld > /dev/null 2>&1") != 0)
    FAIL("slurmctld is not installed: run scripts/setup (installs slurmctld slurmd slurm-client munge)");

  TempDir tmp;
  const fs::path cluster = tmp.path / "cluster";
  const fs::path work = tmp.path / "work";
  fs::create_directories(work);
  ClusterGuard guard{cluster};  // declared after tmp: the cluster goes down before its folder is removed
  const std::string conf = "SLURM_CONF='" + (cluster / "slurm.conf").string() + "' ";

  Run up = shell("scripts/slurm-local up '" + cluster.string() + "'", tmp);
  INFO(up.output);
  REQUIRE(up.status == 0);
  CHECK(up.output.find("export SLURM_CONF=") != std::string::npos);

  // A second `up` finds the cluster running and only prints the environment again.
  Run again = shell("scripts/slurm-local up '" + cluster.string() + "'", tmp);
  CHECK(again.status == 0);
  CHECK(again.output == up.output);

  Run sub = shell(conf + "sbatch --parsable --array=0-3 -D '" + work.string() +
                      "' --wrap 'echo $SLURM_ARRAY_TASK_ID > task_$SLURM_ARRAY_TASK_ID.txt'",
                  tmp);
  INFO(sub.output);
  REQUIRE(sub.status == 0);
  const std::string job = sub.output.substr(0, sub.output.find_first_not_of("0123456789"));
  REQUIRE(!job.empty());

  // Wait until no task of the array is pending, running or completing; give up after 60 s.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  Run queue;
  while (true) {
    queue = shell(conf + "squeue -h -j " + job + " -t PD,CF,R,CG -o '%i %t %r'", tmp);
    if (queue.status == 0 && queue.output.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      INFO("squeue: " << queue.output);
      INFO("slurmctld log:\n" << read_file(cluster / "log" / "slurmctld.log"));
      FAIL("array job " << job << " not finished after 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (int i = 0; i < 4; ++i) {
    fs::path f = work / ("task_" + std::to_string(i) + ".txt");
    INFO(f.string());
    CHECK(read_file(f) == std::to_string(i) + "\n");
  }

  // `down` stops the three daemons it recorded, and a second `down` is a no-op.
  std::vector<long> pids;
  for (const char* d : {"munged", "slurmctld", "slurmd"}) {
    std::string text = read_file(cluster / "pid" / (std::string(d) + ".pid"));
    INFO(d << ".pid: " << text);
    REQUIRE(!text.empty());
    pids.push_back(std::stol(text));
    CHECK(alive(pids.back()));
  }
  Run down = shell("scripts/slurm-local down '" + cluster.string() + "'", tmp);
  INFO(down.output);
  CHECK(down.status == 0);
  for (long pid : pids) {
    INFO("pid " << pid);
    CHECK_FALSE(alive(pid));
  }
  CHECK(shell("scripts/slurm-local down '" + cluster.string() + "'", tmp).status == 0);
}
