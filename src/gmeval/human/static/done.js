/* gmeval human evaluation: the end screen's optional comment (sent once, with a submission id). */
(function () {
  'use strict';
  var root = document.getElementById('results');
  var form = document.getElementById('comment-form');
  var status = document.getElementById('comment-status');
  var button = document.getElementById('send-comment');
  var sid = null;
  form.addEventListener('submit', async function (e) {
    e.preventDefault();
    var text = document.getElementById('comment').value;
    if (!text.trim()) { status.textContent = 'Nothing to send.'; return; }
    if (!sid) {
      var b = new Uint8Array(16); window.crypto.getRandomValues(b);
      sid = Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
    }
    button.disabled = true;
    try {
      var r = await fetch('/api/r/' + root.dataset.rater + '/comment', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ submission_id: sid, comment: text }) });
      var j = await r.json();
      if (r.ok) { status.textContent = 'Received, thank you.'; return; }
      status.textContent = j.error || ('Error ' + r.status);
      if (r.status === 400) { sid = null; }
    } catch (err) { status.textContent = 'Could not send; try again.'; }
    button.disabled = false;
  });
}());
