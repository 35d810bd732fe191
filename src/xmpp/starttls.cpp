// STARTTLS on raw element bytes, with the xml/ readers (no DOM).
#include "xmpp/starttls.hpp"

#include "xml/namespace_fixup.hpp"
#include "xml/open_tag.hpp"

namespace sb::xmpp {

TlsOffer take_starttls_offer(std::string& features_element) {
  // strip_starttls says whether the offer was required; whether there was one at
  // all shows in the length.
  const std::size_t before = features_element.size();
  TlsOffer offer;
  offer.required = xml::strip_starttls(features_element);
  offer.offered = features_element.size() != before;
  return offer;
}

TlsAnswer read_tls_answer(std::string_view element) {
  const std::string_view name = xml::element_name(element);
  const std::string_view prefix = xml::prefix_of(name);
  const std::string declaration = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
  const auto ns = xml::find_attribute(element, declaration);
  if (!ns || *ns != xml::kTlsNamespace) return TlsAnswer::kOther;
  const std::string_view local = xml::local_name_of(name);
  if (local == "proceed") return TlsAnswer::kProceed;
  if (local == "failure") return TlsAnswer::kFailure;
  return TlsAnswer::kOther;
}

}  // namespace sb::xmpp
