/** The two HTML pages. Scripts and styles come from the server's own routes (same origin). */
function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function displayPage(query: string): string {
  const q = escapeAttr(query);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>orthostim display</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/jspsych.css${q}">
<style>
html,body{margin:0;height:100%;overflow:hidden;cursor:none;background:#808080;color:#000;font-family:sans-serif}
#orthostim-message{position:fixed;inset:0;display:flex;align-items:center;justify-content:center;font-size:24px;text-align:center;pointer-events:none}
.jspsych-display-element{height:100%}
</style></head>
<body><div id="orthostim-message">Connecting…</div><div id="orthostim-jspsych"></div>
<script src="/app.js${q}"></script></body></html>
`;
}

export function operatorPage(query: string): string {
  const q = escapeAttr(query);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>orthostim operator</title>
<link rel="stylesheet" href="/static/operator.css${q}">
</head><body>
<h1>orthostim session</h1>
<section id="warnings" aria-live="assertive"></section>
<div class="grid">
<section><h2>Display</h2><dl id="display"></dl></section>
<section><h2>Triggers</h2><dl id="trigger"></dl></section>
<section><h2>Run</h2><dl id="run"></dl></section>
</div>
<section><h2>Actions</h2>
<form id="arm">
<label>participant <input name="participant" required pattern="[A-Za-z0-9]+" size="6"></label>
<label>session <input name="session" pattern="[A-Za-z0-9]*" size="6"></label>
<label>task <input name="task" value="orthostim" pattern="[A-Za-z0-9]+" size="10"></label>
<label>run <input name="run" type="number" min="1" max="999" value="1" size="3"></label>
<button type="submit">Arm run</button>
<button type="button" id="arm-next">Arm next run</button>
<button type="button" id="abort">Abort run</button>
</form>
<p id="action-result" role="status"></p>
</section>
<script src="/static/operator.js${q}"></script>
</body></html>
`;
}
