// Language switch (cookie + localStorage) and sortable tables of the dashboard.
(function () {
  "use strict";
  var COOKIE = "jalon_lang";
  var ONE_YEAR_S = 31536000;

  function saveLanguage(lang) {
    document.cookie = COOKIE + "=" + lang + "; path=/; max-age=" + ONE_YEAR_S + "; SameSite=Lax";
    try { window.localStorage.setItem(COOKIE, lang); } catch (error) { /* storage disabled */ }
  }

  function cookieLanguage() {
    var match = document.cookie.match(/(?:^|; )jalon_lang=(en|fr)/);
    return match ? match[1] : null;
  }

  // A browser that lost the cookie but kept localStorage gets its language back.
  var stored = null;
  try { stored = window.localStorage.getItem(COOKIE); } catch (error) { stored = null; }
  if (!cookieLanguage() && (stored === "en" || stored === "fr") && stored !== document.documentElement.lang) {
    saveLanguage(stored);
    window.location.reload();
    return;
  }
  saveLanguage(document.documentElement.lang);

  document.querySelectorAll("[data-lang]").forEach(function (link) {
    link.addEventListener("click", function () { saveLanguage(link.getAttribute("data-lang")); });
  });

  function cellValue(row, index, kind) {
    var cell = row.children[index];
    var raw = cell.getAttribute("data-value") || cell.textContent.trim();
    if (kind !== "number") { return raw.toLowerCase(); }
    // French numbers use a comma and narrow spaces: normalise before parsing.
    return parseFloat(raw.replace(/[\s\u202f\u00a0]/g, "").replace(",", "."));
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th[data-sort]").forEach(function (header, index) {
      header.addEventListener("click", function () {
        var ascending = header.getAttribute("aria-sort") !== "ascending";
        var kind = header.getAttribute("data-sort");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, kind);
          var y = cellValue(b, index, kind);
          var order = 0;
          if (x < y) { order = -1; } else if (x > y) { order = 1; }
          return ascending ? order : -order;
        });
        table.querySelectorAll("th[data-sort]").forEach(function (other) { other.removeAttribute("aria-sort"); });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
