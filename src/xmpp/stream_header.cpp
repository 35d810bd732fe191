#include "xmpp/stream_header.hpp"

#include "xml/escape.hpp"
#include "xml/open_tag.hpp"

namespace sb::xmpp {
namespace {
void append_attribute(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(' ');
  out.append(name).append("='");
  xml::append_escaped_attribute(out, value);
  out.push_back('\'');
}
}  // namespace

std::string opening_header(const engine::UpstreamTarget& target) {
  std::string out = "<?xml version='1.0'?><stream:stream";
  append_attribute(out, "to", target.to);
  if (!target.from.empty()) append_attribute(out, "from", target.from);
  append_attribute(out, "version", target.version.empty() ? "1.0" : target.version);
  append_attribute(out, "xml:lang", target.lang.empty() ? "en" : target.lang);
  out.append(" xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
  return out;
}

engine::StreamHeader read_server_header(std::string_view open_tag) {
  engine::StreamHeader header;
  header.id = xml::find_attribute(open_tag, "id").value_or("");
  header.from = xml::find_attribute(open_tag, "from").value_or("");
  header.version = xml::find_attribute(open_tag, "version").value_or("");
  return header;
}

}  // namespace sb::xmpp
