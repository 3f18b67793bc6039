// The image as shipped: the OCI archive is unpacked layer by layer (whiteouts
// applied) and its binaries run with chroot, since this machine refuses to run
// containers. The node runs as the image's user, against the host's PostgreSQL
// and sfemu over loopback.

#include "tests/integration/sync_read/sync_read_fixture.hpp"

#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

namespace syncforce::testing {
namespace {

namespace fs = std::filesystem;

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in, nullptr, false);
}

fs::path blob(const fs::path& oci, const std::string& digest) {
  auto colon = digest.find(':');
  return oci / "blobs" / digest.substr(0, colon) / digest.substr(colon + 1);
}

bool on_path(const std::string& tool) {
  return std::system(("command -v " + tool + " > /dev/null 2>&1").c_str()) == 0;
}

/// Runs a command, its output and exit code.
std::pair<int, std::string> run(const std::vector<std::string>& argv, std::chrono::seconds timeout = 60s) {
  auto p = child_process::start(argv, {});
  auto code = p->wait_exit(timeout);
  return {code.value_or(-1), p->output()};
}

/// Applies one layer: extracts it, then its whiteouts (`.wh.NAME` deletes NAME
/// of lower layers, `.wh..wh..opq` empties the directory), as the OCI spec says.
void apply_layer(const fs::path& layer, const fs::path& rootfs) {
  auto [code, out] = run({"/usr/bin/tar", "-xf", layer.string(), "-C", rootfs.string(), "--numeric-owner"});
  ASSERT_EQ(code, 0) << out;
  std::vector<fs::path> whiteouts;
  for (auto it = fs::recursive_directory_iterator(rootfs); it != fs::recursive_directory_iterator(); ++it)
    if (it->path().filename().string().rfind(".wh.", 0) == 0)
      whiteouts.push_back(it->path());
  for (const auto& w : whiteouts) {
    auto name = w.filename().string();
    if (name == ".wh..wh..opq") {
      // Only this layer's entries would survive; layers here never use it, so say so loudly.
      ADD_FAILURE() << "opaque whiteout in " << w << ": not handled by this test";
    } else {
      fs::remove_all(w.parent_path() / name.substr(4));
    }
    fs::remove(w);
  }
}

struct image : sync_read {
  void SetUp() override {
    for (const char* tool : {"podman", "mmdebstrap"})
      if (!on_path(tool))
        GTEST_SKIP() << tool << " is missing: the image cannot be built here (apt-get install podman mmdebstrap "
                     << "uidmap, then scripts/image)";
    if (::geteuid() != 0)
      GTEST_SKIP() << "chroot needs root";
    const char* src = std::getenv("SYNCFORCE_SOURCE_DIR");
    archive = fs::path(src ? src : ".") / "build/image/syncforced.oci.tar";
    if (!fs::exists(archive))
      GTEST_SKIP() << "no image at " << archive << ": run scripts/image first (about 3 minutes)";
    // What is tested is the archive as built; say so when the sources' binaries are newer.
    if (const char* bin = std::getenv("SYNCFORCE_BIN_DIR");
        bin != nullptr && fs::exists(fs::path(bin) / "syncforced") &&
        fs::last_write_time(fs::path(bin) / "syncforced") > fs::last_write_time(archive))
      std::cout << "note: " << archive << " is older than " << bin
                << "/syncforced: this tests the image as last built (scripts/image builds it again)\n";
    work = fs::temp_directory_path() / ("syncforce-image-" + std::to_string(::getpid()));
    fs::create_directories(work / "oci");
    fs::create_directories(work / "rootfs");
    auto [code, out] = run({"/usr/bin/tar", "-xf", archive.string(), "-C", (work / "oci").string()});
    ASSERT_EQ(code, 0) << out;
    auto index = read_json(work / "oci/index.json");
    ASSERT_TRUE(index.is_object() && !index["manifests"].empty()) << index.dump();
    auto manifest = read_json(blob(work / "oci", index["manifests"][0]["digest"]));
    config = read_json(blob(work / "oci", manifest["config"]["digest"]));
    for (const auto& layer : manifest["layers"])
      apply_layer(blob(work / "oci", layer["digest"]), work / "rootfs");
    rootfs = work / "rootfs";
    sync_read::SetUp();
  }

  void TearDown() override {
    sync_read::TearDown();
    if (!work.empty()) {
      std::error_code ec;
      fs::remove_all(work, ec);
    }
  }

  /// argv of `binary ARGS...` run in the image as its user.
  std::vector<std::string> in_image(const std::string& binary, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/sbin/chroot", "--userspec=10001:10001", rootfs.string(), "/usr/local/bin/" + binary};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  fs::path archive, work, rootfs;
  json config;
};

TEST_F(image, has_its_user_entrypoint_labels_and_every_library_its_binaries_need) {
  const auto& c = config["config"];
  EXPECT_EQ(c["User"], "10001:10001") << config.dump(2);
  EXPECT_EQ(c["Entrypoint"], json::array({"/usr/local/bin/syncforced"}));
  EXPECT_EQ(c["Labels"]["org.opencontainers.image.version"], SYNCFORCE_VERSION);
  EXPECT_FALSE(c.contains("Healthcheck")) << "Kubernetes probes gRPC; the image has no HEALTHCHECK";
  EXPECT_TRUE(c["ExposedPorts"].contains("50051/tcp"));
  EXPECT_TRUE(c["ExposedPorts"].contains("9464/tcp"));
  for (const char* b : {"syncforced", "syncforce", "sfemu"}) {
    auto [code, out] = run({"/usr/sbin/chroot", rootfs.string(), "/usr/bin/ldd", std::string{"/usr/local/bin/"} + b});
    EXPECT_EQ(code, 0) << b << ": " << out;
    EXPECT_EQ(out.find("not found"), std::string::npos) << b << ": " << out;
  }
  // Runtime only: no compiler, no headers.
  EXPECT_FALSE(fs::exists(rootfs / "usr/bin/g++"));
  EXPECT_FALSE(fs::exists(rootfs / "usr/include/caf"));
  // The user exists and owns nothing it could change in /usr.
  auto [code, passwd] = run({"/usr/sbin/chroot", rootfs.string(), "/usr/bin/getent", "passwd", "syncforce"});
  EXPECT_EQ(code, 0);
  EXPECT_NE(passwd.find(":10001:10001:"), std::string::npos) << passwd;
}

TEST_F(image, binaries_answer_their_version_as_the_image_user) {
  auto [code, out] = run(in_image("syncforced", {"--version"}));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(SYNCFORCE_VERSION), std::string::npos) << out;
  std::tie(code, out) = run(in_image("syncforce", {"--help"}));
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = run(in_image("sfemu", {"--help"}));
  EXPECT_EQ(code, 0) << out;
}

TEST_F(image, a_node_in_the_image_syncs_a_mapping_against_the_hosts_postgres_and_sfemu) {
  json records = json::array();
  for (int i = 0; i < 200; ++i)
    records.push_back({{"Name", "I" + std::to_string(i)}, {"Ext_Id__c", "I-" + std::to_string(i)}});
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", records).size(), 200u);
  write_config(every_mapping());
  // The configuration file inside the image's filesystem, readable by its user.
  auto inside = fs::path("/tmp") / fs::path(config_path).filename();
  fs::copy_file(config_path, rootfs / inside.relative_path());
  fs::permissions(rootfs / inside.relative_path(), fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  std::map<std::string, std::string> env{{"SF_TEST_PASSWORD", "sfemu"},
                                         {"SYNCFORCE_TEST_POLL_SECONDS", "1"},
                                         {"SYNCFORCE_INSECURE_LOGIN_HOSTS", "127.0.0.1,localhost"}};
  node = child_process::start(in_image("syncforced", {"--database-url", db->url(), "--grpc-address", "127.0.0.1:0",
                                                      "--node-name", "image-node", "--config", inside.string(),
                                                      "--metrics-address", "127.0.0.1:0"}),
                              {env.begin(), env.end()});
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), 200);
  // A change in Salesforce arrives through a poll.
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", json::array({{{"Name", "late"}, {"Ext_Id__c", "I-late"}}})).size(),
            1u);
  EXPECT_TRUE(wait_until([&] { return count_of(db->url(), "SELECT count(*) FROM salesforce.every__c") == 201; }, 30s))
    << node->output();
  // Its metrics endpoint answers from inside the image.
  std::smatch m;
  std::string out = node->output();
  std::regex re{"Metrics server listening.* port=([0-9]+)"};
  ASSERT_TRUE(std::regex_search(out, m, re)) << out;
  httplib::Client c("127.0.0.1", std::stoi(m[1].str()));
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("syncforce_rows_loaded_total{object=\"Every__c\",schema=\"salesforce\"} 200"),
            std::string::npos)
    << r->body;
  stop_node();
}

} // namespace
} // namespace syncforce::testing
