// Turns the daemon's Config into the settings of the layers below (bosh/, http/,
// xmpp/), which never see the Config itself.
#pragma once

#include "app/config/config.hpp"
#include "bosh/settings.hpp"
#include "http/limits.hpp"
#include "xmpp/upstream_link.hpp"

namespace sb::app {

bosh::EngineSettings engine_settings(const Config& config, int worker_index);
http::ConnectionLimits connection_limits(const Config& config);
xmpp::LinkSettings link_settings(const Config& config);

}  // namespace sb::app
