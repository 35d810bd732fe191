// fuzz_body_parser: xml::parse_body on hostile request bodies.
//
// Beyond "no crash, no leak, no undefined behaviour", an accepted body's payload
// is what the XMPP server will read, so it must be clean: wrapped again in a plain
// httpbind <body/>, it must parse without error (well-formed, namespace-complete,
// nothing the first parse would have refused) to the same payload with the same
// number of elements (the namespace fix-ups are complete and stable). Namespace
// declarations are never listed as attributes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "support/check.hpp"
#include "xml/body_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  sb::xml::BoshBody body;
  if (sb::xml::parse_body(input, body) != sb::xml::BodyError::kNone) return 0;

  FUZZ_CHECK(body.payload.empty() == (body.payload_elements == 0), body.payload);
  for (const auto& [name, value] : body.attributes) {
    FUZZ_CHECK(!name.empty() && name != "xmlns" && name.rfind("xmlns:", 0) != 0,
               "namespace declaration listed: " + name);
    FUZZ_CHECK(body.attribute(name) != nullptr, name);
  }

  const std::string wrapped =
      "<body xmlns='http://jabber.org/protocol/httpbind'>" + body.payload + "</body>";
  sb::xml::BoshBody again;
  const sb::xml::BodyError error = sb::xml::parse_body(wrapped, again);
  FUZZ_CHECK(error == sb::xml::BodyError::kNone, std::string("payload does not parse again: ") +
                                                     std::string(sb::xml::body_error_text(error)) +
                                                     "\n  payload: " + body.payload);
  FUZZ_CHECK(again.payload == body.payload, "payload changes when parsed again:\n  first:  " +
                                                body.payload + "\n  second: " + again.payload);
  FUZZ_CHECK(again.payload_elements == body.payload_elements, body.payload);
  return 0;
}
