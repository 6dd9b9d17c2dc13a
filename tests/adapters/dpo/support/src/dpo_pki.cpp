#include <kurer/testing/dpo_pki.hpp>
#include <kurer/testing/paths.hpp>

#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace kurer::testing {

void write_file(const std::filesystem::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out)
        throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.string());
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

run_result run(const std::vector<std::string>& argv, const std::filesystem::path& input) {
    scratch_dir tmp;
    const auto out_path = tmp / "stdout";
    const auto err_path = tmp / "stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, input.empty() ? "/dev/null" : input.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("cannot start " + argv[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    run_result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(out_path);
    r.err = read_file(err_path);
    return r;
}

namespace {

void must(const run_result& r, const std::string& what) {
    if (r.exit_code != 0)
        throw std::runtime_error(what + " failed (" + std::to_string(r.exit_code) + "): " + r.err);
}

} // namespace

test_pki::test_pki(std::filesystem::path dir)
    : dir_(std::move(dir))
    , ca_cert_(dir_ / "ca.pem")
    , ca_key_(dir_ / "ca.key") {
    std::filesystem::create_directories(dir_);
    must(run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key_.string(), "-out",
              ca_cert_.string(), "-days", "3650", "-subj", "/O=Kurer Test CA/CN=Kurer Test CA", "-addext",
              "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"}),
         "openssl req (CA)");
}

party test_pki::make_party(const std::string& name, const std::string& org, bool signed_by_ca, int bits,
                           subject_profile profile) {
    party p;
    p.organization_number = org;
    p.key = dir_ / (name + ".key");
    p.leaf = dir_ / (name + ".leaf.pem");
    p.cert = dir_ / (name + ".pem");
    const std::string number =
        profile == subject_profile::seid2 ? "/organizationIdentifier=NTRNO-" + org : "/serialNumber=" + org;
    const std::string subject = "/C=NO/O=" + name + number + "/CN=" + name;
    const std::string usage = "keyUsage=critical,digitalSignature,keyEncipherment,dataEncipherment";
    if (!signed_by_ca) {
        must(run({"openssl", "req", "-x509", "-newkey", "rsa:" + std::to_string(bits), "-nodes", "-keyout",
                  p.key.string(), "-out", p.leaf.string(), "-days", "365", "-subj", subject, "-addext",
                  usage}),
             "openssl req -x509 (" + name + ")");
        std::filesystem::copy_file(p.leaf, p.cert, std::filesystem::copy_options::overwrite_existing);
        return p;
    }
    const auto csr = dir_ / (name + ".csr");
    const auto ext = dir_ / (name + ".ext");
    write_file(ext, usage + "\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
    must(run({"openssl", "req", "-newkey", "rsa:" + std::to_string(bits), "-nodes", "-keyout", p.key.string(),
              "-out", csr.string(), "-subj", subject}),
         "openssl req (" + name + ")");
    must(run({"openssl", "x509", "-req", "-in", csr.string(), "-CA", ca_cert_.string(), "-CAkey",
              ca_key_.string(), "-CAcreateserial", "-out", p.leaf.string(), "-days", "365", "-extfile",
              ext.string()}),
         "openssl x509 -req (" + name + ")");
    write_file(p.cert, read_file(p.leaf) + read_file(ca_cert_));
    return p;
}

} // namespace kurer::testing
