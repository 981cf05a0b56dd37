// Meeting Controller web console: the real signaling protocol over WebTransport, in a browser.
//
// One WebTransport session per participant; the page opens one bidirectional stream and both
// sides exchange frames of a 4-byte big-endian length followed by a protobuf message
// (ClientMessage up, ServerMessage down; proto/meeting_controller/protocol/signaling.proto).
// The protobuf code in generated/ is generated from that file (web/generate.sh).
//
// Like the Python client (controller/meeting_controller/client/meeting.py), the page keeps one
// continuous event stream across connections: every ServerMessage with a non-zero sequence
// number is applied once and in order; a RedirectToMc (sequence 0) or a lost connection makes
// it reconnect and resume with its session token and the last sequence number it applied, and
// the MC replays what it missed in the JoinResponse's recovery_data.
"use strict";

(() => {
  const v1 = protobuf.roots["default"].meetingcontroller.signaling.v1;
  const { ClientMessage, ServerMessage, ErrorCode, Role, LeaveReason, RedirectReason } = v1;

  const PING_INTERVAL_MS = 2000;
  const SILENT_AFTER_MS = 6000; // no word from the MC for this long: the connection is dead
  const CONNECT_TIMEOUT_MS = 5000;
  const RESUME_ATTEMPTS = 30;
  const MAX_FRAME = 1 << 20;

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------------

  const S = {
    config: { certificate_hashes: [], gc: false },
    ticket: null, // { meeting_id, mc_endpoint, join_token, role, cert? }
    displayName: "",
    endpoint: "",
    participantId: "",
    sessionToken: "",
    role: Role.ROLE_UNSPECIFIED,
    lastSeq: 0,
    roster: new Map(), // participant id -> { id, name, role, selfMuted, hostMuted, connected }
    requests: new Map(), // participant id -> reason (hosts only)
    conn: null,
    state: "idle", // idle | connecting | connected | redirecting | reconnecting | failed | left
    redirectTo: null,
    redirects: 0,
    resumes: 0,
    lastHeard: 0,
    pingNonce: 0,
  };

  class SessionError extends Error {
    constructor(error) {
      super(`${codeName(error.code)}: ${error.message}`);
      this.error = error;
    }
  }

  const codeName = (code) => ErrorCode[code] || `ERROR_CODE_${code}`;
  const roleName = (role) => (role === Role.ROLE_HOST ? "host" : "participant");
  const nameOf = (id) => (S.roster.get(id) || {}).name || id;
  const isHost = () => S.role === Role.ROLE_HOST;

  // ---------------------------------------------------------------------------------------
  // Transport: WebTransport + length-prefixed protobuf frames
  // ---------------------------------------------------------------------------------------

  function hexToBytes(hex) {
    const clean = hex.replace(/[^0-9a-fA-F]/g, "");
    if (clean.length !== 64) throw new Error(`a SHA-256 digest has 64 hex digits, not ${clean.length}`);
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i += 1) bytes[i] = parseInt(clean.substr(i * 2, 2), 16);
    return bytes;
  }

  function withTimeout(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  async function openConnection(endpoint) {
    const hashes = (S.ticket && S.ticket.cert ? [S.ticket.cert] : S.config.certificate_hashes)
      .map((hex) => ({ algorithm: "sha-256", value: hexToBytes(hex) }));
    const options = hashes.length ? { serverCertificateHashes: hashes } : {};
    const wt = new WebTransport(endpoint, options);
    wt.closed.catch(() => {}); // reported through the stream reader instead
    try {
      await withTimeout(wt.ready, CONNECT_TIMEOUT_MS, `connecting to ${endpoint}`);
      const stream = await wt.createBidirectionalStream();
      return {
        wt,
        endpoint,
        writer: stream.writable.getWriter(),
        reader: stream.readable.getReader(),
        buffer: new Uint8Array(0),
      };
    } catch (error) {
      try { wt.close(); } catch (_) { /* already closed */ }
      throw error;
    }
  }

  function closeConnection(conn) {
    if (!conn) return;
    try { conn.wt.close({ closeCode: 0, reason: "" }); } catch (_) { /* already closed */ }
  }

  async function sendOn(conn, message) {
    const body = ClientMessage.encode(message).finish();
    const frame = new Uint8Array(4 + body.length);
    new DataView(frame.buffer).setUint32(0, body.length, false);
    frame.set(body, 4);
    await conn.writer.write(frame);
  }

  // The next ServerMessage on conn, or null when the MC ended the stream.
  async function readMessage(conn) {
    for (;;) {
      if (conn.buffer.length >= 4) {
        const length = new DataView(conn.buffer.buffer, conn.buffer.byteOffset, 4).getUint32(0, false);
        if (length > MAX_FRAME) throw new Error(`the MC sent a frame of ${length} bytes`);
        if (conn.buffer.length >= 4 + length) {
          const body = conn.buffer.slice(4, 4 + length);
          conn.buffer = conn.buffer.slice(4 + length);
          return ServerMessage.decode(body);
        }
      }
      const { value, done } = await conn.reader.read();
      if (done) return null;
      const merged = new Uint8Array(conn.buffer.length + value.length);
      merged.set(conn.buffer, 0);
      merged.set(value, conn.buffer.length);
      conn.buffer = merged;
    }
  }

  async function send(message) {
    if (!S.conn || S.state !== "connected") {
      showError("Not connected", "the console is reconnecting; try again in a moment");
      return;
    }
    try {
      await sendOn(S.conn, message);
    } catch (error) {
      showError("Send failed", String(error));
    }
  }

  // ---------------------------------------------------------------------------------------
  // Session: join, the event stream, resume
  // ---------------------------------------------------------------------------------------

  // Opens a connection and joins (resume: with the session token and last sequence number).
  async function connectAndJoin(resume) {
    const conn = await openConnection(S.endpoint);
    let first;
    try {
      const join = {
        meetingId: S.ticket.meeting_id,
        joinToken: S.ticket.join_token,
        displayName: S.displayName,
      };
      if (resume) {
        join.sessionToken = S.sessionToken;
        join.lastSequenceNumber = S.lastSeq;
      }
      await sendOn(conn, { join });
      first = await withTimeout(readMessage(conn), CONNECT_TIMEOUT_MS, "waiting for the JoinResponse");
    } catch (error) {
      closeConnection(conn);
      throw error;
    }
    if (first === null) {
      closeConnection(conn);
      throw new Error("the MC closed the session before answering the join");
    }
    if (first.payload === "error") {
      closeConnection(conn);
      throw new SessionError(first.error);
    }
    if (first.payload !== "joinResponse") {
      closeConnection(conn);
      throw new Error(`expected a JoinResponse, got ${first.payload}`);
    }
    const response = first.joinResponse;
    const missed = (response.recoveryData && response.recoveryData.missedEvents) || [];
    for (const event of missed) accept(event);
    accept(first);
    if (missed.length) logEvent(`resume replayed ${missed.length} missed event(s)`);
    S.conn = conn;
    S.lastHeard = Date.now();
    setState("connected");
    readLoop(conn);
  }

  // Applies one message of the stream: once, in order, never across a gap.
  function accept(message) {
    const seq = Number(message.sequenceNumber);
    if (seq === 0) {
      handle(message, seq);
      return;
    }
    if (seq <= S.lastSeq) return; // already applied (replayed after a resume)
    if (seq !== S.lastSeq + 1) {
      throw new Error(`sequence gap: expected #${S.lastSeq + 1}, got #${seq}`);
    }
    S.lastSeq = seq;
    handle(message, seq);
  }

  async function readLoop(conn) {
    let failure = null;
    for (;;) {
      let message;
      try {
        message = await readMessage(conn);
      } catch (error) {
        message = null;
        if (conn === S.conn) failure = error;
      }
      if (conn !== S.conn) return; // replaced or left
      if (message === null) break;
      S.lastHeard = Date.now();
      if (message.payload === "redirect") S.redirectTo = message.redirect.mcEndpoint;
      try {
        accept(message);
      } catch (error) {
        fail("Protocol violation", String(error.message || error));
        return;
      }
      if (S.state === "failed" || S.state === "left") return;
      if (S.redirectTo) break;
    }
    closeConnection(conn);
    S.conn = null;
    if (S.state === "failed" || S.state === "left") return;
    if (failure && !S.redirectTo) logEvent(`connection lost: ${failure.message || failure}`, true);
    await resume();
  }

  async function resume() {
    const redirected = S.redirectTo !== null;
    if (redirected) {
      S.endpoint = S.redirectTo;
      S.redirectTo = null;
      S.redirects += 1;
    }
    setState(redirected ? "redirecting" : "reconnecting");
    let delay = 100;
    let lastError = null;
    for (let attempt = 0; attempt < RESUME_ATTEMPTS; attempt += 1) {
      if (S.state === "left") return;
      if (attempt) {
        await sleep(Math.random() * delay);
        delay = Math.min(2000, delay * 2);
      }
      try {
        await connectAndJoin(true);
        S.resumes += 1;
        logEvent(`resumed on ${S.endpoint} after event #${S.lastSeq}${redirected ? " (redirected)" : ""}`);
        render();
        return;
      } catch (error) {
        lastError = error;
        if (error instanceof SessionError) {
          const code = error.error.code;
          if (error.error.rejoinRequired) {
            fail("Rejoin required", `${error.message}. Join again to get back into the meeting.`);
            return;
          }
          if (code !== ErrorCode.ERROR_CODE_MEETING_NOT_FOUND && code !== ErrorCode.ERROR_CODE_MC_DRAINING) {
            fail("Resume refused", error.message);
            return;
          }
        }
        await relocate();
      }
    }
    fail("Could not reconnect", `${RESUME_ATTEMPTS} attempts failed; last: ${lastError}`);
  }

  // Asks the GC (through the console server) where the meeting lives now.
  async function relocate() {
    if (!S.config.gc || !S.ticket) return;
    try {
      const response = await fetch(`v1/meetings/${encodeURIComponent(S.ticket.meeting_id)}`);
      if (!response.ok) return;
      const where = await response.json();
      if (where.mc_endpoint && where.mc_endpoint !== S.endpoint) {
        logEvent(`the GC says the meeting is now on ${where.mc_id} (${where.mc_endpoint})`);
        S.endpoint = where.mc_endpoint;
      }
    } catch (_) { /* the GC is unreachable too: keep trying the last endpoint */ }
  }

  function participantFrom(p) {
    const mute = p.mute || {};
    return {
      id: p.participantId,
      name: p.displayName || p.participantId,
      role: p.role,
      selfMuted: !!mute.isSelfMuted,
      hostMuted: !!mute.isHostMuted,
      connected: p.connected !== false,
    };
  }

  function handle(message, seq) {
    const tag = seq ? `#${seq} ` : "";
    switch (message.payload) {
      case "joinResponse": {
        const r = message.joinResponse;
        S.participantId = r.participantId;
        S.sessionToken = r.sessionToken;
        S.role = r.role;
        S.roster = new Map(r.roster.map((p) => [p.participantId, participantFrom(p)]));
        for (const id of [...S.requests.keys()]) {
          const p = S.roster.get(id);
          if (!p || !p.hostMuted) S.requests.delete(id);
        }
        logEvent(`${tag}${r.resumed ? "resumed" : "joined"} meeting ${r.meetingId} as ${roleName(r.role)} (${r.roster.length} in the roster)`);
        break;
      }
      case "participantJoined": {
        const p = participantFrom(message.participantJoined.participant);
        S.roster.set(p.id, p);
        logEvent(`${tag}${p.name} joined`);
        break;
      }
      case "participantLeft": {
        const { participantId, reason } = message.participantLeft;
        logEvent(`${tag}${nameOf(participantId)} left (${LeaveReason[reason] || reason})`);
        S.roster.delete(participantId);
        S.requests.delete(participantId);
        break;
      }
      case "muteUpdate": {
        const u = message.muteUpdate;
        const p = S.roster.get(u.participantId);
        if (p) {
          p.selfMuted = u.isSelfMuted;
          p.hostMuted = u.isHostMuted;
        }
        if (!u.isHostMuted) S.requests.delete(u.participantId);
        const state = u.isHostMuted ? "muted by a host" : u.isSelfMuted ? "muted" : "unmuted";
        logEvent(`${tag}${nameOf(u.participantId)} is ${state} (by ${nameOf(u.changedBy)})`);
        break;
      }
      case "unmuteRequested": {
        const { participantId, reason } = message.unmuteRequested;
        S.requests.set(participantId, reason);
        logEvent(`${tag}${nameOf(participantId)} asks to be unmuted${reason ? `: ${reason}` : ""}`);
        break;
      }
      case "unmuteDenied":
        notice(`${nameOf(message.unmuteDenied.deniedBy)} denied your request to be unmuted.`);
        logEvent(`${tag}unmute request denied by ${nameOf(message.unmuteDenied.deniedBy)}`);
        break;
      case "connectionChanged": {
        const { participantId, connected } = message.connectionChanged;
        const p = S.roster.get(participantId);
        if (p) p.connected = connected;
        logEvent(`${tag}${nameOf(participantId)} ${connected ? "reconnected" : "lost its connection"}`);
        break;
      }
      case "redirect": {
        const r = message.redirect;
        logEvent(`the meeting moves to ${r.mcEndpoint} (${RedirectReason[r.reason] || r.reason}): following`);
        break;
      }
      case "error": {
        const e = message.error;
        logEvent(`${tag}error ${codeName(e.code)}: ${e.message}`, true);
        if (e.rejoinRequired) fail("Rejoin required", `${codeName(e.code)}: ${e.message}`);
        else showError(codeName(e.code), e.message + (e.fatal ? " (the MC closed the session)" : ""));
        break;
      }
      case "meetingEnded": {
        const m = message.meetingEnded;
        logEvent(`${tag}the meeting ended: ${m.message || m.reason}`);
        S.state = "left";
        closeConnection(S.conn);
        S.conn = null;
        notice(`The meeting ended${m.message ? `: ${m.message}` : "."}`);
        setState("left");
        break;
      }
      case "sessionRefresh":
        // A fresh token for the same session: the next resume uses the newest one.
        S.sessionToken = message.sessionRefresh.sessionToken;
        break;
      case "pong":
        break;
      default:
        logEvent(`${tag}unknown message ${message.payload}`);
    }
    render();
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // Pings keep the connection's liveness known: a dead MC only shows as silence.
  setInterval(() => {
    const conn = S.conn;
    if (!conn || S.state !== "connected") return;
    if (Date.now() - S.lastHeard > SILENT_AFTER_MS) {
      logEvent(`no word from ${conn.endpoint} for ${SILENT_AFTER_MS / 1000} s: reconnecting`, true);
      S.lastHeard = Date.now();
      closeConnection(conn); // the read loop notices and resumes
      return;
    }
    S.pingNonce += 1;
    sendOn(conn, { ping: { nonce: S.pingNonce } }).catch(() => {});
  }, PING_INTERVAL_MS);

  // ---------------------------------------------------------------------------------------
  // Getting a ticket and joining
  // ---------------------------------------------------------------------------------------

  async function requestTicket(displayName, meetingId, role) {
    const manualEndpoint = $("manual-endpoint").value.trim();
    const manualToken = $("manual-token").value.trim();
    if (manualEndpoint || manualToken) {
      if (!manualEndpoint || !manualToken || !meetingId) {
        throw new Error("a join by hand needs the meeting id, the MC endpoint and the join token");
      }
      const cert = $("manual-cert").value.trim();
      if (cert) hexToBytes(cert); // validate now, not at connect time
      return { meeting_id: meetingId, mc_endpoint: manualEndpoint, join_token: manualToken, role: "", cert: cert || null };
    }
    if (!S.config.gc) {
      throw new Error("this console has no GC to ask for a ticket: open “No GC?” and enter one by hand");
    }
    const body = { user_id: `web-${displayName}-${Math.random().toString(36).slice(2, 8)}`, display_name: displayName };
    if (meetingId) body.meeting_id = meetingId;
    if (role) body.role = role;
    const response = await fetch("v1/meetings", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let document = {};
    try { document = await response.json(); } catch (_) { /* not JSON */ }
    if (!response.ok) {
      throw new Error(`the GC answered ${response.status}: ${document.message || response.statusText}`);
    }
    return document;
  }

  async function join(event) {
    if (event) event.preventDefault();
    hideError();
    const displayName = $("display-name").value.trim();
    const meetingId = $("meeting-id").value.trim();
    if (!displayName) {
      showError("Missing name", "enter your display name");
      return;
    }
    $("join").disabled = true;
    setState("connecting");
    try {
      const ticket = await requestTicket(displayName, meetingId, $("role").value);
      S.ticket = ticket;
      S.displayName = displayName;
      S.endpoint = ticket.mc_endpoint;
      S.sessionToken = "";
      S.participantId = "";
      S.roster = new Map();
      S.lastSeq = 0;
      S.redirectTo = null;
      S.redirects = 0;
      S.resumes = 0;
      S.requests = new Map();
      await connectAndJoin(false);
      $("meeting-id").value = ticket.meeting_id;
    } catch (error) {
      const title = error instanceof SessionError ? "Join refused" : "Could not join";
      fail(title, error instanceof TypeError && /WebTransport/.test(error.message)
        ? "this browser has no WebTransport here (open the page over http://127.0.0.1 or https)"
        : String(error.message || error));
    } finally {
      $("join").disabled = false;
    }
  }

  async function leave() {
    const conn = S.conn;
    setState("left");
    S.conn = null;
    if (conn) {
      try { await sendOn(conn, { leave: {} }); } catch (_) { /* going anyway */ }
      closeConnection(conn);
    }
    logEvent("you left the meeting");
    render();
  }

  // ---------------------------------------------------------------------------------------
  // Rendering
  // ---------------------------------------------------------------------------------------

  const STATE_TEXT = {
    idle: "not connected",
    connecting: "connecting…",
    connected: "connected",
    redirecting: "following the meeting to another MC…",
    reconnecting: "reconnecting…",
    failed: "disconnected",
    left: "left the meeting",
  };

  function setState(state) {
    S.state = state;
    const pill = $("status");
    pill.dataset.state = state;
    pill.textContent = STATE_TEXT[state] || state;
    pill.title = S.endpoint ? `MC: ${S.endpoint}` : "";
    render();
  }

  function fail(title, text) {
    const conn = S.conn;
    S.conn = null;
    closeConnection(conn);
    setState("failed");
    showError(title, text);
  }

  function showError(title, text) {
    $("error-title").textContent = `${title}:`;
    $("error-text").textContent = text;
    $("error").hidden = false;
  }

  function hideError() {
    $("error").hidden = true;
  }

  function notice(text) {
    const box = $("notice");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  function logEvent(text, isError) {
    const item = document.createElement("li");
    item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
    if (isError) item.className = "error";
    const log = $("log");
    log.prepend(item);
    while (log.children.length > 200) log.lastChild.remove();
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) node.append(child);
    return node;
  }

  // Inline SVG, so the icons look the same whatever emoji fonts the machine has; data-icon
  // carries the emoji for assistive technology and scripts.
  const SVG_OPEN = '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" ' +
    'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">';
  const ICONS = {
    muted: `${SVG_OPEN}<rect x="9" y="2" width="6" height="12" rx="3"/><path d="M5 10v1a7 7 0 0 0 14 0v-1"/>` +
      '<path d="M12 18v4M8 22h8"/><path d="M3 3l18 18"/></svg>',
    lock: `${SVG_OPEN}<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>` +
      '<circle cx="12" cy="16" r="1.2"/></svg>',
  };

  function icon(kind, emoji, className, title) {
    const node = el("span", { class: `icon ${className}`, title, "data-icon": emoji, role: "img" });
    node.setAttribute("aria-label", `${emoji} ${title}`);
    node.innerHTML = ICONS[kind];
    return node;
  }

  function muteIcons(p, self) {
    const who = self ? "You" : p.name;
    const icons = [];
    if (p.selfMuted) {
      icons.push(icon("muted", "🔇", "icon-self-muted", `${who} muted ${self ? "yourself" : "themselves"}`));
    }
    if (p.hostMuted) {
      const title = p.selfMuted
        ? `${who} ${self ? "are" : "is"} muted by a host, and also muted ${self ? "yourself" : "themselves"}. ` +
          "The host's mute overrides: unmuting yourself is refused until a host lifts it (ask with an unmute request)."
        : `${who} ${self ? "are" : "is"} muted by a host: only a host can lift it (ask with an unmute request).`;
      icons.push(icon("lock", "🔒", "icon-host-muted", title));
    }
    if (!icons.length) icons.push(el("span", { class: "icon-live", title: "not muted" }, "● live"));
    return icons;
  }

  function render() {
    const inMeeting = S.ticket !== null && S.participantId !== "" && S.state !== "left";
    $("meeting-card").hidden = !inMeeting;
    $("join-card").hidden = inMeeting && S.state !== "failed";
    $("meeting-name").textContent = S.ticket ? S.ticket.meeting_id : "";
    $("endpoint").textContent = S.endpoint;
    $("redirects").textContent = String(S.redirects);
    $("last-seq").textContent = String(S.lastSeq);
    if (!inMeeting) return;

    const me = S.roster.get(S.participantId) || { selfMuted: false, hostMuted: false, name: S.displayName };
    $("my-name").textContent = me.name;
    $("my-role").textContent = roleName(S.role);
    const muteSelf = $("mute-self");
    muteSelf.textContent = me.selfMuted ? "Unmute me" : "Mute me";
    muteSelf.disabled = me.selfMuted && me.hostMuted;
    muteSelf.title = muteSelf.disabled ? "a host muted you: ask them to unmute you" : "";
    $("ask-unmute").hidden = !me.hostMuted;

    const rows = [...S.roster.values()].sort((a, b) =>
      (b.role === Role.ROLE_HOST) - (a.role === Role.ROLE_HOST) || a.name.localeCompare(b.name));
    const body = $("roster-body");
    body.replaceChildren(...rows.map((p) => {
      const self = p.id === S.participantId;
      const actions = el("td");
      if (isHost() && !self) {
        actions.append(el("button", {
          type: "button",
          "data-action": "host-mute",
          "data-target": p.id,
          "data-muted": p.hostMuted ? "false" : "true",
          textContent: p.hostMuted ? "Lift host mute" : "Mute",
        }));
      }
      return el("tr", {
        class: `${self ? "self" : ""} ${p.connected ? "" : "disconnected"}`.trim(),
        "data-participant-id": p.id,
        "data-name": p.name,
        "data-self-muted": String(p.selfMuted),
        "data-host-muted": String(p.hostMuted),
      },
      el("td", {}, p.name + (self ? " (you)" : "") + (p.connected ? "" : " — reconnecting")),
      el("td", { class: p.role === Role.ROLE_HOST ? "role-host" : "" }, roleName(p.role)),
      el("td", {}, ...muteIcons(p, self)),
      actions);
    }));

    $("requests").hidden = !isHost() || S.requests.size === 0;
    $("request-list").replaceChildren(...[...S.requests.entries()].map(([id, reason]) =>
      el("li", { "data-participant-id": id },
        el("span", {}, `${nameOf(id)} asks to be unmuted${reason ? `: “${reason}”` : ""}`),
        el("button", { type: "button", "data-action": "approve", "data-target": id, textContent: "Approve" }),
        el("button", { type: "button", "data-action": "deny", "data-target": id, textContent: "Deny" }))));
  }

  // ---------------------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------------------

  $("join-form").addEventListener("submit", join);
  $("leave").addEventListener("click", leave);
  $("error-dismiss").addEventListener("click", hideError);
  $("mute-self").addEventListener("click", () => {
    const me = S.roster.get(S.participantId);
    send({ mute: { muted: !(me && me.selfMuted) } });
  });
  $("ask-unmute").addEventListener("click", () => {
    send({ unmuteRequest: { reason: "please unmute me" } });
    notice("Asked the host(s) to unmute you.");
  });
  $("roster-body").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action='host-mute']");
    if (!button) return;
    send({ hostMute: { targetParticipantId: button.dataset.target, muted: button.dataset.muted === "true" } });
  });
  $("request-list").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = button.dataset.target;
    send({ unmuteDecision: { participantId: id, approved: button.dataset.action === "approve" } });
    S.requests.delete(id);
    render();
  });
  window.addEventListener("error", (event) => showError("Console error", String(event.message)));
  window.addEventListener("unhandledrejection", (event) => showError("Console error", String(event.reason)));

  async function start() {
    $("legend-muted").innerHTML = ICONS.muted;
    $("legend-lock").innerHTML = ICONS.lock;
    const params = new URLSearchParams(location.search);
    try {
      const response = await fetch("config.json", { cache: "no-store" });
      if (response.ok) S.config = await response.json();
    } catch (_) {
      $("manual").open = true; // opened from a file or another server: no GC pass-through
    }
    if (!S.config.gc) $("manual").open = true;
    for (const [param, id] of [["name", "display-name"], ["meeting", "meeting-id"], ["role", "role"],
      ["endpoint", "manual-endpoint"], ["token", "manual-token"], ["cert", "manual-cert"]]) {
      if (params.has(param)) $(id).value = params.get(param);
    }
    if (typeof WebTransport === "undefined") {
      showError("No WebTransport", window.isSecureContext
        ? "this browser does not support WebTransport"
        : "this page is not a secure context: open it over http://127.0.0.1, http://localhost or https");
      $("join").disabled = true;
      return;
    }
    setState("idle");
    if (params.get("autojoin") === "1") join();
  }

  start();
})();
