// The UI works without this script; it only submits the filters as soon as
// one changes and makes a whole incident row clickable.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
  document.querySelectorAll("tr.incident").forEach(function (tr) {
    tr.addEventListener("click", function (e) {
      if (e.target.closest("a")) return;
      window.location = "/incidents/" + encodeURIComponent(tr.dataset.id);
    });
    tr.style.cursor = "pointer";
  });
});
