// The Switchboard demo chat: log in over BOSH or WebSocket with Strophe.js, show
// the roster with who is online, send and receive one-to-one chat messages.
//
// The BOSH endpoint is /http-bind on the page's own origin (Switchboard serves
// this page, BOSH and WebSocket on one port), or the `bosh` query parameter; the
// WebSocket endpoint is ws(s)://<the page's host>/xmpp-websocket, or the `ws`
// parameter. The integration tests use both parameters to log in cross-origin.
// `transport=websocket` selects WebSocket at load. Strophe picks its protocol
// from the URL's scheme. Everything the server sends is shown with textContent,
// never as HTML.
(function () {
  'use strict';

  // Strophe's browser build defines these globals.
  const { Strophe, $iq, $msg, $pres } = window;
  Strophe.setLogLevel(Strophe.LogLevel.WARN);
  const params = new URLSearchParams(location.search);
  const boshUrl = params.get('bosh') || location.origin + '/http-bind';
  const wsUrl = params.get('ws') ||
    (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/xmpp-websocket';
  const $ = (id) => document.getElementById(id);

  let connection = null;
  let recipient = null; // bare JID the next message goes to
  const contacts = new Map(); // bare JID -> { name, resources: Set, element }

  function chosenUrl() {
    return $('transport-websocket').checked ? wsUrl : boshUrl;
  }

  function showEndpoint() {
    $('endpoint-kind').textContent = $('transport-websocket').checked ? 'WebSocket' : 'BOSH';
    $('endpoint-url').textContent = chosenUrl();
  }

  if (params.get('transport') === 'websocket') $('transport-websocket').checked = true;
  for (const id of ['transport-bosh', 'transport-websocket']) $(id).addEventListener('change', showEndpoint);
  showEndpoint();

  function setStatus(text, state) {
    $('status').textContent = text;
    $('status').dataset.state = state;
  }

  function addToLog(kind, who, text) {
    const item = document.createElement('li');
    item.className = kind;
    if (who) {
      const label = document.createElement('span');
      label.className = 'who';
      label.textContent = who;
      item.appendChild(label);
    }
    const body = document.createElement('span');
    body.className = 'body';
    body.textContent = text;
    item.appendChild(body);
    $('log').appendChild(item);
    item.scrollIntoView({ block: 'end' });
  }

  function selectRecipient(jid) {
    recipient = jid;
    $('to').textContent = contacts.get(jid)?.name || jid;
    for (const [other, contact] of contacts) contact.element.classList.toggle('selected', other === jid);
    $('text').focus();
  }

  function showContact(jid, name) {
    let contact = contacts.get(jid);
    if (!contact) {
      const element = document.createElement('li');
      element.dataset.jid = jid;
      element.addEventListener('click', () => selectRecipient(jid));
      contact = { name, resources: new Set(), element };
      contacts.set(jid, contact);
      $('roster').appendChild(element);
    }
    contact.name = name || contact.name || jid;
    contact.element.textContent = contact.name;
    contact.element.title = jid;
    if (!recipient) selectRecipient(jid);
  }

  function onRoster(iq) {
    for (const item of iq.getElementsByTagName('item')) {
      if (item.getAttribute('subscription') === 'remove') continue;
      showContact(item.getAttribute('jid'), item.getAttribute('name'));
    }
    // Tell the contacts we are here only once we can show theirs.
    connection.send($pres());
    return true;
  }

  function onPresence(presence) {
    const from = presence.getAttribute('from') || '';
    const jid = Strophe.getBareJidFromJid(from);
    const contact = contacts.get(jid);
    if (!contact) return true;
    const type = presence.getAttribute('type');
    if (!type) contact.resources.add(from);
    else if (type === 'unavailable') contact.resources.delete(from);
    contact.element.classList.toggle('online', contact.resources.size > 0);
    return true;
  }

  function onMessage(message) {
    const body = message.getElementsByTagName('body')[0];
    if (!body) return true;
    const jid = Strophe.getBareJidFromJid(message.getAttribute('from') || '');
    const name = contacts.get(jid)?.name || jid;
    addToLog('theirs', name, body.textContent);
    return true;
  }

  function onStatus(status, condition, element) {
    const S = Strophe.Status;
    if (status === S.CONNECTING) setStatus('connecting…', 'offline');
    else if (status === S.AUTHENTICATING) setStatus('logging in…', 'offline');
    else if (status === S.CONNECTED) {
      setStatus('online as ' + Strophe.getBareJidFromJid(connection.jid), 'online');
      $('login-form').hidden = true;
      $('chat').hidden = false;
      connection.addHandler(onPresence, null, 'presence');
      connection.addHandler(onMessage, null, 'message');
      connection.sendIQ($iq({ type: 'get' }).c('query', { xmlns: Strophe.NS.ROSTER }), onRoster);
    } else if (status === S.AUTHFAIL) {
      failed('Wrong JID or password' + saslCondition(element) + '.');
      // Strophe leaves the session open after a refused login; end it now (a BOSH
      // terminate, or <close/> over WebSocket) rather than let it wait for the
      // inactivity timeout.
      if (connection) connection.disconnect('login refused');
    } else if (status === S.CONNFAIL || status === S.ERROR || status === S.CONNTIMEOUT) {
      failed('Could not connect: ' + (condition || 'connection failed') + '.');
    } else if (status === S.DISCONNECTED) loggedOut();
  }

  // " (not-authorized)" from a SASL <failure><not-authorized/></failure>, else "".
  function saslCondition(failure) {
    const reason = failure && failure.firstElementChild;
    return reason ? ' (' + reason.localName + ')' : '';
  }

  // Shown next to the form, where the person is looking, and in the header badge.
  function failed(reason) {
    setStatus('error', 'error');
    $('login-error').textContent = reason;
    $('login-error').hidden = false;
    $('login-button').disabled = false;
  }

  function loggedOut() {
    if ($('status').dataset.state !== 'error') setStatus('offline', 'offline');
    $('chat').hidden = true;
    $('login-form').hidden = false;
    $('login-button').disabled = false;
    $('roster').replaceChildren();
    $('log').replaceChildren();
    contacts.clear();
    recipient = null;
    connection = null;
  }

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    $('login-button').disabled = true;
    $('login-error').hidden = true;
    connection = new Strophe.Connection(chosenUrl());
    connection.connect($('jid').value.trim(), $('password').value, onStatus);
  });

  $('message-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('text').value;
    if (!connection || !recipient || !text.trim()) return;
    connection.send($msg({ to: recipient, type: 'chat' }).c('body').t(text));
    addToLog('mine', 'me → ' + (contacts.get(recipient)?.name || recipient), text);
    $('text').value = '';
  });

  $('logout').addEventListener('click', () => {
    if (connection) connection.disconnect('user logged out');
  });
  // A tab that is closed without logging out simply stops polling (BOSH: the
  // connection manager ends its session after `inactivity` seconds) or drops its
  // WebSocket (the session ends with the connection).
}());
