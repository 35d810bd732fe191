#include "xmpp/link_record.hpp"

#include "base/record_codec.hpp"

namespace sb::xmpp {
namespace {
constexpr std::string_view kMagic = "SBxl";
constexpr std::size_t kMaxName = 1024;
constexpr std::uint64_t kMaxPrefixes = 256;
constexpr std::size_t kMaxStanza = 256u << 20;
}  // namespace

std::string encode(const LinkRecord& record) {
  base::RecordWriter w;
  w.head(kMagic, kLinkRecordVersion);
  w.u64(record.framing == engine::StanzaFraming::kWebSocket ? 1 : 0);
  w.text(record.namespaces.default_ns);
  w.text(record.namespaces.stream_prefix);
  w.u64(record.namespaces.other_prefixes.size());
  for (const auto& [prefix, uri] : record.namespaces.other_prefixes) {
    w.text(prefix);
    w.text(uri);
  }
  w.text(record.stream_name);
  w.text(record.unfinished);
  return w.take();
}

bool decode(std::string_view bytes, LinkRecord& record, std::string& error) {
  base::RecordReader r(bytes);
  if (!r.head(kMagic, kLinkRecordVersion, "XMPP link record", "an XMPP link record", error))
    return false;
  LinkRecord out;
  out.framing = r.u64_at_most(1, "the framing") == 1 ? engine::StanzaFraming::kWebSocket
                                                     : engine::StanzaFraming::kBoshBody;
  out.namespaces.default_ns = r.text(kMaxName, "the default namespace");
  out.namespaces.stream_prefix = r.text(kMaxName, "the stream prefix");
  for (std::uint64_t n = r.u64_at_most(kMaxPrefixes, "the prefixes"); r.ok() && n > 0; --n) {
    std::string prefix = r.text(kMaxName, "a prefix");
    std::string uri = r.text(kMaxName, "a prefix's namespace");
    out.namespaces.other_prefixes.emplace_back(std::move(prefix), std::move(uri));
  }
  out.stream_name = r.text(kMaxName, "the stream element's name");
  out.unfinished = r.text(kMaxStanza, "the unfinished stanza");
  if (r.ok() && out.stream_name.empty()) r.fail("the stream element's name", "it is empty");
  if (!r.end("XMPP link record", error)) return false;
  record = std::move(out);
  return true;
}

}  // namespace sb::xmpp
