// Live queue: the server says « la file a changé », the list is fetched again in place.
(function () {
  "use strict";
  var list = document.getElementById("queue-list");
  var status = document.getElementById("live-status");
  if (!list || !window.EventSource || !window.fetch) { return; }
  var pending = false;

  function refresh() {
    if (pending) { return; }
    pending = true;
    fetch(list.dataset.fragmentUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401 || response.redirected) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        // Keep the keyboard focus when it sits inside the list: refresh later instead.
        if (list.contains(document.activeElement) && document.activeElement !== document.body) {
          status.textContent = "La file a changé. Elle sera mise à jour quand vous quitterez la liste.";
          list.addEventListener("focusout", function once() { list.removeEventListener("focusout", once); refresh(); });
          return;
        }
        list.innerHTML = html;
        var now = new Date().toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
        status.textContent = "La file a changé : liste mise à jour à " + now + ".";
      })
      .catch(function () { status.textContent = "Mise à jour automatique momentanément indisponible."; })
      .then(function () { pending = false; });
  }

  var source = new EventSource(list.dataset.eventsUrl, { withCredentials: true });
  source.addEventListener("queue", refresh);
})();
