// The attendance journal's quick fill, in the page: a row's or a column's «Заполнить» button sets
// the chosen mark in every cell of it without a round trip. Without JavaScript the same buttons
// submit the form and the portal answers the page with the row or column filled.
(function () {
  "use strict";
  var form = document.getElementById("journal");
  if (!form) { return; }
  var chooser = document.getElementById("fill-status");
  var status = document.getElementById("journal-status");
  var names = {present: "был", absent: "не был", excused: "уважит."};

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-fill-row], button[data-fill-column]");
    if (!button || !chooser) { return; }
    event.preventDefault();
    var row = button.getAttribute("data-fill-row");
    var column = button.getAttribute("data-fill-column");
    var selector = row ? 'select[data-row="' + row + '"]' : 'select[data-column="' + column + '"]';
    var cells = form.querySelectorAll(selector);
    var value = chooser.value;
    var filled = 0;
    cells.forEach(function (select) {
      if (select.disabled) { return; }
      if (select.value !== value) {
        select.value = value;
        select.closest("td").classList.add("journal__cell--changed");
      }
      filled += 1;
    });
    if (status) {
      status.textContent = "Отмечено «" + (names[value] || value) + "»: " + filled + ". Не забудьте сохранить месяц.";
    }
  });

  form.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-row]")) {
      event.target.closest("td").classList.add("journal__cell--changed");
    }
  });
})();
