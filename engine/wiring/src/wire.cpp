// Building every port from the configuration.
#include "internal.hpp"

#include <kurer/core/files.hpp>
#include <kurer/dpo/package.hpp>

namespace kurer::engine {
namespace wiring_detail {

result<own_keys> read_own_keys(const daemon_config& config) {
    own_keys keys;
    auto cert = read_small_file(config.certificate, 1024 * 1024);
    if (!cert)
        return make_error(config_errc::unreadable, "certificate: " + cert.error().message);
    auto key = read_small_file(config.private_key, 1024 * 1024);
    if (!key)
        return make_error(config_errc::unreadable, "private_key: " + key.error().message);
    keys.certificate_pem = std::move(*cert);
    keys.private_key_pem = std::move(*key);
    return keys;
}

result<dpo::identity> load_identity(const daemon_config& config, const own_keys& keys) {
    auto id = dpo::identity::from_pem(keys.certificate_pem, keys.private_key_pem);
    if (!id)
        return make_error(config_errc::invalid, "certificate/private_key: " + id.error().message);
    // Either profile (SEID 1 serialNumber, SEID 2.0 organizationIdentifier); a certificate that
    // names no organisation, or two, cannot sign for this one.
    const auto org = id->leaf().organization_number();
    if (!org)
        return make_error(config_errc::invalid,
                          "certificate: " + config.certificate.string() + ": " + org.error().message);
    if (*org != config.runner.organization)
        return make_error(config_errc::invalid, "certificate: " + config.certificate.string() +
                                                    " is organisation " + *org + "'s, not " +
                                                    config.runner.organization + "'s");
    return id;
}

result<packer_settings> packer_settings_of(const daemon_config& config, dpo::identity id,
                                           adapter_observer observer) {
    packer_settings s{std::move(id), config.runner.organization, config.digest,
                      config.broker.kind == broker_kind::altinn2, std::move(observer)};
    if (!config.enterprise_ca_bundle.empty()) {
        auto anchors = dpo::trust_anchors::load(config.enterprise_ca_bundle);
        if (!anchors)
            return make_error(config_errc::invalid, "enterprise_ca_bundle: " + anchors.error().message);
        s.anchors = std::move(*anchors);
    }
    for (const auto& [signer, senders] : config.signing_delegations)
        s.delegations[signer].insert(senders.begin(), senders.end());
    return s;
}

} // namespace wiring_detail

using namespace wiring_detail;

result<std::size_t> clean_package_directories(const std::filesystem::path& data_dir) {
    std::size_t removed = 0;
    const auto out_dir = data_dir / "packages" / "out";
    const auto in_dir = data_dir / "packages" / "in";
    std::error_code ec;
    if (std::filesystem::is_directory(out_dir, ec)) {
        auto packs = dpo::remove_pack_leftovers(out_dir);
        if (!packs)
            return packs.error();
        removed += *packs;
    }
    // decrypt_asic writes the payload through ".<name>.<uuid>.tmp" and renames it: a kill in
    // between leaves the temporary, which nothing will ever finish.
    if (!std::filesystem::is_directory(in_dir, ec))
        return removed;
    for (const auto& entry : std::filesystem::directory_iterator(in_dir, ec)) {
        const auto name = entry.path().filename().string();
        std::error_code ignored;
        if (name.starts_with(".") && name.ends_with(".tmp") && entry.is_regular_file(ignored) &&
            std::filesystem::remove(entry.path(), ignored))
            ++removed;
    }
    if (ec)
        return make_error(ec, "cannot clean " + in_dir.string() + ": " + ec.message(), retry::yes);
    return removed;
}

result<std::shared_ptr<packer_port>> make_dpo_packer(const daemon_config& config, adapter_observer observer) {
    auto keys = read_own_keys(config);
    if (!keys)
        return keys.error();
    auto id = load_identity(config, *keys);
    if (!id)
        return id.error();
    auto settings = packer_settings_of(config, std::move(*id), std::move(observer));
    if (!settings)
        return settings.error();
    return make_packer_port(std::move(*settings));
}

result<wired> wire(const daemon_config& config, wiring_options options) {
    auto keys = read_own_keys(config);
    if (!keys)
        return keys.error();
    auto id = load_identity(config, *keys);
    if (!id)
        return id.error();
    auto creds = maskinporten::credentials::from_pem(keys->certificate_pem, keys->private_key_pem);
    if (!creds)
        return make_error(config_errc::invalid, "certificate/private_key: " + creds.error().message);
    auto packing = packer_settings_of(config, std::move(*id), options.observer);
    if (!packing)
        return packing.error();

    if (auto cleaned = clean_package_directories(config.runner.data_dir); !cleaned)
        return cleaned.error();

    auto net = std::make_shared<network_impl>(config.runner.io_threads, options.observer);

    http::client_config hc;
    hc.connect_timeout = config.http.connect_timeout;
    hc.request_timeout = config.http.request_timeout;
    hc.idle_timeout = config.http.idle_timeout;
    hc.max_connections_per_host = config.http.max_connections_per_host;
    hc.ca_bundle = config.ca_bundle;
    auto client = http::client::create(net->io.get_executor(), hc);
    if (!client)
        return make_error(config_errc::invalid, "ca_bundle: " + client.error().message);
    net->http = std::make_shared<http::client>(std::move(*client));

    maskinporten::config mc;
    mc.token_url = config.maskinporten.token_url;
    mc.audience = config.maskinporten.audience;
    mc.client_id = config.maskinporten.client_id;
    mc.grant_lifetime = config.maskinporten.grant_lifetime;
    mc.refresh_margin = config.maskinporten.refresh_margin;
    maskinporten::provider_options po;
    po.blocking = net->blocking.get_executor();
    auto tokens = maskinporten::token_provider::create(*net->http, mc, std::move(*creds), po);
    if (!tokens)
        return make_error(config_errc::invalid, "maskinporten: " + tokens.error().message);
    net->tokens.emplace(std::move(*tokens));

    service_registry::config sc;
    sc.url = config.service_registry.url;
    sc.signed_responses = config.service_registry.signed_responses;
    sc.cache_ttl = config.service_registry.cache_ttl;
    sc.scopes = config.runner.scopes;
    service_registry::client_options so;
    so.blocking = net->blocking.get_executor();
    auto registry = service_registry::client::create(*net->http, *net->tokens, sc, so);
    if (!registry)
        return make_error(config_errc::invalid, "service_registry: " + registry.error().message);
    net->registry.emplace(std::move(*registry));

    wired w;
    w.network = net;
    w.ports.token = make_token_port(net);
    w.ports.resolver = make_resolver_port(net);
    w.capabilities = make_capabilities_lookup(net);
    w.ports.packer = make_packer_port(std::move(*packing));
    if (options.broker) {
        w.ports.broker = std::move(options.broker);
    } else {
        auto broker = config.broker.kind == broker_kind::altinn2 ? make_altinn2_broker(net, config)
                                                                 : make_altinn3_broker(net, config);
        if (!broker) {
            net->stop();
            return broker.error();
        }
        w.ports.broker = std::move(*broker);
    }
    return w;
}

} // namespace kurer::engine
