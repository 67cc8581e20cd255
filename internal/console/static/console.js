// aftersale console: countdowns on the engine's clock, sign-in/out through
// the JSON API, live cards from GET /v1/stream (htmx SSE extension), and
// refusals shown in place. No build step: this file is served as written.
(function () {
  "use strict";
  var body = document.body;
  var offset = 0; // engine clock - browser clock, in ms
  var serverNow = Date.parse(body.dataset.now || "");
  if (!isNaN(serverNow)) offset = serverNow - Date.now();
  var overdueFmt = body.dataset.overdue || "overdue %s";

  function fmt(ms) {
    var m = Math.round(ms / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + mm + "m";
    return mm + "m";
  }
  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      var left = due - now;
      el.classList.toggle("overdue", left <= 0);
      el.classList.toggle("soon", left > 0 && left < 2 * 3600 * 1000);
      el.textContent = left <= 0 ? overdueFmt.replace("%s", fmt(-left)) : fmt(left);
    });
  }
  tick();
  setInterval(tick, 15000);
  document.addEventListener("htmx:afterSettle", tick);

  // Sign in through POST /v1/sessions: the API sets the session cookie.
  var login = document.getElementById("login-form");
  if (login) {
    login.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var err = document.getElementById("login-error");
      err.hidden = true;
      fetch("/v1/sessions", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept-Language": body.dataset.lang || "zh-CN" },
        body: JSON.stringify({ login: login.login.value, password: login.password.value })
      }).then(function (r) {
        if (r.ok) { location.assign(login.dataset.next || "/console/"); return; }
        return r.json().then(function (p) {
          err.textContent = (p.title || "") + (p.detail ? " — " + p.detail : "");
          err.hidden = false;
        });
      }).catch(function (e) { err.textContent = String(e); err.hidden = false; });
    });
  }

  // Change one's password through PUT /v1/me/password (JSON, with the CSRF
  // token); the API's problem title and detail are shown as they come.
  document.addEventListener("submit", function (ev) {
    var f = ev.target.closest("form[data-password]");
    if (!f) return;
    ev.preventDefault();
    var out = f.querySelector("[data-pw-result]");
    var show = function (text, ok) { out.textContent = text; out.className = ok ? "flash" : "problem"; };
    if (f.new_password.value !== f.confirm.value) { show(f.dataset.mismatch, false); f.confirm.focus(); return; }
    fetch("/v1/me/password", {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": body.dataset.csrf || "" },
      body: JSON.stringify({ current_password: f.current_password.value, new_password: f.new_password.value })
    }).then(function (r) {
      return r.json().then(function (p) {
        if (r.ok) { show(f.dataset.done, true); f.reset(); return; }
        show((p.title || r.status) + (p.detail ? " — " + p.detail : ""), false);
      });
    }).catch(function (e) { show(String(e), false); });
  });

  // Sign out through DELETE /v1/sessions with the CSRF token.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-logout]");
    if (!b) return;
    ev.preventDefault();
    fetch("/v1/sessions", { method: "DELETE", credentials: "same-origin", headers: { "X-CSRF-Token": body.dataset.csrf || "" } })
      .finally(function () { location.assign("/console/login"); });
  });

  // A refusal from the API's middleware (CSRF, expired session) is JSON:
  // show it instead of failing silently.
  document.addEventListener("htmx:responseError", function (ev) {
    var x = ev.detail.xhr, msg = x.status + "";
    try { var p = JSON.parse(x.responseText); msg = (p.title || "") + (p.detail ? " — " + p.detail : ""); } catch (e) { }
    toast(msg, "error");
  });

  function toast(text, kind) {
    var box = document.getElementById("cards");
    if (!box) return;
    var t = document.createElement("div");
    t.className = "card toast " + (kind || "");
    t.setAttribute("role", "status");
    t.textContent = text;
    box.prepend(t);
    setTimeout(function () { t.remove(); }, 8000);
  }

  // Live cards (R-NTF-2) and reminders (R-NTF-1, capped per day by the
  // engine: a reminder over the cap is never sent on the stream).
  document.addEventListener("htmx:sseBeforeMessage", function (ev) {
    var e = ev.detail, kind = e.type;
    if (kind !== "card" && kind !== "reminder") return;
    ev.preventDefault();
    var m; try { m = JSON.parse(e.data); } catch (x) { return; }
    var p = {}; try { p = typeof m.payload === "string" ? JSON.parse(m.payload) : (m.payload || {}); } catch (x) { }
    var box = document.getElementById("cards");
    if (!box || !m.task_id) return;
    if (box.querySelector('[data-card-task="' + m.task_id + '"]')) return;
    var tpl = document.getElementById("card-tpl");
    var card = tpl.content.firstElementChild.cloneNode(true);
    card.dataset.cardTask = m.task_id;
    card.classList.add(kind);
    var names = JSON.parse(body.dataset.types || "{}");
    card.querySelector(".c-kind").textContent = (kind === "card" ? body.dataset.cardLabel : body.dataset.reminderLabel) || kind;
    card.querySelector(".c-type").textContent = names[p.task_type] || p.task_type || "";
    card.querySelector(".c-order").textContent = m.order_id || "";
    card.querySelector(".c-buyer").textContent = p.buyer_id || "";
    var due = card.querySelector(".c-due");
    if (p.due_at) { due.dataset.due = p.due_at; } else { due.remove(); }
    var view = card.querySelector(".c-view");
    view.addEventListener("click", function () {
      var target = document.getElementById("detail") ? "#detail" : "#main";
      htmx.ajax("GET", "/console/tasks/" + encodeURIComponent(m.task_id), { target: target, swap: "innerHTML" }).then(function () {
        var t = document.querySelector(target); if (t) { t.focus(); }
      });
      card.remove();
    });
    card.querySelector(".c-close").addEventListener("click", function () { card.remove(); });
    box.prepend(card);
    tick();
    view.focus({ preventScroll: true });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { var c = document.querySelector("#cards .card"); if (c) c.remove(); }
  });
})();
