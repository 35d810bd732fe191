'use strict';
// Just enough XML for the tests: read one open tag's name and attributes, split a
// string into its top-level elements, and frame the byte stream switchboard sends
// to the XMPP server into stream headers, stanzas and the closing tag.
//
// The inputs are what switchboard writes (or what the tests wrote themselves), so a
// small tag scanner is enough: attribute values are assumed not to contain '>'.
// A real XML parser would hide exactly what we want to see (attribute quoting,
// where xmlns was put), and the suite must stay free of npm dependencies.

const { StringDecoder } = require('node:string_decoder');

function decodeEntities(text) {
  return text.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_, ref) => {
    switch (ref) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return '\'';
      default:
        return String.fromCodePoint(ref[1] === 'x' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1)));
    }
  });
}

function escapeAttr(value) {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

/**
 * Reads an open (or self-closing) tag such as "<body a='1' b=\"2\"/>": its name,
 * its attributes in order (values decoded, xmlns declarations included) and
 * whether it closes itself. Returns null if `tag` is not an open tag.
 */
function parseOpenTag(tag) {
  const match = /^<([^\s/>!?]+)([^>]*?)(\/?)>$/s.exec(tag.trim());
  if (!match) return null;
  const attrs = {};
  const order = [];
  const attrRe = /([^\s=]+)\s*=\s*(?:'([^']*)'|"([^"]*)")/g;
  for (let m; (m = attrRe.exec(match[2]));) {
    const value = decodeEntities(m[2] !== undefined ? m[2] : m[3]);
    if (!(m[1] in attrs)) order.push(m[1]);
    attrs[m[1]] = value;
  }
  return { name: match[1], attrs, order, selfClosing: match[3] === '/' };
}

/** The first tag of `xml` (from '<' to the next '>'), e.g. a stanza's open tag. */
function firstTag(xml) {
  const start = xml.indexOf('<');
  if (start < 0) return null;
  const end = xml.indexOf('>', start);
  return end < 0 ? null : xml.slice(start, end + 1);
}

/**
 * Scans `text` tag by tag. `onTag(kind, tagText, start, end)` is called for each
 * complete tag, kind being 'open', 'close', 'empty' (self-closing) or 'other'
 * (declarations, comments, PIs). Returns the offset after the last complete tag.
 */
function scanTags(text, onTag, from = 0) {
  let pos = from;
  for (;;) {
    const start = text.indexOf('<', pos);
    if (start < 0) return text.length;
    let end;
    if (text.startsWith('<!--', start)) {
      end = text.indexOf('-->', start);
      if (end < 0) return start;
      end += 3;
      onTag('other', text.slice(start, end), start, end);
    } else if (text.startsWith('<![CDATA[', start)) {
      end = text.indexOf(']]>', start);
      if (end < 0) return start;
      end += 3;
      onTag('other', text.slice(start, end), start, end);
    } else {
      end = text.indexOf('>', start);
      if (end < 0) return start;
      end += 1;
      const tag = text.slice(start, end);
      let kind = 'open';
      if (tag.startsWith('</')) kind = 'close';
      else if (tag.startsWith('<?') || tag.startsWith('<!')) kind = 'other';
      else if (tag.endsWith('/>')) kind = 'empty';
      onTag(kind, tag, start, end);
    }
    pos = end;
  }
}

/** The top-level elements of an XML fragment, each as its text. */
function topLevelElements(fragment) {
  const out = [];
  let depth = 0;
  let start = 0;
  scanTags(fragment, (kind, tag, s, e) => {
    if (kind === 'open') {
      if (depth === 0) start = s;
      depth += 1;
    } else if (kind === 'close') {
      depth -= 1;
      if (depth === 0) out.push(fragment.slice(start, e));
    } else if (kind === 'empty' && depth === 0) {
      out.push(tag);
    }
  });
  return out;
}

/**
 * Frames the XMPP stream switchboard writes to the server. feed() returns the
 * events found: { type: 'header', tag, attrs }, { type: 'stanza', xml } (a
 * complete top-level element of the stream) and { type: 'close' } for
 * </stream:stream>. A header may come again on the same connection (restart).
 */
class StreamReader {
  constructor() {
    this.decoder = new StringDecoder('utf8');
    this.text = '';
    this.depth = 0;
    this.stanzaStart = -1;
    this.scanPos = 0;  // where the next unscanned tag may start in `text`
  }

  feed(chunk) {
    this.text += this.decoder.write(chunk);
    const events = [];
    const consumed = scanTags(this.text, (kind, tag, start, end) => {
      if (kind === 'other') return;
      if (kind === 'open' && /^<stream:stream[\s>]/.test(tag)) {
        const parsed = parseOpenTag(tag);
        events.push({ type: 'header', tag, attrs: parsed ? parsed.attrs : {} });
        this.depth = 1;
        return;
      }
      if (kind === 'close' && tag.startsWith('</stream:stream')) {
        events.push({ type: 'close' });
        this.depth = 0;
        return;
      }
      if (kind === 'open') {
        if (this.depth === 1) this.stanzaStart = start;
        this.depth += 1;
      } else if (kind === 'close') {
        this.depth -= 1;
        if (this.depth === 1) events.push({ type: 'stanza', xml: this.text.slice(this.stanzaStart, end) });
      } else if (kind === 'empty' && this.depth === 1) {
        events.push({ type: 'stanza', xml: tag });
      }
    }, this.scanPos);
    // Keep only what an unfinished stanza or tag still needs.
    const keepFrom = this.depth > 1 ? Math.min(this.stanzaStart, consumed) : consumed;
    if (this.depth > 1) this.stanzaStart -= keepFrom;
    this.text = this.text.slice(keepFrom);
    this.scanPos = consumed - keepFrom;
    return events;
  }
}

module.exports = { parseOpenTag, firstTag, topLevelElements, scanTags, StreamReader, escapeAttr, decodeEntities };
