// StanzaFramer against realistic Prosody and ejabberd streams: exact stanzas for one
// whole read, then the same events for a split at every byte, one byte at a time and
// random chunks; limits, hostile input and the stream prefix.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "xml/stanza_framer.hpp"

using sb::xml::FramerSink;
using sb::xml::StanzaFramer;

namespace {

// Records every callback as one string: "open:<tag>", "stanza:<bytes>", "close",
// "error:<what>".
struct RecordingSink final : FramerSink {
  std::vector<std::string> events;
  StanzaFramer* framer = nullptr;
  std::size_t max_buffered = 0;
  std::string reset_on_stanza;  // call framer->reset() when this stanza arrives

  void stream_opened(std::string_view open_tag) override {
    events.push_back("open:" + std::string(open_tag));
  }
  void stanza(std::string&& bytes) override {
    if (framer != nullptr) CHECK(framer->buffered_bytes() == 0);
    const bool restart = !reset_on_stanza.empty() && bytes == reset_on_stanza;
    events.push_back("stanza:" + bytes);
    if (restart) framer->reset();
  }
  void stream_closed() override { events.emplace_back("close"); }
  void framing_error(std::string_view what) override {
    events.push_back("error:" + std::string(what));
  }
};

std::vector<std::string> feed_whole(std::string_view input, std::size_t limit = 1 << 20) {
  StanzaFramer framer(limit);
  RecordingSink sink;
  sink.framer = &framer;
  framer.feed(input, sink);
  return sink.events;
}

std::vector<std::string> feed_split(std::string_view input, std::size_t at,
                                    std::size_t limit = 1 << 20) {
  StanzaFramer framer(limit);
  RecordingSink sink;
  framer.feed(input.substr(0, at), sink);
  framer.feed(input.substr(at), sink);
  return sink.events;
}

std::vector<std::string> feed_bytewise(std::string_view input, std::size_t limit,
                                       std::size_t* max_buffered = nullptr) {
  StanzaFramer framer(limit);
  RecordingSink sink;
  for (char c : input) {
    framer.feed(std::string_view(&c, 1), sink);
    if (max_buffered != nullptr) *max_buffered = std::max(*max_buffered, framer.buffered_bytes());
  }
  return sink.events;
}

// The property the framer lives by: how the bytes are cut never changes the result.
void check_every_split(std::string_view input, std::size_t limit = 1 << 20) {
  const auto whole = feed_whole(input, limit);
  for (std::size_t at = 0; at <= input.size(); ++at) {
    INFO("split at " << at);
    REQUIRE(feed_split(input, at, limit) == whole);
  }
  CHECK(feed_bytewise(input, limit) == whole);
  std::mt19937 rng(12345);
  for (int round = 0; round < 50; ++round) {
    StanzaFramer framer(limit);
    RecordingSink sink;
    std::size_t pos = 0;
    while (pos < input.size()) {
      const std::size_t len = std::uniform_int_distribution<std::size_t>(1, 40)(rng);
      framer.feed(input.substr(pos, len), sink);
      pos += std::min(len, input.size() - pos);
    }
    REQUIRE(sink.events == whole);
  }
}

const std::string kProsodyHeader =
    "<stream:stream xmlns='jabber:client' xml:lang='en' "
    "xmlns:stream='http://etherx.jabber.org/streams' "
    "id='c29b9c34-4d22-4130-9305-78536fe3d46b' version='1.0' from='localhost'>";

const std::vector<std::string> kProsodyStanzas = {
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
    "<mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1</mechanism>"
    "<mechanism>SCRAM-SHA-256</mechanism></mechanisms></stream:features>",
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    "<iq type='result' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
    "<jid>u1@localhost/curl</jid></bind></iq>",
    // Quotes of both kinds holding '>' and '/', an element nested in one of the same
    // name, a comment and a PI inside the stanza, CDATA with markup-looking content.
    "<message id=\"m1\" to='u1@localhost/curl' type='chat' xml:lang='en' "
    "from=\"u1@localhost/curl\" data-a='x>y' data-b=\"a/>\" data-c='\"/>'>"
    "<body>hello &amp; &lt;me&gt; it's \"quoted\" a > b</body>"
    "<!-- a comment with <tags/> and -- dashes - -->"
    "<?pi with > and <stuff/> ?>"
    "<x xmlns='urn:test'><x><x/></x><x></x></x>"
    "<body><![CDATA[<b>not a tag</b> ]] ]> ]]]> <![CDATA[ </message>]]></body>"
    "</message>",
    "<presence xml:lang='en' from='u1@localhost/curl'><x xmlns='vcard-temp:x:update'>"
    "<photo/></x></presence>",
    "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
    "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text>"
    "</stream:error>",
};

std::string prosody_stream() {
  std::string s = "<?xml version='1.0'?>" + kProsodyHeader;
  s += kProsodyStanzas[0];
  s += "\n";
  s += kProsodyStanzas[1];
  s += " ";  // whitespace keepalive
  s += kProsodyStanzas[2];
  s += "<!-- between stanzas: <iq/> -->\r\n\t";
  s += kProsodyStanzas[3];
  s += "<?keepalive ?>";
  s += kProsodyStanzas[4];
  s += "\n\n \n";
  s += kProsodyStanzas[5];
  s += "</stream:stream>";
  return s;
}

const std::string kEjabberdHeader =
    "<stream:stream xmlns:stream=\"http://etherx.jabber.org/streams\" "
    "xmlns=\"jabber:client\" id=\"13846594936236666986\" from=\"localhost\" "
    "version=\"1.0\" xml:lang=\"en\">";

const std::vector<std::string> kEjabberdStanzas = {
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
    "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>"
    "<c ver='IASUwEw5fI+pwzKMK4ztlZf+quA=' node='http://www.process-one.net/en/ejabberd/' "
    "hash='sha-1' xmlns='http://jabber.org/protocol/caps'/><sm xmlns='urn:xmpp:sm:3'/>"
    "</stream:features>",
    "<iq xml:lang='en' to='alice@localhost/transcript' from='localhost' type='result' "
    "id='sess_1'/>",
    "<message xml:lang='en' to='alice@localhost/transcript' from='bob@localhost/transcript' "
    "type='chat' id='m1'><body>h\xC3\xA9llo \xF0\x9F\x98\x80 over BOSH</body></message>",
};

std::string ejabberd_stream() {
  std::string s = "<?xml version='1.0'?>\n" + kEjabberdHeader;
  for (const auto& stanza : kEjabberdStanzas) s += stanza + "\n";
  s += "</stream:stream >";
  return s;
}

}  // namespace

TEST_CASE("a Prosody stream read whole gives the header, each stanza exactly, then close") {
  const auto events = feed_whole(prosody_stream());
  std::vector<std::string> expected = {"open:" + kProsodyHeader};
  for (const auto& s : kProsodyStanzas) expected.push_back("stanza:" + s);
  expected.emplace_back("close");
  CHECK(events == expected);
}

TEST_CASE("an ejabberd stream read whole gives the header, each stanza exactly, then close") {
  const auto events = feed_whole(ejabberd_stream());
  std::vector<std::string> expected = {"open:" + kEjabberdHeader};
  for (const auto& s : kEjabberdStanzas) expected.push_back("stanza:" + s);
  expected.emplace_back("close");
  CHECK(events == expected);
}

TEST_CASE("splitting the Prosody stream anywhere gives the same events") {
  check_every_split(prosody_stream());
}

TEST_CASE("splitting the ejabberd stream anywhere gives the same events") {
  check_every_split(ejabberd_stream());
}

TEST_CASE("no bytes are held between stanzas, only inside a split one") {
  StanzaFramer framer;
  RecordingSink sink;
  sink.framer = &framer;
  framer.feed("<?xml version='1.0'?>" + kProsodyHeader, sink);
  CHECK(framer.buffered_bytes() == 0);
  const std::string first_part = "<iq type='result' id='1'><query xmlns='jabber:iq:roster'";
  framer.feed(first_part, sink);
  CHECK(framer.buffered_bytes() == first_part.size());
  framer.feed("/></iq>", sink);
  CHECK(framer.buffered_bytes() == 0);
  framer.feed(" \n<!-- a comment split", sink);
  CHECK(framer.buffered_bytes() == 0);  // comments between stanzas are dropped unbuffered
  framer.feed(" across reads --> ", sink);
  CHECK(framer.buffered_bytes() == 0);
  REQUIRE(sink.events.size() == 2);
  CHECK(sink.events[1] == "stanza:<iq type='result' id='1'><query xmlns='jabber:iq:roster'/></iq>");
}

TEST_CASE("a stream whose prefix is not 'stream' closes with its own prefix") {
  const std::string header =
      "<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams' version='1.0'>";
  const std::string features =
      "<s:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></s:features>";
  const std::string input = header + features + "</s:stream>";
  CHECK(feed_whole(input) ==
        std::vector<std::string>{"open:" + header, "stanza:" + features, "close"});
  check_every_split(input);

  const auto wrong = feed_whole(header + features + "</stream:stream>");
  REQUIRE(wrong.size() == 3);
  CHECK(wrong[2].starts_with("error:"));
}

TEST_CASE("the stanza size limit is exact and nothing past it is buffered") {
  const std::string header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
  const std::string fits = "<iq id='1234567'/>";  // 18 bytes

  // The header itself is 63 bytes: use a limit that lets it through.
  const std::size_t limit = 64;
  const std::string big(limit, 'x');
  const std::string input = header + fits + "<message><body>" + big + "</body></message>" + fits;
  const auto events = feed_whole(input, limit);
  REQUIRE(events.size() == 3);
  CHECK(events[1] == "stanza:" + fits);
  CHECK(events[2] == "error:element larger than the stanza size limit");
  check_every_split(input, limit);

  std::size_t max_buffered = 0;
  CHECK(feed_bytewise(input, limit, &max_buffered) == events);
  CHECK(max_buffered <= limit);

  // Exactly at the limit is fine.
  const std::string exact = "<a>" + std::string(limit - 7, 'y') + "</a>";
  REQUIRE(exact.size() == limit);
  CHECK(feed_whole(header + exact, limit) ==
        std::vector<std::string>{"open:" + header, "stanza:" + exact});
  CHECK(feed_bytewise(header + exact, limit) == feed_whole(header + exact, limit));
}

TEST_CASE("a DOCTYPE anywhere is a framing error") {
  const std::string header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
  for (const std::string& input : std::vector<std::string>{
           std::string("<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'boom'>]>") + header,
           header + "<!DOCTYPE x>",
           header + "<message><body><!DOCTYPE x></body></message>",
           header + "<message><!ENTITY x 'y'></message>",
       }) {
    INFO(input);
    const auto events = feed_whole(input);
    REQUIRE(!events.empty());
    CHECK(events.back().starts_with("error:"));
    check_every_split(input);
  }
  CHECK(feed_whole(header + "<!DOCTYPE x>").back() == "error:DOCTYPE is not allowed in XMPP");
}

TEST_CASE("garbage, text between stanzas and broken markup are framing errors") {
  const std::string header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
  const std::vector<std::string> bad = {
      "HTTP/1.1 400 Bad Request\r\n\r\n",
      "<html><body>not xmpp</body></html>",
      "</stream:stream>",
      header + "hello",
      header + "<iq/>x<iq/>",
      header + "&#32;",
      header + "<![CDATA[ ]]>",
      header + "< iq/>",
      header + "</iq>",
      header + "<iq <id='1'/>",
      header + "<!-x-->",
      header + "<message><![CDAT[x]]></message>",
  };
  for (const auto& input : bad) {
    INFO(input);
    const auto events = feed_whole(input);
    REQUIRE(!events.empty());
    CHECK(events.back().starts_with("error:"));
    CHECK(std::count_if(events.begin(), events.end(),
                        [](const std::string& e) { return e.starts_with("error:"); }) == 1);
    check_every_split(input);
  }
}

TEST_CASE("after an error or the stream close further input is ignored until reset") {
  StanzaFramer framer;
  RecordingSink sink;
  framer.feed("junk", sink);
  framer.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>", sink);
  CHECK(sink.events.size() == 1);

  framer.reset();
  framer.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'></stream:stream>",
              sink);
  framer.feed("<iq/>", sink);
  CHECK(sink.events.size() == 3);
  CHECK(sink.events.back() == "close");
}

TEST_CASE("a self-closing stream header opens and closes the stream") {
  const std::string header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>";
  CHECK(feed_whole(header) == std::vector<std::string>{"open:" + header, "close"});
}

TEST_CASE("reset from a callback reads the rest of the bytes as a new stream") {
  const std::string header1 =
      "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' id='1'>";
  const std::string header2 =
      "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' id='2'>";
  const std::string success = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
  const std::string input =
      "<?xml version='1.0'?>" + header1 + success + "<?xml version='1.0'?>" + header2 + "<iq/>";
  const std::vector<std::string> expected = {"open:" + header1, "stanza:" + success,
                                             "open:" + header2, "stanza:<iq/>"};
  for (std::size_t at = 0; at <= input.size(); ++at) {
    StanzaFramer framer;
    RecordingSink sink;
    sink.framer = &framer;
    sink.reset_on_stanza = success;
    framer.feed(std::string_view(input).substr(0, at), sink);
    framer.feed(std::string_view(input).substr(at), sink);
    INFO("split at " << at);
    CHECK(sink.events == expected);
  }
}

TEST_CASE("an idle framer is small: no strings inline, nothing held between stanzas") {
  // Every upstream link embeds one; the partial unit and an unusual stream prefix
  // live out of line (see stanza_framer.cpp).
  static_assert(sizeof(void*) != 8 || sizeof(StanzaFramer) <= 40);
  StanzaFramer framer;
  RecordingSink sink;
  const std::string header =
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1' "
      "from='example.com' version='1.0'>";
  framer.feed(header, sink);
  framer.feed("<message to='a@b'><body>hal", sink);
  CHECK(framer.buffered_bytes() > 0);
  framer.feed("lo</body></message>", sink);
  CHECK(framer.buffered_bytes() == 0);
  framer.feed("</stream:stream>", sink);
  REQUIRE(sink.events.size() == 3);
  CHECK(sink.events[1] == "stanza:<message to='a@b'><body>hallo</body></message>");
  CHECK(sink.events[2] == "close");
}

TEST_CASE("a framer moved at any point where it is movable goes on with the same events") {
  // The move: a new framer resumes the open stream and is fed the old one's
  // unfinished element, then the rest of the bytes, as another process would.
  for (const std::string& input : {prosody_stream(), ejabberd_stream()}) {
    const std::vector<std::string> expected = feed_whole(input);
    std::size_t moved = 0;
    for (std::size_t at = 1; at < input.size(); ++at) {
      StanzaFramer before;
      RecordingSink sink;
      before.feed(input.substr(0, at), sink);
      if (!before.movable()) continue;
      ++moved;
      StanzaFramer after;
      after.resume_open(before.stream_name());
      after.feed(before.unfinished(), sink);
      after.feed(input.substr(at), sink);
      CHECK_MESSAGE(sink.events == expected, "moved after byte ", at);
    }
    CHECK(moved > input.size() / 2);  // nearly everywhere but the header and the end
  }
}

TEST_CASE("a framer is not movable before its header, after the end, or inside a dropped comment") {
  StanzaFramer framer;
  RecordingSink sink;
  CHECK_FALSE(framer.movable());
  framer.feed(
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams'",
      sink);
  CHECK_FALSE(framer.movable());
  framer.feed(">", sink);
  CHECK(framer.movable());
  CHECK(framer.stream_name() == "stream:stream");
  framer.feed("<!-- a comm", sink);
  CHECK_FALSE(framer.movable());
  framer.feed("ent --><message", sink);
  CHECK(framer.movable());
  CHECK(framer.unfinished() == "<message");
  framer.feed("/></stream:stream>", sink);
  CHECK_FALSE(framer.movable());
}

TEST_CASE("a moved framer keeps a stream element of another prefix") {
  StanzaFramer framer;
  RecordingSink sink;
  framer.resume_open("s:stream");
  framer.feed("<message/></s:stream>", sink);
  CHECK(sink.events == std::vector<std::string>{"stanza:<message/>", "close"});
}
