'use strict';
// The links of XEP-0156 host-meta documents, as { rel: href }.

/** The Link elements of an XRD document (host-meta). */
function xrdLinks(xml) {
  const links = {};
  for (const m of xml.matchAll(/<Link\s+rel=(['"])([^'"]+)\1\s+href=(['"])([^'"]*)\3\s*\/>/g)) links[m[2]] = m[4];
  return links;
}

/** The links of a JRD document (host-meta.json). */
function jrdLinks(json) {
  const links = {};
  for (const link of JSON.parse(json).links) links[link.rel] = link.href;
  return links;
}

module.exports = { xrdLinks, jrdLinks };
