// Open every collapsed chart before printing, so paper copies show them all.
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details").forEach(function (item) { item.open = true; });
});
