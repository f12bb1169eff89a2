
// Draws the Tether context map from the JSON in #tether-data. Every string in the data is untrusted: the DOM is
// built with createElement and textContent only, and no data reaches HTML parsing or a URL other than a fragment.
(function () {
  'use strict';

  const app = document.getElementById('app');

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent, ...kids) {
    for (const k of kids) if (k) parent.appendChild(typeof k === 'string' ? document.createTextNode(k) : k);
    return parent;
  }
  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const arr = (v) => (Array.isArray(v) ? v : []);
  const str = (v) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
  const num = (v) => (typeof v === 'number' && isFinite(v) ? v : null);
  const plural = (n, one, many) => n + ' ' + (n === 1 ? one : many || one + 's');

  function fail(message) {
    add(app, el('p', 'notice', message));
  }

  let data;
  try {
    data = JSON.parse(document.getElementById('tether-data').textContent);
  } catch (e) {
    fail('The snapshot embedded in this page could not be read: ' + e.message);
    return;
  }
  const snap = isObj(data) && isObj(data.snapshot) ? data.snapshot : {};
  const contexts = arr(snap.contexts).filter(isObj);
  const tasks = arr(snap.tasks).filter(isObj);
  const lost = arr(snap.lostCancels).filter(isObj);
  const flameStacks = arr(data && data.flame).filter(isObj);

  // ---- formatting ----

  function millis(ms) {
    if (ms === null) return '\u2014';
    const a = Math.abs(ms);
    let s;
    if (a < 1000) s = Math.round(a) + ' ms';
    else if (a < 60000) s = (a / 1000).toFixed(a < 10000 ? 2 : 1) + ' s';
    else if (a < 3600000) s = Math.floor(a / 60000) + ' min ' + Math.round((a % 60000) / 1000) + ' s';
    else s = (a / 3600000).toFixed(1) + ' h';
    return (ms < 0 ? '-' : '') + s;
  }
  const takenDay = str(snap.takenAt).slice(0, 10);
  function instant(iso) {
    const text = str(iso);
    if (!text) return el('span', 'mono', '\u2014');
    const same = text.slice(0, 10) === takenDay && text.charAt(10) === 'T';
    const e = el('span', 'mono', same ? text.slice(11) : text.replace('T', ' '));
    e.title = text;
    return e;
  }
  function code(text, className) {
    const e = el('code', className, text);
    e.title = str(text);
    return e;
  }
  const classToken = (v) => str(v).toLowerCase().replace(/[^a-z0-9_-]/g, '');

  // Frames look like "java.base/java.lang.Thread.sleep(Thread.java:509)"; a flame box has room for "Thread.sleep".
  function shortFrame(frame) {
    const f = str(frame);
    if (f.startsWith('[')) return f;
    const paren = f.indexOf('(');
    let head = paren < 0 ? f : f.slice(0, paren);
    const slash = head.lastIndexOf('/');
    if (slash >= 0) head = head.slice(slash + 1);
    const parts = head.split('.');
    const name = parts.length >= 2 ? parts[parts.length - 2] + '.' + parts[parts.length - 1] : head;
    const line = paren < 0 ? '' : (/:(\d+)\)$/.exec(f) || [])[1];
    return line ? name + ':' + line : name;
  }

  // ---- the model: contexts by id, parent links, tasks per context ----

  const byId = new Map();
  for (const c of contexts) if (!byId.has(str(c.id))) byId.set(str(c.id), c);
  const kids = new Map();
  const roots = [];
  for (const c of byId.values()) {
    const p = typeof c.parent === 'string' ? c.parent : null;
    if (p !== null && p !== str(c.id) && byId.has(p)) {
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p).push(c);
    } else {
      roots.push(c);
    }
  }
  const tasksOf = new Map();
  const orphanTasks = [];
  for (const t of tasks) {
    const owner = str(t.context);
    if (byId.has(owner)) {
      if (!tasksOf.has(owner)) tasksOf.set(owner, []);
      tasksOf.get(owner).push(t);
    } else {
      orphanTasks.push(t);
    }
  }
  const leakedTasks = tasks.filter((t) => t.leaked === true);

  // Tasks and leaked tasks in each subtree; iterative, and safe against parent cycles in malformed data.
  const subtree = new Map();
  function counts(id) {
    if (subtree.has(id)) return subtree.get(id);
    const result = { tasks: 0, leaked: 0 };
    subtree.set(id, result); // a cycle back to here counts nothing twice
    const own = tasksOf.get(id) || [];
    result.tasks = own.length;
    result.leaked = own.filter((t) => t.leaked === true).length;
    for (const k of kids.get(id) || []) {
      const r = counts(str(k.id));
      result.tasks += r.tasks;
      result.leaked += r.leaked;
    }
    return result;
  }

  function lineage(id) {
    const path = [];
    const seen = new Set();
    let c = byId.get(id);
    while (c && !seen.has(str(c.id)) && path.length < 200) {
      seen.add(str(c.id));
      path.unshift(c);
      c = typeof c.parent === 'string' ? byId.get(c.parent) : undefined;
    }
    return path;
  }

  function contextLink(c) {
    const a = el('a', 'ctx-link');
    a.href = '#ctx-' + encodeURIComponent(str(c.id));
    add(a, el('span', 'mono', str(c.id)), ' ', str(c.kind));
    a.title = str(c.site) || 'creation site not sampled';
    return a;
  }

  function endedText(c) {
    const e = c.endedBy;
    if (!isObj(e)) return c.done === true ? 'done' : 'live';
    return e.type === 'deadline_exceeded' ? 'deadline exceeded' : 'cancelled';
  }

  // ---- header ----

  const meta = document.getElementById('meta');
  add(meta, 'Snapshot taken ', el('span', 'mono', str(snap.takenAt) || 'at an unknown time'), ' \u00b7 tracking level ',
    el('strong', null, str(snap.level) || 'unknown'));
  const stats = document.getElementById('stats');
  function stat(n, label, alarm) {
    const li = el('li', alarm ? 'alarm' : null);
    li.dataset.stat = label;
    return add(stats, add(li, el('span', 'n', n), el('span', 'label', label)));
  }
  stat(contexts.length, 'contexts');
  stat(contexts.filter((c) => c.done !== true).length, 'live contexts');
  stat(tasks.length, 'live tasks');
  stat(leakedTasks.length, 'leaked tasks', leakedTasks.length > 0);
  stat(lost.length, 'lost cancels', lost.length > 0);

  // ---- leaked tasks, grouped by creation site ----

  function creationSite(t) {
    const cs = arr(t.creationStack);
    return cs.length ? str(cs[0]) : null;
  }

  function stackDetails(label, frames, open) {
    const list = arr(frames);
    if (!list.length) return null;
    const d = el('details', 'stack');
    if (open) d.open = true;
    add(d, el('summary', null, label + ' (' + plural(list.length, 'frame') + ')'));
    const ol = el('ol', 'frames');
    list.forEach((f, i) => add(ol, el('li', i === 0 ? 'top' : null, str(f))));
    return add(d, ol);
  }

  function leakSection() {
    const s = el('section', 'panel leaks');
    s.id = 'leaks';
    add(s, el('h2', null, 'Leaked tasks'));
    if (!leakedTasks.length) {
      add(s, el('p', 'ok-line no-leaks', 'No leaked tasks: every task whose context ended has stopped.'));
      return s;
    }
    add(s, el('p', 'hint', 'Tasks still running after their context ended and the grace period passed, grouped by where they were started.'));
    const groups = new Map();
    for (const t of leakedTasks) {
      const key = creationSite(t) || '(creation site not sampled)';
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(t);
    }
    const sorted = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
    for (const [site, list] of sorted) {
      const g = el('div', 'leak-group');
      const h = el('h3');
      add(h, el('span', 'badge leak', 'LEAK'), ' ', plural(list.length, 'task'), ' started at ', code(site, 'site'));
      add(g, h);
      const kinds = [...new Set(list.map((t) => str(t.classification) || 'UNCLASSIFIED'))];
      const longest = Math.max(...list.map((t) => num(t.outlivedMillis) || 0));
      add(g, add(el('p', 'why'), 'Classified ', ...kinds.flatMap((k, i) => [i ? ', ' : '', el('span', 'badge cls classification', k)]),
        ' \u00b7 outlived its context by up to ', el('strong', null, millis(longest))));
      for (const t of list) g.appendChild(leakTask(t));
      add(s, g);
    }
    return s;
  }

  function leakTask(t) {
    const d = el('div', 'leak-task');
    d.dataset.task = str(t.id);
    const head = el('div', 'task-head');
    add(head, el('span', 'thread mono', str(t.thread) || '(unnamed thread)'),
      el('span', 'badge' + (t.virtual === true ? ' virtual' : ''), t.virtual === true ? 'virtual' : 'platform'),
      el('span', 'badge', str(t.threadState) || '?'),
      el('span', 'badge cls classification', str(t.classification) || 'UNCLASSIFIED'),
      el('span', 'times', 'outlived ' + millis(num(t.outlivedMillis)) + ' \u00b7 running ' + millis(num(t.runningMillis))));
    add(d, head);
    const line = el('div', 'lineage');
    const path = lineage(str(t.context));
    if (!path.length) add(line, el('span', 'sep', 'context ' + str(t.context) + ' (not in the snapshot)'));
    path.forEach((c, i) => {
      if (i) add(line, el('span', 'sep', '\u203a'));
      add(line, contextLink(c));
    });
    const owner = byId.get(str(t.context));
    if (owner && isObj(owner.endedBy)) {
      const e = owner.endedBy;
      add(line, el('span', 'sep', '\u00b7'), el('span', 'cause', endedText(owner) + (e.cause ? ': ' + str(e.cause) : '')));
    }
    add(d, line);
    add(d, stackDetails('Current stack', t.stack, true), stackDetails('Creation stack', t.creationStack, false));
    return d;
  }

  // ---- flame graph of current stacks ----

  function flameSection() {
    const s = el('section', 'panel flames');
    s.id = 'flame';
    add(s, el('h2', null, 'Where tasks are stuck'));
    add(s, el('p', 'hint', 'Current stacks of live tasks, merged: the root is at the bottom, each box is a frame, its width the share of tasks in it. Click a box to zoom.'));
    if (!flameStacks.length) {
      add(s, el('p', 'empty', 'No live tasks.'));
      return s;
    }
    const anyLeaked = flameStacks.some((x) => (num(x.leaked) || 0) > 0);
    let mode = anyLeaked ? 'leaked' : 'all';
    const controls = el('div', 'flame-controls');
    const radio = (value, label) => {
      const l = el('label');
      const r = el('input');
      r.type = 'radio';
      r.name = 'flame-mode';
      r.value = value;
      r.checked = value === mode;
      r.disabled = value === 'leaked' && !anyLeaked;
      r.addEventListener('change', () => { mode = value; zoom = []; draw(); });
      return add(l, r, ' ', label);
    };
    const reset = el('button', null, 'Reset zoom');
    reset.type = 'button';
    add(controls, radio('leaked', 'Leaked tasks'), radio('all', 'All live tasks'), reset);
    const graph = el('div', 'flame');
    const status = el('div', 'flame-status', '\u00a0');
    const folded = el('pre', 'folded');
    const foldedBox = add(el('details', 'stack'), el('summary', null, 'Folded stacks (for flamegraph.pl, speedscope and the like)'), folded);
    add(s, controls, graph, status, foldedBox);

    let zoom = []; // the frames from the root to the zoomed node
    reset.addEventListener('click', () => { zoom = []; draw(); });

    function tree() {
      const root = { name: mode === 'leaked' ? 'leaked tasks' : 'all live tasks', total: 0, leaked: 0, kids: new Map(), path: [] };
      for (const st of flameStacks) {
        const leaked = num(st.leaked) || 0;
        const n = mode === 'leaked' ? leaked : num(st.tasks) || 0;
        if (!n) continue;
        let node = root;
        node.total += n;
        node.leaked += leaked;
        for (const f of arr(st.frames)) {
          const name = str(f);
          let k = node.kids.get(name);
          if (!k) {
            k = { name, total: 0, leaked: 0, kids: new Map(), path: node.path.concat([name]) };
            node.kids.set(name, k);
          }
          k.total += n;
          k.leaked += leaked;
          node = k;
        }
      }
      return root;
    }

    function hue(name) {
      let h = 0;
      for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
      return Math.abs(h);
    }
    function frameBox(node, extraClass) {
      const b = el('div', 'flame-frame' + (node.name.startsWith('[') ? ' pseudo' : '') + (extraClass ? ' ' + extraClass : ''),
        node.path.length ? shortFrame(node.name) : node.name);
      const h = hue(node.name);
      if (node.name.startsWith('[')) b.style.backgroundColor = 'hsl(' + (205 + (h % 40)) + ', 55%, 72%)';
      else if (node.leaked > 0) b.style.backgroundColor = 'hsl(' + (h % 12) + ', ' + (62 + (h % 20)) + '%, ' + (58 + (h % 10)) + '%)';
      else b.style.backgroundColor = 'hsl(' + (22 + (h % 30)) + ', ' + (75 + (h % 20)) + '%, ' + (60 + (h % 10)) + '%)';
      b.title = node.name + '\n' + plural(node.total, 'task') + (node.leaked ? ', ' + node.leaked + ' leaked' : '');
      b.dataset.frame = node.name;
      b.addEventListener('mouseenter', () => { status.textContent = node.name + '  \u2014  ' + plural(node.total, 'task') + (node.leaked ? ' (' + node.leaked + ' leaked)' : ''); });
      return b;
    }
    function nodeBox(node, parentTotal) {
      const box = el('div', 'flame-node');
      box.style.width = (100 * node.total / parentTotal) + '%';
      if (node.kids.size) {
        const row = el('div', 'flame-kids');
        [...node.kids.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .forEach((k) => row.appendChild(nodeBox(k, node.total)));
        box.appendChild(row);
      }
      const b = frameBox(node);
      b.addEventListener('click', (ev) => { ev.stopPropagation(); zoom = node.path; draw(); });
      box.appendChild(b);
      return box;
    }
    function draw() {
      const root = tree();
      let focus = root;
      const below = [root];
      for (const name of zoom) {
        const next = focus.kids.get(name);
        if (!next) break;
        focus = next;
        below.push(focus);
      }
      below.pop();
      graph.replaceChildren();
      if (!root.total) {
        graph.appendChild(el('p', 'empty', 'No tasks in this view.'));
      } else {
        const top = nodeBox(focus, focus.total);
        graph.appendChild(top);
        // Zoomed: the frames below the focus stay as full-width bars; clicking one zooms out to it.
        for (let i = below.length - 1; i >= 0; i--) {
          const n = below[i];
          const bar = frameBox(n, 'base');
          bar.addEventListener('click', () => { zoom = n.path; draw(); });
          graph.appendChild(bar);
        }
      }
      const lines = [];
      for (const st of flameStacks) {
        const n = mode === 'leaked' ? num(st.leaked) || 0 : num(st.tasks) || 0;
        if (n) lines.push(arr(st.frames).map((f) => str(f).replace(/;/g, ':').replace(/\n/g, ' ')).join(';') + ' ' + n);
      }
      folded.textContent = lines.join('\n');
    }
    draw();
    return s;
  }

  // ---- the context tree ----

  function budgetBar(c) {
    const remaining = num(c.remainingMillis);
    const created = Date.parse(str(c.createdAt));
    const deadline = Date.parse(str(c.deadline));
    const total = isFinite(created) && isFinite(deadline) ? deadline - created : null;
    const bar = el('span', 'budget');
    const fill = el('span');
    bar.appendChild(fill);
    if (remaining !== null && remaining <= 0) {
      bar.classList.add('over');
      fill.style.width = '0%';
    } else if (remaining !== null && total && total > 0) {
      const f = Math.max(0, Math.min(1, remaining / total));
      fill.style.width = (100 * f).toFixed(1) + '%';
      if (f < 0.2) bar.classList.add('low');
    } else {
      fill.style.width = '100%';
    }
    bar.title = total ? 'budget ' + millis(total) : 'budget unknown';
    return bar;
  }

  function taskItem(t) {
    const li = el('li', 'task' + (t.leaked === true ? ' leaked' : '') + ' cls-' + classToken(t.classification));
    li.dataset.task = str(t.id);
    const head = el('div', 'task-head');
    if (t.leaked === true) add(head, el('span', 'badge leak', 'LEAKED'));
    add(head, el('span', 'thread mono', str(t.thread) || '(unnamed thread)'),
      el('span', 'badge' + (t.virtual === true ? ' virtual' : ''), t.virtual === true ? 'virtual' : 'platform'),
      el('span', 'badge', str(t.threadState) || '?'),
      el('span', 'badge cls classification', str(t.classification) || 'UNCLASSIFIED'));
    const times = ['running ' + millis(num(t.runningMillis))];
    if (num(t.outlivedMillis) !== null) times.push('outlived its context by ' + millis(num(t.outlivedMillis)));
    add(head, el('span', 'times', times.join(' \u00b7 ')));
    add(li, head);
    const site = creationSite(t);
    add(li, add(el('div', 'creation-site'), 'started at ', site ? code(site, 'site') : el('em', null, 'not sampled')));
    add(li, stackDetails('Current stack', t.stack, false), stackDetails('Creation stack', t.creationStack, false));
    return li;
  }

  function contextItem(c, depth, seen) {
    const id = str(c.id);
    const li = el('li', 'context');
    li.id = 'ctx-' + encodeURIComponent(id);
    li.dataset.context = id;
    const n = counts(id);
    const own = tasksOf.get(id) || [];
    li.classList.add(c.done === true ? 'done' : 'live');
    if (!n.tasks) li.classList.add('idle');
    if (n.leaked) li.classList.add('has-leak');
    if (own.some((t) => t.leaked === true)) li.classList.add('own-leak');

    const details = el('details');
    details.open = depth < 3 || n.tasks > 0;
    const summary = el('summary');
    const card = el('div', 'ctx-card');
    const head = el('div', 'ctx-head');
    const ended = isObj(c.endedBy) ? c.endedBy : null;
    const state = ended ? (ended.type === 'deadline_exceeded' ? 'deadline' : 'cancelled') : c.done === true ? 'cancelled' : 'live';
    add(head, el('span', 'twisty'), el('span', 'badge kind', str(c.kind) || '?'), el('span', 'id mono', id),
      el('span', 'badge state ' + state, endedText(c)));
    if (n.leaked) add(head, el('span', 'badge leak', plural(n.leaked, 'leaked task')));
    if (n.tasks) add(head, el('span', 'badge', plural(n.tasks, 'task') + (own.length !== n.tasks ? ' below' : '')));
    add(head, c.site ? code(str(c.site), 'site') : el('span', 'site', 'site not sampled'));
    add(card, head);

    const info = el('div', 'ctx-info');
    const dl = el('div', 'deadline-line');
    if (c.deadline) {
      add(dl, 'deadline ', instant(c.deadline), budgetBar(c));
      const r = num(c.remainingMillis);
      if (r !== null && r > 0) add(dl, el('span', 'remaining', millis(r) + ' left'));
      else if (r !== null) add(dl, el('span', 'remaining over-text', 'passed ' + millis(-r) + ' ago'));
    } else {
      add(dl, 'no deadline');
    }
    add(dl, ' \u00b7 created ', instant(c.createdAt));
    add(info, dl);
    if (ended) {
      const line = el('div', 'ended-line');
      add(line, ended.type === 'deadline_exceeded' ? 'deadline exceeded' : 'cancelled');
      if (ended.byAncestor === true) add(line, ' by an ancestor');
      if (ended.thread) add(line, ' on ', el('span', 'mono', str(ended.thread)));
      if (ended.at) add(line, ' at ', instant(ended.at));
      if (ended.cause) add(line, ' \u00b7 cause ', el('span', 'cause', str(ended.cause)));
      if (ended.site) add(line, ' \u00b7 from ', code(str(ended.site), 'site'));
      add(info, line);
    }
    add(card, info);
    summary.appendChild(card);
    details.appendChild(summary);

    if (own.length) {
      const ul = el('ul', 'tasks');
      own.forEach((t) => ul.appendChild(taskItem(t)));
      details.appendChild(ul);
    }
    const children = (kids.get(id) || []).filter((k) => !seen.has(str(k.id)));
    if (children.length) {
      const ul = el('ul', 'children');
      for (const k of children) {
        seen.add(str(k.id));
        ul.appendChild(contextItem(k, depth + 1, seen));
      }
      details.appendChild(ul);
    }
    li.appendChild(details);
    return li;
  }

  function treeSection() {
    const s = el('section', 'panel contexts');
    s.id = 'tree';
    add(s, el('h2', null, 'Contexts'));
    add(s, el('p', 'hint', 'Each cancellable context under its nearest cancellable parent, with the tasks bound to it.'));
    if (!contexts.length) {
      add(s, el('p', 'empty', 'No contexts in this snapshot.'));
      return s;
    }
    const controls = el('div', 'tree-controls');
    const onlyBusy = el('input');
    onlyBusy.type = 'checkbox';
    const label = add(el('label'), onlyBusy, ' only contexts with live tasks');
    const expand = el('button', null, 'Expand all');
    expand.type = 'button';
    add(controls, label, expand);
    const tree = el('ul', 'tree');
    onlyBusy.addEventListener('change', () => tree.classList.toggle('only-busy', onlyBusy.checked));
    expand.addEventListener('click', () => tree.querySelectorAll('details').forEach((d) => { d.open = true; }));
    const seen = new Set();
    const order = roots.slice().sort((a, b) => counts(str(b.id)).leaked - counts(str(a.id)).leaked);
    for (const r of order) {
      seen.add(str(r.id));
      tree.appendChild(contextItem(r, 0, seen));
    }
    // Contexts on a parent cycle (malformed data) are reachable from no root: show them rather than drop them.
    for (const c of byId.values()) {
      if (!seen.has(str(c.id))) {
        seen.add(str(c.id));
        tree.appendChild(contextItem(c, 0, seen));
      }
    }
    add(s, controls, tree);
    if (orphanTasks.length) {
      add(s, el('h3', null, 'Tasks whose context is not in the snapshot'));
      const ul = el('ul', 'tasks');
      orphanTasks.forEach((t) => ul.appendChild(taskItem(t)));
      add(s, ul);
    }
    return s;
  }

  function lostSection() {
    if (!lost.length) return null;
    const s = el('section', 'panel lost-cancels');
    s.id = 'lost';
    add(s, el('h2', null, 'Lost cancels'));
    add(s, el('p', 'hint', 'Cancellable contexts garbage-collected without cancel() or close(): a missing try-with-resources.'));
    const table = el('table', 'lost');
    const hr = el('tr');
    ['Kind', 'Created at', 'Age'].forEach((h) => hr.appendChild(el('th', null, h)));
    add(table, add(el('thead'), hr));
    const body = el('tbody');
    for (const l of lost) {
      const tr = el('tr');
      add(tr, el('td', null, str(l.kind)), add(el('td'), l.site ? code(str(l.site), 'site') : el('em', null, 'not sampled')),
        el('td', null, millis(num(l.ageMillis))));
      body.appendChild(tr);
    }
    add(s, add(table, body));
    return s;
  }

  add(app, leakSection(), flameSection(), treeSection(), lostSection());
  document.documentElement.dataset.rendered = 'true';
})();
