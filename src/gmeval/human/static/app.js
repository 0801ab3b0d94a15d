/* gmeval human evaluation: the trial page (plain JS, no dependencies).
 * Every answer carries a random submission id; a retry (network error, 5xx) resends the same id,
 * so the server stores it once. Buttons and keys are ignored while an answer is being sent. */
(function () {
  'use strict';
  var app = document.getElementById('app');
  var rater = app.dataset.rater;
  var nTutorial = parseInt(app.dataset.nTutorial, 10) || 0;
  var fixationMs = parseInt(app.dataset.fixationMs, 10) || 500;
  var api = { next: '/api/r/' + rater + '/next', answer: '/api/r/' + rater + '/answer' };
  var $ = function (id) { return document.getElementById(id); };
  var img = $('stimulus'), mask = $('mask'), fixation = $('fixation'), loading = $('loading');
  var btnReal = $('btn-real'), btnFake = $('btn-fake');
  var state = 'loading';   // loading | presenting | answer | sending | feedback | interstitial | done
  var trial = null, pending = null, lastPhase = null, shownAt = 0, shownMs = null;

  function newId() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function setButtons(on) { btnReal.disabled = btnFake.disabled = !on; }
  function showError(msg) { var e = $('error'); e.textContent = msg; e.hidden = !msg; }

  async function request(url, opts) {
    for (var attempt = 0; ; attempt++) {
      try {
        var r = await fetch(url, opts);
        if (r.status >= 500 && attempt < 5) { throw new Error('server error ' + r.status); }
        return r;
      } catch (err) {
        if (attempt >= 5) { throw err; }
        showError('Connection problem, retrying…');
        await sleep(250 * Math.pow(2, attempt));
      }
    }
  }

  function label(t) {
    var text;
    if (t.phase === 'tutorial') { text = 'Tutorial ' + (t.position + 1) + ' of ' + nTutorial; }
    else { text = 'Image ' + (t.position - nTutorial + 1) + ' of ' + (t.total - nTutorial); }
    $('progress-label').textContent = text;
    $('phase-banner').textContent = t.phase === 'tutorial' ? 'Tutorial: you will be told the answer.' : '';
    $('progress-bar').style.width = (100 * t.position / t.total).toFixed(1) + '%';
  }

  function drawMask() {
    var ctx = mask.getContext('2d'), d = ctx.createImageData(mask.width, mask.height);
    for (var i = 0; i < d.data.length; i += 4) {
      var v = Math.floor(Math.random() * 256);
      d.data[i] = d.data[i + 1] = d.data[i + 2] = v; d.data[i + 3] = 255;
    }
    ctx.putImageData(d, 0, 0);
  }

  function handle(j) {
    if (j.done) { state = 'done'; window.location.assign(j.results_url); return; }
    var t = j.trial;
    if (lastPhase === 'tutorial' && t.phase !== 'tutorial') {
      pending = t; state = 'interstitial'; lastPhase = t.phase;
      img.hidden = mask.hidden = fixation.hidden = true;
      $('interstitial').hidden = false; $('btn-begin').focus();
      return;
    }
    present(t);
  }

  async function present(t) {
    trial = t; trial.sid = newId(); lastPhase = t.phase; state = 'presenting'; shownMs = null;
    setButtons(false); label(t); showError('');
    img.hidden = mask.hidden = fixation.hidden = true; loading.hidden = false;
    var pre = new Image();
    pre.src = t.image_url;
    try { await pre.decode(); } catch (e) { /* shown anyway; decode() fails on some engines */ }
    img.src = t.image_url;
    loading.hidden = true;
    if (t.exposure_ms) {               // HYPE-time: fixation, timed exposure, backward noise mask
      fixation.hidden = false;
      await sleep(fixationMs);
      fixation.hidden = true; img.hidden = false;
      shownAt = performance.now();
      await sleep(t.exposure_ms);
      img.hidden = true; drawMask(); mask.hidden = false;
      shownMs = Math.round(performance.now() - shownAt);
    } else {
      img.hidden = false; shownAt = performance.now();
    }
    state = 'answer'; setButtons(true);
  }

  async function answer(resp) {
    if (state !== 'answer') { return; }
    state = 'sending'; setButtons(false);
    var body = JSON.stringify({ trial_id: trial.trial_id, submission_id: trial.sid, answer: resp,
                                rt_ms: Math.round(performance.now() - shownAt), shown_ms: shownMs });
    var r, j;
    try {
      r = await request(api.answer, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body });
      j = await r.json();
    } catch (err) {
      showError('Could not send your answer. Check the connection and answer again.');
      state = 'answer'; setButtons(true); return;
    }
    if (r.status === 409) { return load(); }       // out of step (e.g. answered in another tab): resync
    if (!r.ok) { showError(j.error || ('Error ' + r.status)); state = 'answer'; setButtons(true); return; }
    showError('');
    if (j.feedback) {
      pending = j; state = 'feedback';
      var fb = j.feedback;
      $('feedback-text').textContent = (fb.correct ? 'Correct: ' : 'Not quite: ') + 'this image was ' +
        (fb.truth === 'real' ? 'REAL.' : 'FAKE (made by a generator).');
      $('feedback').className = 'feedback ' + (fb.correct ? 'good' : 'bad');
      $('feedback').hidden = false; $('btn-continue').focus();
      return;
    }
    handle(j);
  }

  function proceed() {
    if (state === 'feedback') { $('feedback').hidden = true; var j = pending; pending = null; handle(j); }
    else if (state === 'interstitial') { $('interstitial').hidden = true; var t = pending; pending = null; present(t); }
  }

  async function load() {
    state = 'loading';
    try {
      var r = await request(api.next, { headers: { Accept: 'application/json' } });
      var j = await r.json();
      if (!r.ok) { showError(j.error || ('Error ' + r.status)); return; }
      handle(j);
    } catch (err) { showError('Could not reach the server. Reload the page to continue.'); }
  }

  btnReal.addEventListener('click', function () { answer('real'); });
  btnFake.addEventListener('click', function () { answer('fake'); });
  $('btn-continue').addEventListener('click', proceed);
  $('btn-begin').addEventListener('click', proceed);
  document.addEventListener('keydown', function (e) {
    if (e.repeat || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var k = e.key;
    if (k === 'r' || k === 'R' || k === 'ArrowLeft') { e.preventDefault(); answer('real'); }
    else if (k === 'f' || k === 'F' || k === 'ArrowRight') { e.preventDefault(); answer('fake'); }
    else if (k === 'Enter' || k === ' ') {
      if (state === 'feedback' || state === 'interstitial') { e.preventDefault(); proceed(); }
    }
  });
  load();
}());
