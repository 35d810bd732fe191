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
  w.raw(kMagic);
  w.u64(kLinkRecordVersion);
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
  if (r.raw(kMagic.size(), "the record's mark") != kMagic) {
    error = "not an XMPP link record";
    return false;
  }
  const std::uint64_t version = r.u64();
  if (r.ok() && (version == 0 || version > kLinkRecordVersion)) {
    error = "XMPP link record version " + std::to_string(version) +
            " is newer than this build reads (" + std::to_string(kLinkRecordVersion) + ")";
    return false;
  }
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
  if (r.ok() && !r.at_end()) r.fail("the record", "bytes follow its end");
  if (!r.ok()) {
    error = "bad XMPP link record: " + r.error();
    return false;
  }
  record = std::move(out);
  return true;
}

}  // namespace sb::xmpp
