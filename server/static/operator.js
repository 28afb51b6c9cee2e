// Operator console: polls GET /api/status (4 times a second) and drives the run API.
(function () {
  const token = new URLSearchParams(location.search).get('token');
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  const $ = (id) => document.getElementById(id);
  let last = null;

  function fmt(v, digits) {
    if (v === null || v === undefined) return '–';
    return typeof v === 'number' ? v.toFixed(digits ?? 0) : String(v);
  }
  function list(el, pairs) {
    el.replaceChildren(
      ...pairs.flatMap(([k, v, cls]) => {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = v;
        if (cls) dd.className = cls;
        return [dt, dd];
      }),
    );
  }
  function render(s) {
    last = s;
    $('warnings').replaceChildren(
      ...s.warnings.map((w) => {
        const p = document.createElement('p');
        p.textContent = w;
        return p;
      }),
    );
    const d = s.display;
    list($('display'), [
      ['connection', d.connected ? 'connected' : 'NOT CONNECTED', d.connected ? 'ok' : 'bad'],
      ['ready for', d.readyForRun ?? '–'],
      ['focus', d.focused ? 'focused' : 'LOST FOCUS', d.focused ? 'ok' : 'bad'],
      ['refresh', d.refreshHz ? d.refreshHz.toFixed(2) + ' Hz' : '–'],
      ['screen', d.screen ?? '–'],
      [
        'other displays',
        d.secondDisplays.length ? d.secondDisplays.map((x) => x.clientId).join(', ') + ' (cannot write)' : 'none',
        d.secondDisplays.length ? 'bad' : 'ok',
      ],
      ['refused events', fmt(d.refusedFromOthers), d.refusedFromOthers ? 'bad' : 'ok'],
    ]);
    list($('trigger'), [
      ['source', s.trigger.source],
      ['count (session)', fmt(s.trigger.count)],
      ['last', s.trigger.lastAgoMs === null ? '–' : (s.trigger.lastAgoMs / 1000).toFixed(1) + ' s ago'],
    ]);
    const r = s.run;
    if (!r) {
      list($('run'), [['run', 'none armed']]);
      return;
    }
    const l = r.live;
    list($('run'), [
      ['run', r.id],
      ['state', r.state, r.state === 'running' || r.state === 'finished' ? 'ok' : r.state === 'armed' ? '' : 'bad'],
      [
        'scanner time',
        l.scannerTimeS === null ? '–' : l.scannerTimeS.toFixed(1) + ' / ' + l.durationS.toFixed(0) + ' s',
      ],
      ['triggers (run)', fmt(r.triggers)],
      [
        'measured TR',
        l.measuredTrS === null
          ? '–'
          : l.measuredTrS.toFixed(4) + ' s (' + (l.trDeviationPct >= 0 ? '+' : '') + l.trDeviationPct.toFixed(2) + '%)',
      ],
      [
        'missed / extra triggers',
        l.missedTriggers + ' / ' + l.extraTriggers,
        l.missedTriggers || l.extraTriggers ? 'bad' : 'ok',
      ],
      ['current trial', l.currentTrial === null ? '–' : l.currentTrial + 1 + ' of ' + r.trialsPlanned],
      ['trials shown', r.trialsShown + ' of ' + r.trialsPlanned],
      [
        'onset error',
        l.onsetErrorMs
          ? 'median ' + l.onsetErrorMs.median.toFixed(2) + ' ms, max |e| ' + l.onsetErrorMs.maxAbs.toFixed(2) + ' ms'
          : '–',
      ],
      ['responses', fmt(r.responses)],
      ['events file', r.eventsFile ?? '–'],
      ['storage', r.storageError ?? 'ok', r.storageError ? 'bad' : 'ok'],
      ['ended', r.endReason ?? '–'],
    ]);
  }
  async function poll() {
    try {
      const res = await fetch('/api/status', { headers });
      if (res.ok) render(await res.json());
      else $('warnings').textContent = 'status: HTTP ' + res.status;
    } catch (e) {
      $('warnings').replaceChildren(
        Object.assign(document.createElement('p'), { textContent: 'server unreachable: ' + e.message }),
      );
    }
  }
  async function call(method, url, body) {
    const res = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const json = await res.json().catch(() => ({}));
    $('action-result').textContent = res.ok
      ? method + ' ' + url + ': ' + (json.state ?? 'ok')
      : 'error: ' + (json.error ?? res.status);
    poll();
  }
  $('arm').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { participant: f.get('participant'), task: f.get('task') || 'orthostim', run: Number(f.get('run')) };
    if (f.get('session')) body.session = f.get('session');
    call('POST', '/api/runs', body);
  });
  $('arm-next').addEventListener('click', () => {
    const n = last && last.nextRun;
    if (!n) {
      $('action-result').textContent = 'no previous run to follow: arm one with the form';
      return;
    }
    const body = { participant: n.participant, task: n.task, run: n.run };
    if (n.session) body.session = n.session;
    call('POST', '/api/runs', body);
  });
  $('abort').addEventListener('click', () => {
    if (!last || !last.run || (last.run.state !== 'armed' && last.run.state !== 'running')) {
      $('action-result').textContent = 'no armed or running run';
      return;
    }
    if (confirm('Abort run ' + last.run.id + '?'))
      call('POST', '/api/runs/' + encodeURIComponent(last.run.id) + '/abort');
  });
  poll();
  setInterval(poll, 250);
})();
