// The raw-byte helpers: escaping, names and attributes of a tag, reference decoding,
// and the tag walker the fix-ups are built on.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "xml/escape.hpp"
#include "xml/open_tag.hpp"
#include "xml/tag_walker.hpp"

using namespace sb::xml;

TEST_CASE("attribute escaping covers all five specials, text escaping three") {
  std::string out = "a='";
  append_escaped_attribute(out, "x&y<z>'\"w\xC3\xA9");
  CHECK(out == "a='x&amp;y&lt;z&gt;&apos;&quot;w\xC3\xA9");
  std::string text;
  append_escaped_text(text, "1 < 2 && 'q' \"r\" ]]>");
  CHECK(text == "1 &lt; 2 &amp;&amp; 'q' \"r\" ]]&gt;");
  std::string plain;
  append_escaped_text(plain, "nothing special");
  CHECK(plain == "nothing special");
}

TEST_CASE("element_name reads the qualified name of the first tag") {
  CHECK(element_name("<iq type='get'/>") == "iq");
  CHECK(element_name("<stream:features><x/></stream:features>") == "stream:features");
  CHECK(element_name("  \n<message>") == "message");
  CHECK(element_name("<presence/>") == "presence");
  CHECK(element_name("<a\tb='1'>") == "a");
  CHECK(element_name("text").empty());
  CHECK(element_name("").empty());
  CHECK(element_name("<").empty());
  CHECK(element_name("</iq>").empty());
  CHECK(prefix_of("stream:features") == "stream");
  CHECK(local_name_of("stream:features") == "features");
  CHECK(prefix_of("iq").empty());
  CHECK(local_name_of("iq") == "iq");
}

TEST_CASE("find_attribute handles both quotes, spacing and references") {
  const std::string tag =
      "<message to='a@b/c' from = \"d@e\"\n type\t=\t'chat' data='x>y/z' "
      "esc='&amp;&lt;&gt;&apos;&quot;&#65;&#x42;&#xe9;&#x1F600;' xml:lang='en' "
      "keep='&foo; &#0; & &#xD800;'><body>x='no'</body></message>";
  CHECK(find_attribute(tag, "to") == "a@b/c");
  CHECK(find_attribute(tag, "from") == "d@e");
  CHECK(find_attribute(tag, "type") == "chat");
  CHECK(find_attribute(tag, "data") == "x>y/z");
  CHECK(find_attribute(tag, "esc") == "&<>'\"AB\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(find_attribute(tag, "xml:lang") == "en");
  CHECK(find_attribute(tag, "lang") == std::nullopt);  // qualified names match exactly
  CHECK(find_attribute(tag, "keep") == "&foo; &#0; & &#xD800;");
  CHECK(find_attribute(tag, "x") == std::nullopt);  // text of the element is not a tag
  CHECK(find_attribute(tag, "missing") == std::nullopt);
  CHECK(find_attribute("<a b='1' c='2/>", "c") == std::nullopt);  // unterminated
  CHECK(find_attribute("<a b='1'c='2'/>", "c") == std::nullopt);  // no space between
  CHECK(find_attribute("<a b='1'/>", "b") == "1");
}

TEST_CASE("the attribute cursor reports offsets, the tag end and self-closing") {
  const std::string tag = "<iq type='get' id=\"1\"/>";
  AttributeCursor cursor(tag);
  CHECK(cursor.name() == "iq");
  CHECK(cursor.name_end() == 3);
  std::vector<std::string> seen;
  for (RawAttribute a; cursor.next(a);) {
    seen.push_back(std::string(a.name) + "=" + std::string(a.raw_value));
    CHECK(tag.substr(a.begin, a.end - a.begin).starts_with(a.name));
  }
  CHECK(seen == std::vector<std::string>{"type=get", "id=1"});
  CHECK_FALSE(cursor.malformed());
  CHECK(cursor.self_closing());
  CHECK(cursor.tag_end() == tag.size());

  AttributeCursor open("<a x='1' >text</a>");
  for (RawAttribute a; open.next(a);) {
  }
  CHECK_FALSE(open.self_closing());
  CHECK(open.tag_end() == 10);
}

TEST_CASE("decode_references decodes only predefined and numeric references") {
  CHECK(decode_references("a &amp;amp; b") == "a &amp; b");
  CHECK(decode_references("&lt;&#60;&#x3c;&#x3C;") == "<<<<");
  CHECK(decode_references("&nbsp; &#; &#x; &#1; &#x110000; &#99999999999999999999;") ==
        "&nbsp; &#; &#x; &#1; &#x110000; &#99999999999999999999;");
  CHECK(decode_references("end &") == "end &");
  CHECK(decode_references("").empty());
}

TEST_CASE("the tag walker skips text, comments, CDATA and PIs and tracks depth") {
  const std::string element =
      "<message a='>'><body>x &lt; <![CDATA[<fake>]]></body><!-- <no/> --><?pi <no/>?>"
      "<x><y/></x></message>";
  TagWalker walker(element);
  std::vector<std::string> seen;
  for (MarkupTag t; walker.next(t);) {
    const char kind = t.kind == MarkupTag::Kind::kOpen    ? 'o'
                      : t.kind == MarkupTag::Kind::kClose ? 'c'
                                                          : 'e';
    // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, a false positive,
    // GCC bug 105651) on a chain of std::string temporaries joined with +.
    std::string entry(1, kind);
    entry += std::to_string(t.depth);
    entry += t.text;
    seen.push_back(std::move(entry));
    CHECK(element.substr(t.offset, t.text.size()) == t.text);
  }
  CHECK_FALSE(walker.malformed());
  CHECK(seen == std::vector<std::string>{"o1<message a='>'>", "o2<body>", "c2</body>", "o2<x>",
                                         "e3<y/>", "c2</x>", "c1</message>"});

  TagWalker broken("<a><!-- never closed");
  MarkupTag t;
  CHECK(broken.next(t));
  CHECK_FALSE(broken.next(t));
  CHECK(broken.malformed());
}
