// Turns the daemon's Config into the settings of the layers below (bosh/, http/,
// xmpp/) and of the worker's own parts (WebSocket timeouts, login pacing), which
// never see the Config itself.
#pragma once

#include "app/config/config.hpp"
#include "app/front/ws_endpoint.hpp"
#include "app/process/login_pacer.hpp"
#include "bosh/settings.hpp"
#include "http/limits.hpp"
#include "xmpp/upstream_connector.hpp"

namespace sb::app {

bosh::EngineSettings engine_settings(const Config& config, int worker_index);
http::ConnectionLimits connection_limits(const Config& config);
xmpp::LinkSettings link_settings(const Config& config);
WsTimeouts ws_timeouts(const Config& config);
LoginPacerSettings login_pacer_settings(const Config& config);

}  // namespace sb::app
