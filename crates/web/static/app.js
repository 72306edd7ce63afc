// Hromada: optional niceties. Every page works without this file.
// 1. Copy buttons for donation details. 2. The monthly split computed in the page, so nothing
//    about the donor's income leaves the browser.
(function () {
  'use strict';
  var status = document.getElementById('copy-status');
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    var label = button.firstChild ? button.firstChild.textContent : '';
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(button.getAttribute('data-copy')).then(function () {
        var done = document.body.getAttribute('data-copied') || 'OK';
        button.firstChild.textContent = done + ' ✓';
        if (status) status.textContent = done;
        setTimeout(function () { button.firstChild.textContent = label; }, 2000);
      });
    });
  });

  var form = document.getElementById('give-form');
  var texts = document.getElementById('give-texts');
  if (!form || !texts) return;
  var totalEl = document.getElementById('split-total');
  var decimal = texts.getAttribute('data-decimal') || ',';

  // Amounts in minor units (hundredths), as the server computes them: exact integers.
  function minor(text) {
    var t = String(text || '').replace(/[\s\u00a0\u202f]/g, '').replace(',', '.');
    if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
    var parts = t.split('.');
    return parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + '0').slice(0, 2), 10) : 0);
  }
  // Exactly as the server shows amounts: thousands apart by a narrow space, no decimals for
  // whole sums, else both (50,50 — not 50,5), the language's decimal mark, the currency after
  // a space that does not break.
  function show(m, currency) {
    var whole = String(Math.floor(m / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
    var c = m % 100;
    return whole + (c ? decimal + (c < 10 ? '0' : '') + c : '') + '\u00a0' + currency;
  }

  function update() {
    var data = new FormData(form);
    var income = minor(data.get('income'));
    var share = data.get('share') === 'other' ? minor(data.get('custom')) : minor(data.get('share'));
    var currency = data.get('currency');
    var picked = data.getAll('pick');
    var blocks = document.querySelectorAll('#split [data-handle]');
    if (income === null || income <= 0 || income > 1e9 || share === null || share <= 0 || share > 10000 || picked.length === 0) {
      totalEl.textContent = texts.getAttribute('data-empty');
      blocks.forEach(function (b) { b.hidden = true; });
      return;
    }
    var total = Math.floor(income * share / 10000);
    var each = Math.floor(total / picked.length), rest = total % picked.length, i = 0;
    totalEl.textContent = texts.getAttribute('data-total').replace('{0}', show(total, currency));
    blocks.forEach(function (b) {
      var on = picked.indexOf(b.getAttribute('data-handle')) >= 0;
      b.hidden = !on;
      if (on) {
        b.querySelector('.part').textContent = show(each + (i < rest ? 1 : 0), currency);
        i++;
      }
    });
  }
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  // With JavaScript the form is never sent: the income stays in the browser.
  form.addEventListener('submit', function (e) { e.preventDefault(); update(); });
})();
