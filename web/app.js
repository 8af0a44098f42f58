/*
 * parley's web client: the plain protocol (README "Protocol") over a
 * WebSocket to /ws, one line per text message. Every server line is shown
 * with textContent only: nothing anyone sends can become markup or script.
 */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const NICK = "[A-Za-z][A-Za-z0-9_-]*";
  const ROOM = "#[^\\s:]+";
  const LINES_KEPT = 1000;
  const RETRY_MAX_S = 30;

  const st = {
    ws: null,
    nick: "", // ours, as the server knows it
    wanted: "", // the nickname picked
    nickPending: false,
    ready: false, // the picked nickname is ours
    views: new Map(), // name -> view (rooms by folded name, people by nick)
    current: null,
    retry: 0,
    timer: 0,
    quitting: false,
    lineMax: 1024,
    sent: [],
    sentAt: -1,
  };

  /* ---- views: a room or a private conversation ---- */

  const fold = (s) => s.toLowerCase();

  function view(name, kind) {
    const key = kind === "room" ? fold(name) : "@" + fold(name);
    let v = st.views.get(key);
    if (v) return v;
    const el = document.createElement("div");
    el.className = "view";
    el.hidden = true;
    $("log").appendChild(el);
    v = { key, name, kind, el, unread: 0, marker: null, members: new Set(),
          topic: "", joined: false, seen: new Set(), whoFresh: false,
          quietWho: 0 };
    st.views.set(key, v);
    renderRooms();
    return v;
  }

  const roomView = (name) => st.views.get(fold(name));

  function removeView(v) {
    v.el.remove();
    st.views.delete(v.key);
    if (st.current === v) {
      const next = [...st.views.values()].find((x) => x.joined) || null;
      show(next, true);
    }
    renderRooms();
  }

  function stamp(date) {
    const t = document.createElement("time");
    t.dateTime = date.toISOString();
    t.textContent = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return t;
  }

  /* Appends a line of parts [[class, text], ...] to view v. */
  function add(v, cls, parts, when, quiet) {
    if (!v) v = st.current || view("server", "pm");
    const line = document.createElement("div");
    line.className = "line " + cls;
    line.appendChild(stamp(when || new Date()));
    for (const [c, text] of parts) {
      const span = document.createElement("span");
      span.className = c;
      span.textContent = text;
      line.appendChild(document.createTextNode(" "));
      line.appendChild(span);
    }
    const log = $("log");
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    if (v !== st.current && !quiet) {
      if (!v.unread) {
        v.marker = document.createElement("div");
        v.marker.className = "marker";
        v.marker.textContent = "new";
        v.el.appendChild(v.marker);
      }
      v.unread++;
      renderRooms();
    }
    v.el.appendChild(line);
    while (v.el.childElementCount > LINES_KEPT) v.el.firstElementChild.remove();
    if (v === st.current && atEnd) log.scrollTop = log.scrollHeight;
    return line;
  }

  const note = (v, text, cls) => add(v, "note " + (cls || ""), [["text", text]], null, true);

  function show(v, fromServer) {
    if (st.current && st.current !== v && st.current.marker) {
      st.current.marker.remove();
      st.current.marker = null;
    }
    if (st.current) st.current.el.hidden = true;
    st.current = v;
    if (!v) {
      $("title").textContent = "";
      $("topic").textContent = "";
      renderRooms();
      return;
    }
    v.el.hidden = false;
    v.unread = 0;
    $("title").textContent = v.kind === "room" ? v.name : "with " + v.name;
    $("topic").textContent = v.kind === "room" ? v.topic || "no topic" : "private conversation";
    if (v.kind === "room" && v.joined && !fromServer) send("/join " + v.name);
    $("log").scrollTop = $("log").scrollHeight;
    renderRooms();
  }

  function renderRooms() {
    const ul = $("rooms");
    ul.textContent = "";
    for (const v of st.views.values()) {
      if (v.kind === "room" && !v.joined) continue;
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = v === st.current ? "current" : "";
      b.textContent = v.kind === "room" ? v.name : "@" + v.name;
      if (v === st.current) b.setAttribute("aria-current", "true");
      if (v.unread) {
        const badge = document.createElement("span");
        badge.className = "unread";
        badge.textContent = String(v.unread);
        badge.setAttribute("aria-label", v.unread + " unread");
        b.appendChild(badge);
      }
      b.addEventListener("click", () => { show(v); closeMenu(); $("say").focus(); });
      li.appendChild(b);
      ul.appendChild(li);
    }
    renderMembers();
  }

  function renderMembers() {
    const ul = $("members");
    ul.textContent = "";
    const v = st.current;
    if (!v || v.kind !== "room") return;
    for (const m of [...v.members].sort((a, b) => fold(a).localeCompare(fold(b)))) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = m;
      b.title = "private message to " + m;
      b.addEventListener("click", () => { show(view(m, "pm")); closeMenu(); $("say").focus(); });
      li.appendChild(b);
      ul.appendChild(li);
    }
  }

  function setTopic(v, text) {
    v.topic = text;
    if (v === st.current) $("topic").textContent = text || "no topic";
  }

  /* ---- the server's lines (README "What the server sends") ---- */

  const rules = [];
  const on = (re, fn) => rules.push([new RegExp("^" + re + "$"), fn]);

  function fromHistory(h, m, s) {
    const d = new Date();
    d.setUTCHours(+h, +m, +s, 0);
    if (d - Date.now() > 60000) d.setUTCDate(d.getUTCDate() - 1);
    return d;
  }

  function said(room, nick, text, action, when) {
    const v = roomView(room) || view(room, "room");
    const key = nick + "\t" + (action ? "*" : "") + text;
    if (when && v.seen.has(key)) return; // history we already show
    v.seen.add(key);
    if (v.seen.size > 500) v.seen.delete(v.seen.values().next().value);
    const cls = (action ? "action" : "msg") + (when ? " history" : "");
    const line = action ? add(v, cls, [["who", "* " + nick], ["text", text]], when)
                        : add(v, cls, [["who", nick], ["text", text]], when);
    if (when) line.title = "from before you joined";
  }

  on(`(${ROOM}) \\[history (\\d\\d):(\\d\\d):(\\d\\d)Z\\] <(${NICK})> (.*)`,
     (m) => said(m[1], m[5], m[6], false, fromHistory(m[2], m[3], m[4])));
  on(`(${ROOM}) \\[history (\\d\\d):(\\d\\d):(\\d\\d)Z\\] \\* (${NICK}) (.*)`,
     (m) => said(m[1], m[5], m[6], true, fromHistory(m[2], m[3], m[4])));
  on(`(${ROOM}) <(${NICK})> (.*)`, (m) => said(m[1], m[2], m[3], false));
  on(`(${ROOM}) \\* (${NICK}) (.*)`, (m) => said(m[1], m[2], m[3], true));
  on(`-> \\*(${NICK})\\* (.*)`, (m) =>
    add(view(m[1], "pm"), "msg self", [["who", st.nick], ["text", m[2]]], null, true));
  on(`\\*(${NICK})\\* (.*)`, (m) => add(view(m[1], "pm"), "msg", [["who", m[1]], ["text", m[2]]]));
  on(`-!- welcome to parley, (${NICK})! .*`, (m) => welcome(m[1]));
  on(`-!- (${NICK}) joined (${ROOM})`, (m) => joined(m[1], m[2]));
  on(`-!- (${NICK}) left (${ROOM})(?: \\((.*)\\))?`, (m) => left(m[1], m[2], m[3]));
  on(`-!- (${NICK}) quit(?: \\((.*)\\))?`, (m) => quit(m[1], m[2]));
  on(`-!- (${NICK}) is now known as (${NICK})`, (m) => renamed(m[1], m[2]));
  on(`-!- now talking in (${ROOM})`, (m) => {
    const v = roomView(m[1]);
    if (v && v !== st.current) show(v, true);
  });
  on(`-!- (${NICK}) set the topic of (${ROOM}): (.*)`, (m) => {
    const v = roomView(m[2]) || view(m[2], "room");
    setTopic(v, m[3]);
    note(v, m[1] + " set the topic: " + m[3], "topic");
  });
  on(`-!- (${NICK}) cleared the topic of (${ROOM})`, (m) => {
    const v = roomView(m[2]) || view(m[2], "room");
    setTopic(v, "");
    note(v, m[1] + " cleared the topic", "topic");
  });
  on(`-!- topic of (${ROOM}): (.*)`, (m) => {
    const v = roomView(m[1]) || view(m[1], "room");
    setTopic(v, m[2]);
    note(v, "topic: " + m[2], "topic");
  });
  on(`-!- (${ROOM}) has no topic`, (m) => {
    const v = roomView(m[1]);
    if (v) setTopic(v, "");
    note(v, m[1] + " has no topic");
  });
  on(`-!- members of (${ROOM}): (.*)`, (m) => {
    const v = roomView(m[1]);
    if (!v) return note(null, m[0].slice(4));
    if (v.whoFresh) { v.members.clear(); v.whoFresh = false; }
    for (const n of m[2].split(" ")) if (n) v.members.add(n.replace(/^[@+~&%]+/, ""));
    renderMembers();
    if (v.quietWho > 0) v.quietWho--; else note(v, m[0].slice(4));
  });
  on(`-!- error: (.*)`, (m) => {
    const lim = /line too long \(max (\d+) bytes\)/.exec(m[1]);
    if (lim) st.lineMax = +lim[1];
    if (st.nickPending && /nickname/.test(m[1])) {
      st.nickPending = false;
      if (!st.ready) return loginError(m[1]);
    }
    note(null, "error: " + m[1], "error");
  });

  function welcome(nick) {
    st.nick = nick;
    if (st.wanted && fold(st.wanted) !== fold(nick)) {
      st.nickPending = true;
      send("/nick " + st.wanted);
    } else {
      ready();
    }
  }

  /* Our nickname is the one picked: show the chat; after a reconnect,
   * go back to the rooms we were in. */
  function ready() {
    const again = st.ready;
    st.ready = true;
    st.retry = 0;
    $("login").hidden = true;
    $("chat").hidden = false;
    status("");
    if (!again) {
      $("say").focus();
      return;
    }
    const cur = st.current;
    for (const v of st.views.values())
      if (v.kind === "room" && v.wasJoined && fold(v.name) !== "#lobby") send("/join " + v.name);
    const lobby = roomView("#lobby");
    if (lobby && !lobby.wasJoined) send("/part #lobby");
    if (cur && cur.kind === "room" && cur.wasJoined) send("/join " + cur.name);
  }

  function joined(nick, room) {
    const v = roomView(room) || view(room, "room");
    v.members.add(nick);
    if (fold(nick) === fold(st.nick)) {
      v.joined = true;
      v.whoFresh = true;
      v.quietWho++;
      send("/who " + room);
      note(v, "you joined " + room, "join");
      show(v, true);
      return;
    }
    renderMembers();
    note(v, nick + " joined", "join");
  }

  function left(nick, room, why) {
    const v = roomView(room);
    if (!v) return;
    if (fold(nick) === fold(st.nick)) {
      v.joined = false;
      v.members.clear();
      removeView(v);
      return;
    }
    v.members.delete(nick);
    renderMembers();
    note(v, nick + " left" + (why ? " (" + why + ")" : ""), "part");
  }

  function quit(nick, why) {
    for (const v of st.views.values())
      if (v.members.delete(nick)) note(v, nick + " quit" + (why ? " (" + why + ")" : ""), "part");
    renderMembers();
  }

  function renamed(from, to) {
    const self = fold(from) === fold(st.nick);
    if (self) st.nick = to;
    for (const v of st.views.values()) {
      if (v.members.delete(from)) {
        v.members.add(to);
        note(v, from + " is now known as " + to, "nick");
      }
    }
    renderMembers();
    if (self && st.nickPending) {
      st.nickPending = false;
      if (fold(to) === fold(st.wanted)) ready();
    }
  }

  function line(text) {
    for (const [re, fn] of rules) {
      const m = re.exec(text);
      if (m) return fn(m);
    }
    note(null, text.replace(/^-!- /, ""), "server");
  }

  /* ---- the connection ---- */

  function status(text) {
    $("status").textContent = text;
  }

  function send(text) {
    if (st.ws && st.ws.readyState === WebSocket.OPEN) st.ws.send(text);
  }

  function connect() {
    clearTimeout(st.timer);
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    const ws = new WebSocket(url, "parley");
    st.ws = ws;
    status("connecting…");
    ws.onmessage = (ev) => { if (typeof ev.data === "string") line(ev.data); };
    ws.onclose = (ev) => {
      if (st.ws !== ws) return;
      st.ws = null;
      const lim = /max (\d+) bytes/.exec(ev.reason || "");
      if (lim) st.lineMax = +lim[1];
      for (const v of st.views.values()) { v.wasJoined = v.joined || v.wasJoined; v.joined = false; v.members.clear(); }
      if (st.quitting) return status("disconnected");
      const delay = Math.min(RETRY_MAX_S, 2 ** st.retry) * (0.5 + Math.random() / 2);
      st.retry++;
      status("connection lost" + (ev.reason ? " (" + ev.reason + ")" : "") +
             "; reconnecting in " + Math.ceil(delay) + " s");
      st.timer = setTimeout(connect, delay * 1000);
    };
    ws.onopen = () => status("connected");
  }

  function loginError(text) {
    $("login").hidden = false;
    $("chat").hidden = true;
    $("login-error").textContent = text;
    $("nick").focus();
  }

  /* ---- what the user types ---- */

  function say(text) {
    if (!text.trim()) return;
    const v = st.current;
    let out = text;
    if (v && v.kind === "pm" && (!text.startsWith("/") || text.startsWith("//"))) {
      out = "/msg " + v.name + " " + (text.startsWith("//") ? text.slice(1) : text);
    } else if (/^\/me\s/.test(text) && v && v.kind === "pm") {
      return note(v, "/me works in rooms only", "error");
    }
    const bytes = new TextEncoder().encode(out).length;
    if (bytes > st.lineMax)
      return note(v, "line too long (" + bytes + " bytes, max " + st.lineMax + "); not sent", "error");
    if (!st.ws || st.ws.readyState !== WebSocket.OPEN)
      return note(v, "not connected; not sent", "error");
    if (/^\/quit\b/.test(text)) st.quitting = true;
    send(out);
    if (!v || v.kind !== "room" || !v.joined) return;
    const me = /^\/me\s+(.*)$/.exec(text);
    if (me) add(v, "action self", [["who", "* " + st.nick], ["text", me[1]]], null, true);
    else if (!text.startsWith("/") || text.startsWith("//"))
      add(v, "msg self", [["who", st.nick], ["text", text.startsWith("//") ? text.slice(1) : text]], null, true);
  }

  function closeMenu() {
    document.body.classList.remove("menu-open");
    $("menu").setAttribute("aria-expanded", "false");
  }

  function step(d) {
    const list = [...st.views.values()].filter((v) => v.kind !== "room" || v.joined);
    if (!list.length) return;
    const i = list.indexOf(st.current);
    show(list[(i + d + list.length) % list.length]);
  }

  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    st.wanted = $("nick").value.trim();
    $("login-error").textContent = "";
    try { localStorage.setItem("parley.nick", st.wanted); } catch (err) { /* private mode */ }
    if (st.ws && st.ws.readyState === WebSocket.OPEN) {
      st.nickPending = true;
      send("/nick " + st.wanted);
    } else {
      connect();
    }
  });

  $("say-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("say").value;
    if (text) { st.sent.push(text); st.sentAt = -1; }
    $("say").value = "";
    say(text);
  });

  $("join-form").addEventListener("submit", (e) => {
    e.preventDefault();
    let r = $("join-room").value.trim();
    if (!r) return;
    if (!r.startsWith("#")) r = "#" + r;
    $("join-room").value = "";
    const v = roomView(r);
    if (v && v.joined) show(v); else send("/join " + r);
    closeMenu();
    $("say").focus();
  });

  $("menu").addEventListener("click", () => {
    const open = document.body.classList.toggle("menu-open");
    $("menu").setAttribute("aria-expanded", String(open));
  });

  $("say").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    if (e.altKey || !st.sent.length) return;
    e.preventDefault();
    const n = st.sent.length;
    st.sentAt = e.key === "ArrowUp" ? (st.sentAt < 0 ? n - 1 : Math.max(0, st.sentAt - 1))
                                    : (st.sentAt < 0 ? -1 : st.sentAt + 1);
    if (st.sentAt >= n) st.sentAt = -1;
    $("say").value = st.sentAt < 0 ? "" : st.sent[st.sentAt];
  });

  document.addEventListener("keydown", (e) => {
    if ($("chat").hidden) return;
    if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      e.preventDefault();
      step(e.key === "ArrowUp" ? -1 : 1);
    } else if (e.altKey && (e.key === "j" || e.key === "J")) {
      e.preventDefault();
      document.body.classList.add("menu-open");
      $("join-room").focus();
    } else if (e.key === "Escape") {
      closeMenu();
      $("say").focus();
    }
  });

  try { $("nick").value = localStorage.getItem("parley.nick") || ""; } catch (err) { /* none */ }
})();
