// Web chat of the Guichet: one websocket per page, JSON {"text"} / {"button"} out,
// {"text","buttons","links"} in. The session token lives in localStorage and resumes the conversation.
(function () {
  "use strict";
  var TOKEN_KEY = "guichet.session";
  var HISTORY_KEY = "guichet.history";
  var MAX_HISTORY = 80;
  var list = document.getElementById("messages");
  var statusLine = document.getElementById("status");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var feedback = document.getElementById("feedback");
  var PLACEHOLDER_REPORT = "Décrivez votre problème…";
  var PLACEHOLDER_ANSWER = "Votre réponse…";
  var PLACEHOLDER_CHOICE = "Choisissez ci-dessus ou écrivez votre réponse…";
  var asset = document.querySelector("main.chat").getAttribute("data-asset") || "";
  var socketPath = document.querySelector("main.chat").getAttribute("data-socket") || "/chat/ws";
  var socket = null;
  var retry = 0;
  var outbox = [];
  var counter = 0;

  function randomToken() {
    var bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    var s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function storage(key, value) {
    try {
      if (value === undefined) { return window.localStorage.getItem(key); }
      if (value === null) { window.localStorage.removeItem(key); } else { window.localStorage.setItem(key, value); }
    } catch (e) { return null; }
    return null;
  }

  var token = storage(TOKEN_KEY);
  if (!token || !/^[A-Za-z0-9_-]{16,64}$/.test(token)) { token = randomToken(); storage(TOKEN_KEY, token); }

  function history() {
    try { return JSON.parse(storage(HISTORY_KEY) || "[]"); } catch (e) { return []; }
  }
  function remember(entry) {
    var items = history();
    items.push(entry);
    storage(HISTORY_KEY, JSON.stringify(items.slice(-MAX_HISTORY)));
  }

  // Once the teacher has answered (a button or a typed message), the earlier questions' buttons
  // are closed, on the page and in the stored history; a question still open stays open after a reload.
  function closeEarlierChoices() {
    var items = history();
    var changed = false;
    items.forEach(function (entry) {
      if (entry.from === "bot" && entry.buttons && entry.buttons.length && !entry.answered) {
        entry.answered = true;
        changed = true;
      }
    });
    if (changed) { storage(HISTORY_KEY, JSON.stringify(items)); }
    Array.prototype.forEach.call(list.querySelectorAll(".choices button"), function (x) { x.disabled = true; });
  }

  // The placeholder follows the conversation: a question asks for an answer, buttons for a choice.
  function followPlaceholder(entry) {
    if (entry.from !== "bot") { return; }
    if (entry.buttons && entry.buttons.length && !entry.answered) {
      input.placeholder = PLACEHOLDER_CHOICE;
    } else if ((entry.text || "").indexOf("?") !== -1) {
      input.placeholder = PLACEHOLDER_ANSWER;
    } else {
      input.placeholder = PLACEHOLDER_REPORT;
    }
  }

  function setStatus(text) { statusLine.textContent = text; }

  function addParagraphs(parent, text) {
    text.split("\n").forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      parent.appendChild(p);
    });
  }

  function render(entry) {
    var item = document.createElement("li");
    item.className = "msg " + (entry.from === "me" ? "me" : "bot");
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = entry.from === "me" ? "Vous : " : "Guichet : ";
    item.appendChild(who);
    addParagraphs(item, entry.text || "");
    if (entry.links && entry.links.length) {
      var links = document.createElement("ul");
      links.className = "links";
      entry.links.forEach(function (link) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = link.url;
        a.textContent = link.label;
        a.target = "_blank";
        a.rel = "noopener";
        li.appendChild(a);
        links.appendChild(li);
      });
      item.appendChild(links);
    }
    if (entry.buttons && entry.buttons.length) {
      var group = document.createElement("div");
      group.className = "choices";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Réponses possibles");
      entry.buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.label;
        button.disabled = !!entry.answered;
        button.addEventListener("click", function () {
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (x) { x.disabled = true; });
          button.classList.add("chosen");
          send({ button: b.payload }, b.label);
          input.focus();
        });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    list.appendChild(item);
    followPlaceholder(entry);
    list.scrollTop = list.scrollHeight;
  }

  function show(entry) { remember(entry); render(entry); }

  function send(frame, shown) {
    frame.id = "c" + Date.now().toString(36) + "-" + (counter++);
    closeEarlierChoices();
    show({ from: "me", text: shown });
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
    } else {
      outbox.push(frame);
      setStatus("Message en attente : reconnexion au guichet…");
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + window.location.host + socketPath + "?session=" + encodeURIComponent(token);
    if (asset) { url += "&asset=" + encodeURIComponent(asset); asset = ""; }
    socket = new WebSocket(url);
    socket.addEventListener("open", function () {
      retry = 0;
      setStatus("Connecté au guichet.");
      while (outbox.length) { socket.send(JSON.stringify(outbox.shift())); }
    });
    socket.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.session && data.session !== token) { token = data.session; storage(TOKEN_KEY, token); }
      if (!data.text && !(data.buttons && data.buttons.length)) { return; }
      show({ from: "bot", text: data.text, buttons: data.buttons || [], links: data.links || [] });
    });
    socket.addEventListener("close", function () {
      retry = Math.min(retry + 1, 6);
      setStatus("Connexion perdue : nouvelle tentative dans quelques secondes…");
      window.setTimeout(connect, 500 * Math.pow(2, retry));
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) {
      feedback.textContent = "Votre message est vide : écrivez-le avant de l'envoyer.";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    feedback.textContent = "";
    input.removeAttribute("aria-invalid");
    input.value = "";
    send({ text: text }, text);
    input.focus();
  });
  input.addEventListener("input", function () {
    if (input.value.trim()) { feedback.textContent = ""; input.removeAttribute("aria-invalid"); }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  document.getElementById("reset").addEventListener("click", function () {
    storage(HISTORY_KEY, null);
    storage(TOKEN_KEY, null);
    window.location.reload();
  });

  history().forEach(function (entry) { render(entry); });
  connect();
  input.focus();
})();
